package store_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// One reconcile pass: the CR no longer has a historical node type, so its
// ConfigMap, found through the inventory the previous pass persisted, is
// pruned. (A fake client keeps the example self-contained; the package's
// tests run the same against a real API server.)
func Example() {
	ctx := context.Background()
	owner := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "druid", Namespace: "prod", UID: "cr-uid"}}
	owner.Status.Inventory = []string{"ConfigMap.v1/prod/broker", "ConfigMap.v1/prod/historical"}

	child := func(name string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "prod", UID: types.UID("uid-" + name),
			Labels: keys.OwnerLabels(owner.UID),
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: testv1.GroupVersion.String(), Kind: "Cluster", Name: owner.Name,
				UID: owner.UID, Controller: ptr.To(true),
			}},
		}}
	}
	c := fake.NewClientBuilder().WithScheme(testScheme).
		WithObjects(owner, child("broker"), child("historical")).
		WithStatusSubresource(owner).
		Build()

	// In a controller, c is the event-recording client of runtime/eventclient.
	st, err := store.New(owner, c)
	if err != nil {
		panic(err)
	}
	if err := st.Record(child("broker")); err != nil { // the only desired object
		panic(err)
	}
	res, err := st.Reconcile(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("pruned:", res.Pruned)
	fmt.Println("inventory:", res.Inventory)

	err = c.Get(ctx, client.ObjectKey{Namespace: "prod", Name: "historical"}, &corev1.ConfigMap{})
	fmt.Println("historical exists:", err == nil)
	// Output:
	// pruned: [ConfigMap.v1/prod/historical]
	// inventory: [ConfigMap.v1/prod/broker]
	// historical exists: false
}
