package templates

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// MarkerPrefix prefixes every marker opbuilder writes, so that they never
// clash with kubebuilder's own "+kubebuilder:scaffold:" markers.
const MarkerPrefix = "opbuilder:scaffold:"

// Marker values. Each is written once by a template and names the place where
// later commands insert code.
const (
	// OwnedTypesMarker (cmd/main.go) is where each opbuilder kind adds itself
	// to the types the manager caches in full.
	OwnedTypesMarker = "owned-types"
	// NodeTypeFieldsMarker (the kind's types file) is where node types add
	// their field to the kind's spec.
	NodeTypeFieldsMarker = "nodetype-fields"
	// DeploymentOrderMarker (the kind's types file) is where node types append
	// themselves to the default deployment order.
	DeploymentOrderMarker = "deployment-order"
	// KindValidationsMarker (the kind's types file, above the kind's type)
	// is where node types add the kind-level validation rules of their
	// groups.
	KindValidationsMarker = "kind-validations"
	// NodeTypesMarker (the kind's controller) is where node types register
	// with the orchestrator.
	NodeTypesMarker = "nodetypes"
	// SampleNodeTypesMarker (the kind's controller test and sample) is where
	// node types add their groups to the sample resource.
	SampleNodeTypesMarker = "sample-nodetypes"
)

// NodeTypeFieldMarker is the marker, on a node type's field of the kind's
// spec, that records the node type's name: "+opbuilder:nodetype=<name>". It
// is how the plugin knows which node types a kind has without PROJECT.
const NodeTypeFieldMarker = "+opbuilder:nodetype="

// NewMarker returns the opbuilder marker with the given value for the file at
// path (Go or YAML).
func NewMarker(path, value string) machinery.Marker {
	return machinery.NewMarkerWithPrefixFor(MarkerPrefix, path, value)
}

// KindFiles are the paths of the files of one kind that opbuilder writes or
// edits, for the single-group layout.
type KindFiles struct {
	// APIDir is the kind's API package directory, e.g. "api/v1alpha1".
	APIDir string
	// Types is the kind's types file.
	Types string
	// NodeTypeNames is the generated file that names the kind's node
	// types.
	NodeTypeNames string
	// Controller is the kind's controller.
	Controller string
	// Test is the test of the kind's controller.
	Test string
	// Sample is the kind's sample resource.
	Sample string
}

// FilesFor returns the paths of res's files.
func FilesFor(res *resource.Resource) KindFiles {
	r := res.Replacer()
	sample := filepath.Join("config", "samples", "%[version]_%[kind].yaml")
	if res.Group != "" {
		sample = filepath.Join("config", "samples", "%[group]_%[version]_%[kind].yaml")
	}
	return KindFiles{
		APIDir:        filepath.Join("api", res.Version),
		Types:         r.Replace(filepath.Join("api", "%[version]", "%[kind]_types.go")),
		NodeTypeNames: r.Replace(filepath.Join("api", "%[version]", "zz_generated.%[kind]_nodetypes.go")),
		Controller:    r.Replace(filepath.Join("internal", "controller", "%[kind]_controller.go")),
		Test:          r.Replace(filepath.Join("internal", "controller", "%[kind]_controller_test.go")),
		Sample:        r.Replace(sample),
	}
}

// NodeTypeFiles are the paths of the files a node type adds to a kind.
type NodeTypeFiles struct {
	// Types holds the node type's spec, next to the kind's types.
	Types string
	// Builder builds the node type's objects.
	Builder string
	// Test checks that the node type's objects are created.
	Test string
}

// NodeTypeFilesFor returns the paths of the files nt adds to res.
func NodeTypeFilesFor(res *resource.Resource, nt *model.NodeType) NodeTypeFiles {
	base := strings.ToLower(res.Kind) + "_" + nt.FileName()
	return NodeTypeFiles{
		Types:   filepath.Join("api", res.Version, base+"_types.go"),
		Builder: filepath.Join("internal", "controller", base+".go"),
		Test:    filepath.Join("internal", "controller", base+"_test.go"),
	}
}

// MainPath is the path of the manager's entry point.
const MainPath = "cmd/main.go"

// OperatorPath is the path of the file that names the operator.
const OperatorPath = "internal/controller/operator.go"

// SuitePath is the path of the controllers' test suite, which go/v4 writes
// and opbuilder rewrites to run on a real control plane.
const SuitePath = "internal/controller/suite_test.go"
