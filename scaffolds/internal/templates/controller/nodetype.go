package controller

import (
	"fmt"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &NodeTypeBuilder{}

// NodeTypeBuilder writes internal/controller/<kind>_<node type>.go: the
// function that builds the objects of each group of the node type, and the
// node type's registration.
type NodeTypeBuilder struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	NodeType *model.NodeType
	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *NodeTypeBuilder) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.NodeTypeFilesFor(f.Resource, f.NodeType).Builder
	}
	f.TemplateBody = nodeTypeBuilderTemplate
	f.IfExistsAction = machinery.Error
	return nil
}

// Var is the name of a variable that holds one resource of the kind.
func (f *NodeTypeBuilder) Var() string { return varFor(f.Resource.Kind) }

// Prefix starts the names of the node type's identifiers, e.g.
// "druidHistorical", so that node types of two kinds never clash.
func (f *NodeTypeBuilder) Prefix() string { return f.Var() + f.NodeType.GoName() }

// App is the application name, the lowercased kind.
func (f *NodeTypeBuilder) App() string { return strings.ToLower(f.Resource.Kind) }

//nolint:lll
const nodeTypeBuilderTemplate = `{{ .Boilerplate }}

package controller

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"{{ .RuntimeModule }}/orchestrate"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)
{{- if .NodeType.IsStatefulSet }}

// A StatefulSet recreated under its name can inherit its predecessor's
// status; the runtime reads the revision that status names to tell whether
// it still describes the pods.
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get
{{- end }}
{{- if .NodeType.HasStorage }}

// Growing spec.{{ .NodeType.JSONName }}[].storage.size grows the existing volumes: the
// runtime lists the StatefulSet's claims and patches their storage request.
// +kubebuilder:rbac:groups=core,resources=persistentvolumeclaims,verbs=list;patch
{{- end }}

const (
	// {{ .Prefix }}Name is the name of the node type: the app.kubernetes.io/component
	// label of its objects and its name in the deployment order and the status.
	{{ .Prefix }}Name = "{{ .NodeType.Name }}"
	// {{ .Prefix }}ConfigDir is where the {{ .NodeType.Name }} pods find the files of
	// spec.{{ .NodeType.JSONName }}[].config.
	{{ .Prefix }}ConfigDir = "/etc/{{ .App }}/{{ .NodeType.Name }}"
{{- if .NodeType.HasStorage }}
	// {{ .Prefix }}DataVolume names each {{ .NodeType.Name }} pod's data volume, and
	// {{ .Prefix }}DataDir is where it is mounted.
	{{ .Prefix }}DataVolume = "data"
	{{ .Prefix }}DataDir    = "/var/lib/{{ .App }}"
{{- end }}
)

// {{ .Prefix }}NodeType registers the {{ .NodeType.Name }} nodes of a {{ .Resource.Kind }} with the
// orchestrator.
func {{ .Prefix }}NodeType() orchestrate.NodeType[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}] {
	return orchestrate.NodeType[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}]{
		Name:  {{ .Prefix }}Name,
		Build: build{{ .Resource.Kind }}{{ .NodeType.FieldName }},
	}
}

// build{{ .Resource.Kind }}{{ .NodeType.FieldName }} returns the objects of every group in spec.{{ .NodeType.JSONName }}. The
// groups of a node type roll out one at a time, in the order listed.
func build{{ .Resource.Kind }}{{ .NodeType.FieldName }}(_ context.Context, {{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}) ([]orchestrate.Group, error) {
	groups := make([]orchestrate.Group, 0, len({{ .Var }}.Spec.{{ .NodeType.FieldName }}))
	for _, group := range {{ .Var }}.Spec.{{ .NodeType.FieldName }} {
		groups = append(groups, orchestrate.Group{
			Name:    group.Name,
			Objects: build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group({{ .Var }}, group),
		})
	}
	return groups, nil
}

// build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group returns the objects of one {{ .NodeType.Name }} group: a ConfigMap
// with the group's configuration, the {{ if .NodeType.IsStatefulSet }}StatefulSet{{ else }}Deployment{{ end }} that runs it,
{{- if .NodeType.IsStatefulSet }}
// a headless Service that gives each of its pods a stable DNS name,
{{- end }}
// the Service clients use, and a PodDisruptionBudget.
func build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, group {{ .Resource.ImportAlias }}.{{ .NodeType.SpecType }}) []client.Object {
	name := {{ .Var }}ObjectName({{ .Var }}, {{ .Prefix }}Name, group.Name)
	selector := {{ .Var }}Selector({{ .Var }}, {{ .Prefix }}Name, group.Name)

	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace},
		Data:       group.Config,
	}

	container := corev1.Container{
		Name:           {{ .Prefix }}Name,
		Image:          {{ .Var }}Image({{ .Var }}, group.Image),
		Ports:          []corev1.ContainerPort{{"{{"}}Name: {{ .Var }}PortName, ContainerPort: group.Port{{"}}"}},
		Resources:      group.Resources,
		ReadinessProbe: {{ .Var }}ReadinessProbe(group.ReadinessProbe, group.Port),
		LivenessProbe:  group.LivenessProbe,
		VolumeMounts: []corev1.VolumeMount{
			{Name: {{ .Var }}ConfigVolumeName, MountPath: {{ .Prefix }}ConfigDir, ReadOnly: true},
{{- if .NodeType.HasStorage }}
			{Name: {{ .Prefix }}DataVolume, MountPath: {{ .Prefix }}DataDir},
{{- end }}
		},
	}
	// Mounting the ConfigMap ties the pods to it: a change of the group's
	// config rolls this group's pods, and no others.
	template := {{ .Var }}PodTemplate({{ .Var }}, selector, container, {{ .Var }}ConfigVolume(config.Name))
{{- if .NodeType.IsStatefulSet }}

	headless := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-headless", Namespace: {{ .Var }}.Namespace},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// Pods can find each other while they start.
			PublishNotReadyAddresses: true,
			Selector:                 selector,
			Ports:                    {{ .Var }}ServicePorts(group.Port),
		},
	}

	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: headless.Name,
			Replicas:    group.Replicas,
			Selector:    &metav1.LabelSelector{MatchLabels: selector},
			Template:    template,
{{- if .NodeType.HasStorage }}
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{"{{"}}
				ObjectMeta: metav1.ObjectMeta{Name: {{ .Prefix }}DataVolume},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: group.Storage.StorageClassName,
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: group.Storage.Size},
					},
				},
			{{"}}"}},
			PersistentVolumeClaimRetentionPolicy: group.Storage.RetentionPolicy,
{{- end }}
		},
	}

	return []client.Object{
		config,
		statefulSet,
		headless,
		{{ .Var }}Service({{ .Var }}, name, selector, group.Port, group.Service),
		{{ .Var }}PodDisruptionBudget({{ .Var }}, name, selector, group.PodDisruptionBudget),
	}
{{- else }}

	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: group.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: template,
		},
	}

	return []client.Object{
		config,
		deployment,
		{{ .Var }}Service({{ .Var }}, name, selector, group.Port, group.Service),
		{{ .Var }}PodDisruptionBudget({{ .Var }}, name, selector, group.PodDisruptionBudget),
	}
{{- end }}
}
`

var _ machinery.Inserter = &NodeTypeRegistration{}

// NodeTypeRegistration registers a node type in the kind's controller.
type NodeTypeRegistration struct {
	machinery.ResourceMixin

	NodeType *model.NodeType
}

// GetPath implements machinery.Builder.
func (f *NodeTypeRegistration) GetPath() string { return templates.FilesFor(f.Resource).Controller }

// GetIfExistsAction implements machinery.Builder.
func (*NodeTypeRegistration) GetIfExistsAction() machinery.IfExistsAction {
	return machinery.OverwriteFile
}

// GetMarkers implements machinery.Inserter.
func (f *NodeTypeRegistration) GetMarkers() []machinery.Marker {
	return []machinery.Marker{templates.NewMarker(f.GetPath(), templates.NodeTypesMarker)}
}

// GetCodeFragments implements machinery.Inserter.
func (f *NodeTypeRegistration) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{
		templates.NewMarker(f.GetPath(), templates.NodeTypesMarker): {
			fmt.Sprintf("%s%sNodeType(),\n", varFor(f.Resource.Kind), f.NodeType.GoName()),
		},
	}
}
