package api

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
)

var _ machinery.Template = &SharedTypes{}

// SharedTypesFile is the name, inside an API package, of the file that holds
// the types node types share.
const SharedTypesFile = "opbuilder_types.go"

// SharedTypes writes the types that the node types of every opbuilder kind
// in an API package share: pod metadata, storage, Service and disruption
// settings. An existing file is left alone, so a second kind in the same
// package reuses it.
type SharedTypes struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin
}

// SetTemplateDefaults implements machinery.Template.
func (f *SharedTypes) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = filepath.Join("api", f.Resource.Version, SharedTypesFile)
	}
	f.TemplateBody = sharedTypesTemplate
	f.IfExistsAction = machinery.SkipFile
	return nil
}

// receiverFor returns the receiver name of a kind's methods: its first
// letter, lowercased.
func receiverFor(kind string) string { return strings.ToLower(kind[:1]) }

//nolint:lll
const sharedTypesTemplate = `{{ .Boilerplate }}

package {{ .Resource.Version }}

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// PodMetadata holds labels and annotations added to pods.
type PodMetadata struct {
	// labels are added to every pod. The labels the operator sets itself take
	// precedence.
	// +optional
	Labels map[string]string ` + "`" + `json:"labels,omitempty"` + "`" + `

	// annotations are added to every pod.
	// +optional
	Annotations map[string]string ` + "`" + `json:"annotations,omitempty"` + "`" + `
}

// StorageSpec is the data volume that each pod of a StatefulSet gets.
type StorageSpec struct {
	// size of each pod's volume. It can grow when the StorageClass allows
	// volume expansion: the operator grows every existing volume, and the
	// group reports StorageResizing until they have the new size. It cannot
	// shrink: the operator refuses a smaller size and reports it.
	// +required
	Size resource.Quantity ` + "`" + `json:"size"` + "`" + `

	// retentionPolicy says whether the volumes are deleted when the group's
	// StatefulSet is deleted (whenDeleted) or scaled down (whenScaled). Both
	// default to Retain, so the data outlives a removed group.
	// +optional
	RetentionPolicy *appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy ` + "`" + `json:"retentionPolicy,omitempty"` + "`" + `

	// storageClassName is the StorageClass of the volumes. Empty means the
	// cluster's default StorageClass.
	// +optional
	StorageClassName *string ` + "`" + `json:"storageClassName,omitempty"` + "`" + `
}

// ServiceSpec configures the Service through which clients reach a group.
type ServiceSpec struct {
	// type of the Service.
	// +kubebuilder:validation:Enum=ClusterIP;NodePort;LoadBalancer
	// +kubebuilder:default=ClusterIP
	// +optional
	Type corev1.ServiceType ` + "`" + `json:"type,omitempty"` + "`" + `

	// annotations of the Service, for example to configure a cloud load
	// balancer.
	// +optional
	Annotations map[string]string ` + "`" + `json:"annotations,omitempty"` + "`" + `
}

// DisruptionSpec configures the PodDisruptionBudget of a group: how many of
// its pods a voluntary disruption, such as a node drain, may take down at
// once. Without either field, one pod at a time.
// +kubebuilder:validation:XValidation:rule="!(has(self.maxUnavailable) && has(self.minAvailable))",message="set maxUnavailable or minAvailable, not both"
type DisruptionSpec struct {
	// maxUnavailable is the number or percentage of the group's pods that may
	// be unavailable.
	// +optional
	MaxUnavailable *intstr.IntOrString ` + "`" + `json:"maxUnavailable,omitempty"` + "`" + `

	// minAvailable is the number or percentage of the group's pods that must
	// stay available.
	// +optional
	MinAvailable *intstr.IntOrString ` + "`" + `json:"minAvailable,omitempty"` + "`" + `
}
`
