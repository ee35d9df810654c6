package model_test

import (
	"fmt"

	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// The names a node type gets in the scaffolded code.
func ExampleNodeType() {
	nt := model.NodeType{Name: "middle-manager", Workload: "statefulset", Port: 8091}
	nt.Default()
	if err := nt.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(nt.SpecType(), nt.FieldName(), nt.JSONName(), nt.Groups)
	// Output: MiddleManagerSpec MiddleManagers middleManagers [default]
}
