// Package api holds the templates of a kind's API package: the kind's types,
// the types its node types share, and one file per node type.
package api

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

var _ machinery.Template = &Types{}

// Types writes the kind's types file in place of go/v4's: a data-system
// resource whose spec holds the settings every node type shares and whose
// status embeds the runtime's.
type Types struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Types) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.FilesFor(f.Resource).Types
	}
	f.TemplateBody = typesTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

// Receiver is the receiver name of the kind's methods.
func (f *Types) Receiver() string { return receiverFor(f.Resource.Kind) }

// NodeTypeFieldsMarker is where node types add their field to the spec.
func (f *Types) NodeTypeFieldsMarker() string {
	return templates.NewMarker(f.Path, templates.NodeTypeFieldsMarker).String()
}

// KindValidationsMarker is where node types add their validation rules to
// the kind.
func (f *Types) KindValidationsMarker() string {
	return templates.NewMarker(f.Path, templates.KindValidationsMarker).String()
}

// DeploymentOrderMarker is where node types append themselves to the default
// deployment order.
func (f *Types) DeploymentOrderMarker() string {
	return templates.NewMarker(f.Path, templates.DeploymentOrderMarker).String()
}

//nolint:lll
const typesTemplate = `{{ .Boilerplate }}

package {{ .Resource.Version }}

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"{{ .RuntimeModule }}/status"
)

// {{ .Resource.Kind }}Spec is the desired state of a {{ .Resource.Kind }} cluster: the settings all of
// its node types share, the order in which a change rolls out across them,
// and for every node type the list of its groups. Add node types with
// "create nodetype"; each adds a field below.
type {{ .Resource.Kind }}Spec struct {
	// image is the container image every node type runs unless a group sets
	// its own.
	// +required
	// +kubebuilder:validation:MinLength=1
	Image string ` + "`" + `json:"image"` + "`" + `

	// imagePullPolicy applies to every container.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +kubebuilder:default=IfNotPresent
	// +optional
	ImagePullPolicy corev1.PullPolicy ` + "`" + `json:"imagePullPolicy,omitempty"` + "`" + `

	// serviceAccountName is the service account every pod runs as. Empty means
	// the namespace's default service account.
	// +optional
	ServiceAccountName string ` + "`" + `json:"serviceAccountName,omitempty"` + "`" + `

	// podMetadata holds labels and annotations added to every pod.
	// +optional
	PodMetadata PodMetadata ` + "`" + `json:"podMetadata,omitzero"` + "`" + `

	// env is added to every container.
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []corev1.EnvVar ` + "`" + `json:"env,omitempty"` + "`" + `

	// nodeSelector restricts every pod to nodes that carry these labels.
	// +optional
	NodeSelector map[string]string ` + "`" + `json:"nodeSelector,omitempty"` + "`" + `

	// tolerations let every pod run on nodes with matching taints.
	// +listType=atomic
	// +optional
	Tolerations []corev1.Toleration ` + "`" + `json:"tolerations,omitempty"` + "`" + `

	// config holds configuration files every node type shares, file name to
	// content, such as a common.runtime.properties. They are mounted into
	// every pod, and changing one rolls every node type, one after the other
	// in the deployment order.
	// +optional
	Config map[string]string ` + "`" + `json:"config,omitempty"` + "`" + `

	// deploymentOrder lists node types in the order a change rolls out: the
	// pods of a node type are only updated once every node type before it is
	// fully rolled out. Node types it leaves out follow in the default order
	// (see DeploymentOrder).
	// +listType=set
	// +optional
	DeploymentOrder []{{ .Resource.Kind }}NodeType ` + "`" + `json:"deploymentOrder,omitempty"` + "`" + `

	{{ .NodeTypeFieldsMarker }}
}

// {{ .Resource.Kind }}Status is the observed state of a {{ .Resource.Kind }}. The opbuilder runtime
// keeps all of it: the Ready condition, one entry per node type, and the
// inventory of the objects it created.
type {{ .Resource.Kind }}Status struct {
	status.ClusterStatus ` + "`" + `json:",inline"` + "`" + `
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
{{- if not .Resource.IsRegularPlural }}
// +kubebuilder:resource:path={{ .Resource.Plural }}
{{- end }}
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=` + "`" + `.status.conditions[?(@.type=="Ready")].status` + "`" + `
// +kubebuilder:printcolumn:name="Node Types",type=string,JSONPath=` + "`" + `.status.readyNodeTypes` + "`" + `,description="node types ready of those the {{ .Resource.Kind }} runs"
// +kubebuilder:printcolumn:name="Rolling",type=string,JSONPath=` + "`" + `.status.rollingNodeType` + "`" + `,description="the node type rolling out now, or blocked"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=` + "`" + `.metadata.creationTimestamp` + "`" + `
// The names of a group's objects must fit the API server's limits; each
// node type checks it for its groups here.
{{ .KindValidationsMarker }}

// {{ .Resource.Kind }} is the Schema for the {{ .Resource.Plural }} API.
type {{ .Resource.Kind }} struct {
	metav1.TypeMeta ` + "`" + `json:",inline"` + "`" + `

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta ` + "`" + `json:"metadata,omitzero"` + "`" + `

	// spec defines the desired state of {{ .Resource.Kind }}
	// +required
	Spec {{ .Resource.Kind }}Spec ` + "`" + `json:"spec"` + "`" + `

	// status defines the observed state of {{ .Resource.Kind }}
	// +optional
	Status {{ .Resource.Kind }}Status ` + "`" + `json:"status,omitzero"` + "`" + `
}

// GetClusterStatus returns the part of the status the opbuilder runtime
// keeps.
func ({{ .Receiver }} *{{ .Resource.Kind }}) GetClusterStatus() *status.ClusterStatus {
	return &{{ .Receiver }}.Status.ClusterStatus
}

// DeploymentOrder returns the node types in the order a change rolls out:
// spec.deploymentOrder when it is set, otherwise the order in which the node
// types were added to {{ .Resource.Kind }}.
func ({{ .Receiver }} *{{ .Resource.Kind }}) DeploymentOrder() []string {
	if len({{ .Receiver }}.Spec.DeploymentOrder) > 0 {
		order := make([]string, len({{ .Receiver }}.Spec.DeploymentOrder))
		for i, name := range {{ .Receiver }}.Spec.DeploymentOrder {
			order[i] = string(name)
		}
		return order
	}
	return []string{
		{{ .DeploymentOrderMarker }}
	}
}

// +kubebuilder:object:root=true

// {{ .Resource.Kind }}List contains a list of {{ .Resource.Kind }}
type {{ .Resource.Kind }}List struct {
	metav1.TypeMeta ` + "`" + `json:",inline"` + "`" + `
	metav1.ListMeta ` + "`" + `json:"metadata,omitzero"` + "`" + `
	Items           []{{ .Resource.Kind }} ` + "`" + `json:"items"` + "`" + `
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &{{ .Resource.Kind }}{}, &{{ .Resource.Kind }}List{})
		return nil
	})
}
`
