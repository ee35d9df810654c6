package scenario_test

import (
	"fmt"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// The scenario changes the CR with JSON patches that a user could equally
// pass to `kubectl patch --type=json`.
func ExampleOperator_ConfigPatch() {
	op := scenario.Druid()
	patch, err := op.ConfigPatch("broker", "druid.broker.cache.sizeInBytes=268435456\n")
	if err != nil {
		panic(err)
	}
	fmt.Println(patch)
	remove, err := op.RemovePatch("router")
	if err != nil {
		panic(err)
	}
	fmt.Println(remove)
	// Output:
	// [{"op":"add","path":"/spec/brokers/0/config/broker.properties","value":"druid.broker.cache.sizeInBytes=268435456\n"}]
	// [{"op":"remove","path":"/spec/routers"}]
}
