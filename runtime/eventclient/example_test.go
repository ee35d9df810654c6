package eventclient_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// printer is an events.EventRecorder that prints; in a controller use
// mgr.GetEventRecorder("my-operator").
type printer struct{}

func (printer) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	fmt.Printf("%s %s %s: "+note+"\n", append([]any{eventtype, reason, action}, args...)...)
}

func Example() {
	ctx := context.Background()
	owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "my-cr", Namespace: "prod", UID: "1234"}}
	c, err := eventclient.New(
		fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).Build(),
		printer{},
		eventclient.WithOwner(owner), // or leave out: the child's controller owner reference is used
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	child := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "prod"}, Data: map[string]string{"k": "v"}}
	_ = c.Create(ctx, child)
	// An update the API server finds nothing to change in (same
	// resourceVersion afterwards) records no event.
	child.Data["k"] = "v2"
	_ = c.Update(ctx, child)
	_ = c.Delete(ctx, child, eventclient.Prune)
	// Output:
	// Normal Created Create: Created ConfigMap prod/settings
	// Normal Updated Update: Updated ConfigMap prod/settings
	// Normal Pruned Delete: Pruned ConfigMap prod/settings
}
