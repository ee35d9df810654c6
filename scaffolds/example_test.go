package scaffolds_test

import (
	"fmt"

	"github.com/spf13/afero"
	cfgv3 "sigs.k8s.io/kubebuilder/v4/pkg/config/v3"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/scaffolds"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// Check refuses, before writing anything, to add a node type to a project
// that opbuilder has not initialized.
func ExampleNodeTypeScaffolder_Check() {
	nt := model.NodeType{Name: "broker", Workload: model.Deployment, Port: 8082}
	nt.Default()
	res := resource.Resource{GVK: resource.GVK{Group: "data", Domain: "example.com", Version: "v1alpha1", Kind: "Druid"}}

	s := scaffolds.NewNodeTypeScaffolder(cfgv3.New(), res, nt)
	s.InjectFS(machinery.Filesystem{FS: afero.NewMemMapFs()})
	fmt.Println(s.Check())
	// Output: cmd/main.go does not exist: run `init --plugins go/v4,opbuilder/v1` first
}
