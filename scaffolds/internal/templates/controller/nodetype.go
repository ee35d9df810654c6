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
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
{{- if .NodeType.IsStatefulSet }}
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
{{- end }}

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
		// The application's say in the rollout: none yet, so pods roll
		// when Kubernetes says they are Ready. See the end of
		// {{ lower .Resource.Kind }}_objects.go for a health gate to start from.
		Hooks: orchestrate.Hooks[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}]{},
		// A canary, such as &orchestrate.Canary{Pods: intstr.FromInt32(1)},
		// would stop each rollout once one pod of the first group runs the
		// new revision, until the {{ .Resource.Kind }}'s opbuilder.io/approve-rollout.<node type>
		// annotation names it. Nil rolls without stopping.
		Canary: nil,
		// A change budget, such as &orchestrate.ChangeBudget{MaxUnavailable: intstr.FromInt32(2)},
		// would let the groups roll at the same time as long as at most two
		// {{ .NodeType.Name }} pods, across all groups, are unavailable at once.
		// Nil rolls the groups one after another.
		ChangeBudget: nil,
	}
}

// build{{ .Resource.Kind }}{{ .NodeType.FieldName }} returns one group per entry of spec.{{ .NodeType.JSONName }}. The
// groups of a node type roll out one at a time, in the order listed (or
// side by side within a ChangeBudget).
func build{{ .Resource.Kind }}{{ .NodeType.FieldName }}(_ context.Context, {{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}) ([]orchestrate.Group, error) {
	groups := make([]orchestrate.Group, 0, len({{ .Var }}.Spec.{{ .NodeType.FieldName }}))
	for _, spec := range {{ .Var }}.Spec.{{ .NodeType.FieldName }} {
		group, err := build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group({{ .Var }}, spec)
		if err != nil {
			return nil, fmt.Errorf("spec.{{ .NodeType.JSONName }}[%s]: %w", spec.Name, err)
		}
		groups = append(groups, group)
	}
	return groups, nil
}

// build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group returns one {{ .NodeType.Name }} group: the {{ if .NodeType.IsStatefulSet }}StatefulSet{{ else }}Deployment{{ end }} that runs
// it{{ if .NodeType.IsStatefulSet }}, a headless Service that gives each of its pods a stable DNS name,{{ end }}
// and the objects every group has ({{ .Var }}Group.group). Settings of the {{ .NodeType.Name }}
// container alone go on group.container before the pod template is built.
func build{{ .Resource.Kind }}{{ .NodeType.GoName }}Group({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, spec {{ .Resource.ImportAlias }}.{{ .NodeType.SpecType }}) (orchestrate.Group, error) {
	group := new{{ .Resource.Kind }}Group({{ .Var }}, {{ .Prefix }}Name, spec.GroupSpec, spec.Port, {{ .Prefix }}ConfigDir)
{{- if .NodeType.HasStorage }}
	group.container.VolumeMounts = append(group.container.VolumeMounts,
		corev1.VolumeMount{Name: {{ .Prefix }}DataVolume, MountPath: {{ .Prefix }}DataDir})
{{- end }}
	template, err := group.podTemplate()
	if err != nil {
		return orchestrate.Group{}, err
	}
{{- if .NodeType.IsStatefulSet }}

	headless := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: group.name + "-headless", Namespace: {{ .Var }}.Namespace},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// Pods can find each other while they start.
			PublishNotReadyAddresses: true,
			Selector:                 group.selector,
			Ports:                    group.servicePorts(),
		},
	}

	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: group.meta(),
		Spec: appsv1.StatefulSetSpec{
			ServiceName: headless.Name,
			Replicas:    group.replicas(spec.Replicas),
			Selector:    group.labelSelector(),
			Template:    template,
{{- if .NodeType.HasStorage }}
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{"{{"}}
				ObjectMeta: metav1.ObjectMeta{Name: {{ .Prefix }}DataVolume},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: spec.Storage.StorageClassName,
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: spec.Storage.Size},
					},
				},
			{{"}}"}},
			PersistentVolumeClaimRetentionPolicy: spec.Storage.RetentionPolicy,
{{- end }}
		},
	}
	return group.group(statefulSet, headless)
{{- else }}

	deployment := &appsv1.Deployment{
		ObjectMeta: group.meta(),
		Spec: appsv1.DeploymentSpec{
			Replicas: group.replicas(spec.Replicas),
			Selector: group.labelSelector(),
			Template: template,
		},
	}
	return group.group(deployment)
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
