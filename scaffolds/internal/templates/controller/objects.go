package controller

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
)

var _ machinery.Template = &Objects{}

// Objects writes internal/controller/<kind>_objects.go: the pieces every node
// type of the kind builds its objects from, so that the node types' builders
// stay short and alike. The first node type of the kind writes it; later ones
// leave it alone.
type Objects struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin
}

// SetTemplateDefaults implements machinery.Template.
func (f *Objects) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = ObjectsPath(strings.ToLower(f.Resource.Kind))
	}
	f.TemplateBody = objectsTemplate
	f.IfExistsAction = machinery.SkipFile
	return nil
}

// ObjectsPath returns the path of the objects file of the kind whose
// lowercased name is kind.
func ObjectsPath(kind string) string {
	return filepath.Join("internal", "controller", kind+"_objects.go")
}

// Var is the name of a variable that holds one resource of the kind.
func (f *Objects) Var() string { return varFor(f.Resource.Kind) }

//nolint:lll
const objectsTemplate = `{{ .Boilerplate }}

package controller

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/opbuilder/opbuilder/runtime/keys"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

// The objects below carry no owner reference, standard labels or config
// hash: the opbuilder runtime adds those when it applies them.

const (
	// {{ .Var }}PortName names the port every node type serves on.
	{{ .Var }}PortName = "http"
	// {{ .Var }}ConfigVolumeName names the volume holding a group's ConfigMap.
	{{ .Var }}ConfigVolumeName = "config"
)

// {{ .Var }}ObjectName returns the name of the objects of one group of a node
// type: "<{{ lower .Resource.Kind }}>-<node type>-<group>".
func {{ .Var }}ObjectName({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, nodeType, group string) string {
	return fmt.Sprintf("%s-%s-%s", {{ .Var }}.Name, nodeType, group)
}

// {{ .Var }}Selector returns the labels that select the pods of one group of a node
// type.
func {{ .Var }}Selector({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, nodeType, group string) map[string]string {
	return keys.Merge(
		keys.SelectorLabels({{ .Var }}App, {{ .Var }}.Name, nodeType),
		map[string]string{keys.LabelGroup: group},
	)
}

// {{ .Var }}Image returns the image of a group: its own when it sets one,
// otherwise spec.image.
func {{ .Var }}Image({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, groupImage string) string {
	if groupImage != "" {
		return groupImage
	}
	return {{ .Var }}.Spec.Image
}

// {{ .Var }}PodTemplate returns a pod template that runs container with the
// settings every node type shares: image pull policy, environment, service
// account, node selector, tolerations, and extra pod labels and annotations.
// The selector labels are applied last, so extra labels cannot break them.
func {{ .Var }}PodTemplate({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, selector map[string]string,
	container corev1.Container, volumes ...corev1.Volume) corev1.PodTemplateSpec {
	container.ImagePullPolicy = {{ .Var }}.Spec.ImagePullPolicy
	container.Env = append(slices.Clone({{ .Var }}.Spec.Env), container.Env...)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      keys.Merge({{ .Var }}.Spec.PodMetadata.Labels, selector),
			Annotations: {{ .Var }}.Spec.PodMetadata.Annotations,
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: {{ .Var }}.Spec.ServiceAccountName,
			NodeSelector:       {{ .Var }}.Spec.NodeSelector,
			Tolerations:        {{ .Var }}.Spec.Tolerations,
			Containers:         []corev1.Container{container},
			Volumes:            volumes,
		},
	}
}

// {{ .Var }}ConfigVolume returns the volume holding the ConfigMap configMapName.
// Mounting a ConfigMap is what ties pods to it: the runtime hashes every
// ConfigMap a pod template mounts into the template's config-hash
// annotation, so changing the ConfigMap rolls exactly the pods that use it.
func {{ .Var }}ConfigVolume(configMapName string) corev1.Volume {
	return corev1.Volume{
		Name: {{ .Var }}ConfigVolumeName,
		VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: configMapName},
			},
		},
	}
}

// {{ .Var }}ReadinessProbe returns probe when it is set, otherwise a check that
// port accepts TCP connections.
func {{ .Var }}ReadinessProbe(probe *corev1.Probe, port int32) *corev1.Probe {
	if probe != nil {
		return probe
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)},
		},
		PeriodSeconds: 10,
	}
}

// {{ .Var }}Service returns the Service through which clients reach the pods that
// selector selects on port.
func {{ .Var }}Service({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, name string, selector map[string]string,
	port int32, spec {{ .Resource.ImportAlias }}.ServiceSpec) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace, Annotations: spec.Annotations},
		Spec: corev1.ServiceSpec{
			Type:     spec.Type,
			Selector: selector,
			Ports:    {{ .Var }}ServicePorts(port),
		},
	}
}

// {{ .Var }}ServicePorts returns the ports of a Service in front of pods that
// serve on port.
func {{ .Var }}ServicePorts(port int32) []corev1.ServicePort {
	return []corev1.ServicePort{{"{{"}}Name: {{ .Var }}PortName, Port: port, TargetPort: intstr.FromInt32(port){{"}}"}}
}

// {{ .Var }}PodDisruptionBudget returns the PodDisruptionBudget of the pods that
// selector selects. Without a setting in spec it lets one pod at a time be
// disrupted.
func {{ .Var }}PodDisruptionBudget({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, name string, selector map[string]string,
	spec {{ .Resource.ImportAlias }}.DisruptionSpec) *policyv1.PodDisruptionBudget {
	budget := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace},
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: selector},
			MaxUnavailable: spec.MaxUnavailable,
			MinAvailable:   spec.MinAvailable,
		},
	}
	if spec.MaxUnavailable == nil && spec.MinAvailable == nil {
		one := intstr.FromInt32(1)
		budget.Spec.MaxUnavailable = &one
	}
	return budget
}
`
