package builder_test

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// discard is an events.EventRecorder that drops events; in a controller use
// mgr.GetEventRecorder("my-operator").
type discard struct{}

func (discard) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}

func Example() {
	ctx := context.Background()
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = testv1.AddToScheme(s)
	// The custom resource being reconciled, as read from the API server.
	owner := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "prod", Namespace: "data", UID: "6b1f6a0e-0000-4000-8000-000000000001"}}
	// In a controller: mgr.GetClient(), whose reads come from the cache.
	// Here a fake client stands in for it.
	c := fake.NewClientBuilder().WithScheme(s).WithRESTMapper(testrestmapper.TestOnlyStaticRESTMapper(s)).WithObjects(owner).Build()

	sel := keys.SelectorLabels("druid", owner.Name, "broker")
	desired := []client.Object{
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "prod-broker"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: sel},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "broker", Image: "apache/druid:33.0.0",
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: "prod-broker"},
						}}},
					}}},
				},
			},
		},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "prod-broker"}, Data: map[string]string{"DRUID_XMX": "1g"}},
	}

	reconcile := func() {
		b, err := builder.New(
			builder.WithClient(c),
			builder.WithOwner(owner),
			builder.WithRecorder(discard{}),
			builder.WithFieldOwner("druid-operator"),
			builder.WithApp("druid"),
			builder.WithComponent("broker"),
			builder.WithObjects(desired...),
		)
		if err != nil {
			fmt.Println(err)
			return
		}
		results, err := b.ReconcileAll(ctx) // ConfigMap first, then the Deployment
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range results {
			fmt.Printf("%T %s: %s\n", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	reconcile()
	reconcile() // steady state: nothing is written

	dep := &appsv1.Deployment{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: "data", Name: "prod-broker"}, dep); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("controller:", metav1.GetControllerOf(dep).Name)
	fmt.Println("owner label:", dep.Labels[keys.LabelOwnerUID])
	fmt.Println("config hash set:", dep.Spec.Template.Annotations[keys.AnnotationConfigHash] != "")
	// Output:
	// *v1.ConfigMap prod-broker: Created
	// *v1.Deployment prod-broker: Created
	// *v1.ConfigMap prod-broker: Unchanged
	// *v1.Deployment prod-broker: Unchanged
	// controller: prod
	// owner label: 6b1f6a0e-0000-4000-8000-000000000001
	// config hash set: true
}
