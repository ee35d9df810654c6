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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// GroupSpec holds the settings every group of every node type has. Each node
// type's group type embeds it, so a field added here reaches every node
// type. A setting only one node type needs belongs in that node type's own
// type instead (<kind>_<node type>_types.go), next to its port and replicas.
type GroupSpec struct {
	// name of the group, for example "hot". It is part of the names of the
	// group's objects.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=` + "`" + `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$` + "`" + `
	Name string ` + "`" + `json:"name"` + "`" + `

	// image overrides spec.image for this group.
	// +optional
	Image string ` + "`" + `json:"image,omitempty"` + "`" + `

	// resources are the compute resources of the group's main container.
	// +optional
	Resources corev1.ResourceRequirements ` + "`" + `json:"resources,omitzero"` + "`" + `

	// config holds the group's configuration files, file name to content. They
	// are mounted into every pod of the group, and changing one rolls the
	// group's pods.
	// +optional
	Config map[string]string ` + "`" + `json:"config,omitempty"` + "`" + `

	// service configures the Service through which clients reach the group.
	// +optional
	Service ServiceSpec ` + "`" + `json:"service,omitzero"` + "`" + `

	// podDisruptionBudget limits voluntary disruptions of the group.
	// +optional
	PodDisruptionBudget DisruptionSpec ` + "`" + `json:"podDisruptionBudget,omitzero"` + "`" + `

	// autoscaling lets a HorizontalPodAutoscaler scale the group between
	// minReplicas and maxReplicas. replicas is then ignored: the autoscaler
	// owns it. Removing autoscaling hands replicas back without restarting a
	// pod.
	// +optional
	Autoscaling *AutoscalingSpec ` + "`" + `json:"autoscaling,omitempty"` + "`" + `

	// readinessProbe replaces the default readiness probe, a TCP check of
	// the group's port.
	// +optional
	ReadinessProbe *corev1.Probe ` + "`" + `json:"readinessProbe,omitempty"` + "`" + `

	// livenessProbe is the liveness probe of the main container. By default
	// there is none.
	// +optional
	LivenessProbe *corev1.Probe ` + "`" + `json:"livenessProbe,omitempty"` + "`" + `

	// startupProbe is the startup probe of the main container, for nodes
	// that take long to start. By default there is none.
	// +optional
	StartupProbe *corev1.Probe ` + "`" + `json:"startupProbe,omitempty"` + "`" + `

	// podTemplate is merged over the pod the operator builds for the group,
	// the way ` + "`" + `kubectl patch --type strategic` + "`" + ` merges: containers,
	// initContainers, volumes, env and volume mounts by name, other fields
	// replaced. Use it to add sidecars, init containers, volumes, affinity,
	// topology spread constraints, a security context, a priority class or
	// image pull secrets.
	// +optional
	PodTemplate *PodTemplateOverride ` + "`" + `json:"podTemplate,omitempty"` + "`" + `
}

// PodTemplateOverride is a pod template merged over the one the operator
// builds. Its spec has no schema in the CRD: a full pod schema per group
// would make the CRD too large for ` + "`" + `kubectl apply` + "`" + `. The API server checks
// the merged pod when the operator applies its workload, and the group
// reports what it refused.
// +kubebuilder:validation:XValidation:rule="!has(self.metadata) || !has(self.metadata.labels) || !('app.kubernetes.io/name' in self.metadata.labels || 'app.kubernetes.io/instance' in self.metadata.labels || 'app.kubernetes.io/component' in self.metadata.labels || 'opbuilder.io/group' in self.metadata.labels)",message="podTemplate.metadata.labels may not set app.kubernetes.io/name, instance or component, or opbuilder.io/group: the operator selects the group's pods by them; use another label"
type PodTemplateOverride struct {
	// metadata holds labels and annotations added to the group's pods.
	// +optional
	Metadata PodMetadata ` + "`" + `json:"metadata,omitzero"` + "`" + `

	// spec is merged over the pod spec the operator builds.
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Spec corev1.PodSpec ` + "`" + `json:"spec,omitzero"` + "`" + `
}

// AutoscalingSpec configures the HorizontalPodAutoscaler of a group.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",message="autoscaling.minReplicas must not be above maxReplicas"
type AutoscalingSpec struct {
	// minReplicas is the fewest pods the autoscaler runs.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 ` + "`" + `json:"minReplicas,omitempty"` + "`" + `

	// maxReplicas is the most pods the autoscaler runs.
	// +kubebuilder:validation:Minimum=1
	// +required
	MaxReplicas int32 ` + "`" + `json:"maxReplicas"` + "`" + `

	// targetCPUUtilizationPercentage is the average CPU use the autoscaler
	// aims at, as a percentage of the pods' CPU request. Without it and
	// without metrics, 80.
	// +kubebuilder:validation:Minimum=1
	// +optional
	TargetCPUUtilizationPercentage *int32 ` + "`" + `json:"targetCPUUtilizationPercentage,omitempty"` + "`" + `

	// metrics are further autoscaling/v2 metrics to scale on, each a
	// MetricSpec such as a pods or an external metric. They have no schema
	// in the CRD, which would triple its size; the operator decodes them and
	// reports one it cannot read, and the API server checks the rest in the
	// HorizontalPodAutoscaler.
	// +listType=atomic
	// +optional
	Metrics []runtime.RawExtension ` + "`" + `json:"metrics,omitempty"` + "`" + `
}

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
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0",message="storage.size may not shrink: a volume cannot be made smaller. Keep the size, or add a group with the smaller size and move the data to it"
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
