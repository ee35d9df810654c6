package orchestrate_test

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// buildBroker is a node type's build function as an operator writes it: one
// group holding the broker's ConfigMap, its Deployment and a Service. The
// runtime adds owner references, labels, the config hash and a
// PodDisruptionBudget.
func buildBroker(_ context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
	selector := keys.SelectorLabels("druid", cr.Name, "broker")
	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cr.Name + "-broker"},
		Data:       map[string]string{"runtime.properties": "druid.port=8082"},
	}
	broker := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: cr.Name + "-broker"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: selector},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:         "broker",
					Image:        cr.Spec.Image,
					VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/opt/druid/conf"}},
				}}, Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{
					ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: config.Name}},
				}}}},
			},
		},
	}
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: cr.Name + "-broker"},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Name: "http", Port: 8082}}},
	}
	return []orchestrate.Group{{Objects: []client.Object{config, broker, service}}}, nil
}

func buildHistorical(context.Context, *testv1.Cluster) ([]orchestrate.Group, error) {
	// One group per tier, for example {Name: "hot", ...} and {Name: "cold", ...},
	// each with its own StatefulSet; they roll hot first, then cold.
	return nil, nil
}

// An operator registers its node types once, wires the controller, and
// calls Reconcile from its reconciler. (Not run: the controller's field
// index needs an API server; the integration tests run exactly this wiring.)
func Example() {
	scheme := operatorScheme()
	// In an operator: ctrl.GetConfigOrDie(), and Cache: cachescope.Options(...).
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:6443"}, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := orchestrate.New(mgr, orchestrate.Config{App: "druid", FieldOwner: "druid-operator"},
		orchestrate.NodeType[*testv1.Cluster]{Name: "historical", Build: buildHistorical},
		orchestrate.NodeType[*testv1.Cluster]{Name: "broker", Build: buildBroker,
			Disruption: orchestrate.Disruption{MaxUnavailable: ptr.To(intOrString(2))}},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// nil: a reconciler that reads the CR and calls o.Reconcile. An operator
	// with its own reconciler passes it and calls o.Reconcile(ctx, cr).
	if err := o.SetupWithManager(mgr, nil); err != nil {
		fmt.Println(err)
		return
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Println(err)
	}
}

// New refuses what would fail later, such as a node type registered twice.
func ExampleNew() {
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:6443"}, ctrl.Options{
		Scheme:  operatorScheme(),
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = orchestrate.New(mgr, orchestrate.Config{App: "druid", FieldOwner: "druid-operator"},
		orchestrate.NodeType[*testv1.Cluster]{Name: "broker", Build: buildBroker},
		orchestrate.NodeType[*testv1.Cluster]{Name: "broker", Build: buildBroker},
	)
	fmt.Println(err)
	// Output: orchestrate: node type "broker" is registered twice
}

// operatorScheme knows client-go's kinds and the operator's CR, as the
// scheme of a scaffolded cmd/main.go does.
func operatorScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		panic(err)
	}
	if err := testv1.AddToScheme(scheme); err != nil {
		panic(err)
	}
	return scheme
}
