package cachescope_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
)

// The cache options an operator's main passes to ctrl.Options.Cache, and
// what each informer selects.
func Example() {
	opts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithManagedBy("druid-operator"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("children:         %q\n", opts.DefaultLabelSelector.String())
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*corev1.ConfigMap); ok {
			fmt.Printf("ConfigMaps:       %q\n", by.Label.String())
		}
	}
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*testv1.Cluster); ok {
			fmt.Printf("Clusters (owner): everything=%v\n", by.Label.Empty())
		}
	}
	// Output:
	// children:         "app.kubernetes.io/managed-by=druid-operator,opbuilder.io/owner-uid"
	// ConfigMaps:       "opbuilder.io/watch=true"
	// Clusters (owner): everything=true
}
