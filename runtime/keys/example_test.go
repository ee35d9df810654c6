package keys_test

import (
	"fmt"
	"maps"
	"slices"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

func ExampleStandardLabels() {
	labels := keys.Merge(
		keys.StandardLabels("druid", "prod", "broker", "druid-operator"),
		keys.OwnerLabels("6b1f6a0e-0000-4000-8000-000000000001"),
	)
	if err := keys.ValidateLabels(labels); err != nil {
		fmt.Println(err)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		fmt.Printf("%s=%s\n", k, labels[k])
	}
	// Output:
	// app.kubernetes.io/component=broker
	// app.kubernetes.io/instance=prod
	// app.kubernetes.io/managed-by=druid-operator
	// app.kubernetes.io/name=druid
	// opbuilder.io/owner-uid=6b1f6a0e-0000-4000-8000-000000000001
}
