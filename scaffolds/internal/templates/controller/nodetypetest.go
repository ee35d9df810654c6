package controller

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &NodeTypeTest{}

// NodeTypeTest writes internal/controller/<kind>_<node type>_test.go, which
// checks that the controller creates every object of each group of the node
// type, owned by the resource, that a config change of one group rolls that
// group alone, and that a removed group is pruned.
type NodeTypeTest struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	NodeType *model.NodeType
	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *NodeTypeTest) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.NodeTypeFilesFor(f.Resource, f.NodeType).Test
	}
	f.TemplateBody = nodeTypeTestTemplate
	f.IfExistsAction = machinery.Error
	return nil
}

// Var is the name of a variable that holds one resource of the kind.
func (f *NodeTypeTest) Var() string { return varFor(f.Resource.Kind) }

// Prefix starts the names of the node type's identifiers.
func (f *NodeTypeTest) Prefix() string { return f.Var() + f.NodeType.GoName() }

//nolint:lll
const nodeTypeTestTemplate = `{{ .Boilerplate }}

package controller

import (
	"context"

	. "github.com/onsi/ginkgo/v2"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

// {{ .Prefix }}Test tells the specs every node type of a {{ .Resource.Kind }} runs
// where the {{ .NodeType.Name }} groups are and what objects each has.
func {{ .Prefix }}Test() {{ .Var }}NodeTypeTest {
	return {{ .Var }}NodeTypeTest{
		name: {{ .Prefix }}Name,
		setGroups: func({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, names ...string) {
			{{ .Var }}.Spec.{{ .NodeType.FieldName }} = nil
			for _, name := range names {
				{{ .Var }}.Spec.{{ .NodeType.FieldName }} = append({{ .Var }}.Spec.{{ .NodeType.FieldName }},
					{{ .Resource.ImportAlias }}.{{ .NodeType.SpecType }}{GroupSpec: {{ .Resource.ImportAlias }}.GroupSpec{Name: name}})
			}
		},
		setConfig: func({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, i int, config map[string]string) {
			{{ .Var }}.Spec.{{ .NodeType.FieldName }}[i].Config = config
		},
		groupObjects: {{ .Prefix }}GroupObjects,
	}
}

// {{ .Prefix }}GroupObjects returns the objects the controller makes for one
// {{ .NodeType.Name }} group of {{ .Var }}, each holding only its name and namespace.
func {{ .Prefix }}GroupObjects({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, group string) []client.Object {
	name := {{ .Var }}.Name + "-{{ .NodeType.Name }}-" + group
	key := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: {{ .Var }}.Namespace} }
	return []client.Object{
		&corev1.ConfigMap{ObjectMeta: key(name)},
{{- if .NodeType.IsStatefulSet }}
		&appsv1.StatefulSet{ObjectMeta: key(name)},
		&corev1.Service{ObjectMeta: key(name + "-headless")},
{{- else }}
		&appsv1.Deployment{ObjectMeta: key(name)},
{{- end }}
		&corev1.Service{ObjectMeta: key(name)},
		&policyv1.PodDisruptionBudget{ObjectMeta: key(name)},
	}
}

var _ = Describe("{{ .Resource.Kind }} {{ .NodeType.Name }} node type", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = start{{ .Resource.Kind }}Manager() })
	AfterAll(func() { stop() })

	it{{ .Resource.Kind }}CreatesEveryGroup({{ .Prefix }}Test())
	it{{ .Resource.Kind }}RollsOneGroupAndPrunesAnother({{ .Prefix }}Test())

	// Specs of the {{ .NodeType.Name }} node type alone, such as its hooks or
	// canary, go here.
})
`
