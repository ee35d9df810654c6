package api

import (
	"fmt"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &NodeTypeSpec{}

// NodeTypeSpec writes the typed spec of one group of a node type, in a file
// of its own next to the kind's types.
type NodeTypeSpec struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	NodeType *model.NodeType
}

// SetTemplateDefaults implements machinery.Template.
func (f *NodeTypeSpec) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.NodeTypeFilesFor(f.Resource, f.NodeType).Types
	}
	f.TemplateBody = nodeTypeSpecTemplate
	f.IfExistsAction = machinery.Error
	return nil
}

//nolint:lll
const nodeTypeSpecTemplate = `{{ .Boilerplate }}

package {{ .Resource.Version }}

// {{ .NodeType.SpecType }} is one group of {{ .Resource.Kind }}'s {{ .NodeType.Name }} nodes. A {{ .Resource.Kind }} lists
// its {{ .NodeType.Name }} groups in spec.{{ .NodeType.JSONName }}, for example to run tiers with different
// hardware; each group runs in a {{ if .NodeType.IsStatefulSet }}StatefulSet{{ else }}Deployment{{ end }} of its own, with its own ConfigMap,
// Services and PodDisruptionBudget. The settings every node type's groups
// have are in GroupSpec; the fields below are the {{ .NodeType.Name }} nodes' own.
type {{ .NodeType.SpecType }} struct {
	GroupSpec ` + "`" + `json:",inline"` + "`" + `

	// replicas is the number of pods in the group, unless autoscaling is
	// set.
	// +kubebuilder:default={{ .NodeType.Replicas }}
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas *int32 ` + "`" + `json:"replicas,omitempty"` + "`" + `

	// port the {{ .NodeType.Name }} nodes serve on.
	// +kubebuilder:default={{ .NodeType.Port }}
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 ` + "`" + `json:"port,omitempty"` + "`" + `
{{- if .NodeType.HasStorage }}

	// storage is the data volume that each pod of the group gets.
	// +kubebuilder:default={size: "{{ .NodeType.Storage }}"}
	// +optional
	Storage StorageSpec ` + "`" + `json:"storage,omitzero"` + "`" + `
{{- end }}
}
`

var _ machinery.Inserter = &NodeTypeField{}

// NodeTypeField adds a node type to the kind's types: the field that lists
// its groups, and its name at the end of the default deployment order.
type NodeTypeField struct {
	machinery.ResourceMixin

	NodeType *model.NodeType
}

// GetPath implements machinery.Builder.
func (f *NodeTypeField) GetPath() string { return templates.FilesFor(f.Resource).Types }

// GetIfExistsAction implements machinery.Builder.
func (*NodeTypeField) GetIfExistsAction() machinery.IfExistsAction { return machinery.OverwriteFile }

// GetMarkers implements machinery.Inserter.
func (f *NodeTypeField) GetMarkers() []machinery.Marker {
	return []machinery.Marker{
		templates.NewMarker(f.GetPath(), templates.NodeTypeFieldsMarker),
		templates.NewMarker(f.GetPath(), templates.DeploymentOrderMarker),
		templates.NewMarker(f.GetPath(), templates.KindValidationsMarker),
	}
}

// nameLengthRule returns the node type's nameLengthRule.
func (f *NodeTypeField) nameLengthRule() string {
	workload, limit := "Service", 63
	if f.NodeType.IsStatefulSet() {
		workload, limit = "StatefulSet", 52
	}
	// "-<node type>-" takes the rest.
	room := limit - len(f.NodeType.Name) - 2
	return fmt.Sprintf(nameLengthRule, f.NodeType.JSONName(), room, f.NodeType.Name, workload, limit)
}

const nodeTypeFieldFragment = `// %[1]s lists the groups of %[2]s nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// %[3]s%[2]s
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=%[6]d
	// +optional
	%[4]s []%[5]s ` + "`" + `json:"%[1]s,omitempty"` + "`" + `

	`

// maxGroups bounds a node type's groups. The bound lets the API server
// accept the CEL rules that look at every group within its cost budget.
const maxGroups = 32

// nameLengthRule is the kind-level rule that a group's objects, named
// "<kind name>-<node type>-<group>", have names the API server accepts: at
// most 63 characters for a Service, and 52 for a StatefulSet, whose pods'
// controller-revision-hash label appends 11 characters to its name.
const nameLengthRule = "// +kubebuilder:validation:XValidation:rule=\"!has(self.spec.%[1]s) || " +
	"self.spec.%[1]s.all(g, size(self.metadata.name) + size(g.name) <= %[2]d)\"," +
	"message=\"metadata.name and a spec.%[1]s[].name together may have at most %[2]d characters: " +
	"the group's objects are named <name>-%[3]s-<group>, and a %[4]s's name at most %[5]d; " +
	"shorten the name or the group's name\"\n"

// GetCodeFragments implements machinery.Inserter.
func (f *NodeTypeField) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{
		templates.NewMarker(f.GetPath(), templates.NodeTypeFieldsMarker): {
			fmt.Sprintf(nodeTypeFieldFragment, f.NodeType.JSONName(), f.NodeType.Name,
				templates.NodeTypeFieldMarker, f.NodeType.FieldName(), f.NodeType.SpecType(), maxGroups),
		},
		templates.NewMarker(f.GetPath(), templates.KindValidationsMarker): {f.nameLengthRule()},
		templates.NewMarker(f.GetPath(), templates.DeploymentOrderMarker): {
			fmt.Sprintf("%q,\n", f.NodeType.Name),
		},
	}
}
