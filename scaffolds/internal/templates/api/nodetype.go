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

import (
	corev1 "k8s.io/api/core/v1"
)

// {{ .NodeType.SpecType }} is one group of {{ .Resource.Kind }}'s {{ .NodeType.Name }} nodes. A {{ .Resource.Kind }} lists
// its {{ .NodeType.Name }} groups in spec.{{ .NodeType.JSONName }}, for example to run tiers with different
// hardware; each group runs in a {{ if .NodeType.IsStatefulSet }}StatefulSet{{ else }}Deployment{{ end }} of its own, with its own ConfigMap,
// Services and PodDisruptionBudget.
type {{ .NodeType.SpecType }} struct {
	// name of the group, for example "hot". It is part of the names of the
	// group's objects.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=` + "`" + `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` + "`" + `
	Name string ` + "`" + `json:"name"` + "`" + `

	// replicas is the number of pods in the group.
	// +kubebuilder:default={{ .NodeType.Replicas }}
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas *int32 ` + "`" + `json:"replicas,omitempty"` + "`" + `

	// image overrides spec.image for this group.
	// +optional
	Image string ` + "`" + `json:"image,omitempty"` + "`" + `

	// resources are the compute resources of the {{ .NodeType.Name }} container.
	// +optional
	Resources corev1.ResourceRequirements ` + "`" + `json:"resources,omitzero"` + "`" + `

	// config holds the group's configuration files, file name to content. They
	// are mounted into every pod of the group, and changing one rolls the
	// group's pods.
	// +optional
	Config map[string]string ` + "`" + `json:"config,omitempty"` + "`" + `

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

	// service configures the Service through which clients reach the group.
	// +optional
	Service ServiceSpec ` + "`" + `json:"service,omitzero"` + "`" + `

	// podDisruptionBudget limits voluntary disruptions of the group.
	// +optional
	PodDisruptionBudget DisruptionSpec ` + "`" + `json:"podDisruptionBudget,omitzero"` + "`" + `

	// readinessProbe replaces the default readiness probe, a TCP check of
	// port.
	// +optional
	ReadinessProbe *corev1.Probe ` + "`" + `json:"readinessProbe,omitempty"` + "`" + `

	// livenessProbe is the liveness probe of the {{ .NodeType.Name }} container. By default there
	// is none.
	// +optional
	LivenessProbe *corev1.Probe ` + "`" + `json:"livenessProbe,omitempty"` + "`" + `
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
	}
}

const nodeTypeFieldFragment = `// %[1]s lists the groups of %[2]s nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// %[3]s%[2]s
	// +listType=map
	// +listMapKey=name
	// +optional
	%[4]s []%[5]s ` + "`" + `json:"%[1]s,omitempty"` + "`" + `

	`

// GetCodeFragments implements machinery.Inserter.
func (f *NodeTypeField) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{
		templates.NewMarker(f.GetPath(), templates.NodeTypeFieldsMarker): {
			fmt.Sprintf(nodeTypeFieldFragment, f.NodeType.JSONName(), f.NodeType.Name,
				templates.NodeTypeFieldMarker, f.NodeType.FieldName(), f.NodeType.SpecType()),
		},
		templates.NewMarker(f.GetPath(), templates.DeploymentOrderMarker): {
			fmt.Sprintf("%q,\n", f.NodeType.Name),
		},
	}
}
