package plugin_test

import (
	"fmt"

	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"

	"github.com/opbuilder/opbuilder/plugin"
)

// The plugin's key is the same in-process and as an external plugin.
func ExamplePlugin() {
	fmt.Println(kbplugin.KeyFor(plugin.Plugin{}))
	// Output: opbuilder/v1
}

// A CLI built on kubebuilder's pkg/cli adds create nodetype under its
// create command.
func ExampleNewCreateNodeTypeCommand() {
	cmd := plugin.NewCreateNodeTypeCommand("kubebuilder-opbuilder")
	fmt.Println(cmd.Use, "-", cmd.Short)
	// Output: nodetype - Add a node type to a kind created with opbuilder
}
