package controller

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &NodeTypeTest{}

// NodeTypeTest writes internal/controller/<kind>_<node type>_test.go, which
// checks that the controller creates every object of each group of the node
// type, owned by the resource.
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
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"{{ .RuntimeModule }}/keys"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

var _ = Describe("{{ .Resource.Kind }} {{ .NodeType.Name }} node type", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = start{{ .Resource.Kind }}Manager() })
	AfterAll(func() { stop() })

	It("creates the objects of every {{ .NodeType.Name }} group, owned by the {{ .Resource.Kind }}", func() {
		{{ .Var }} := new{{ .Resource.Kind }}("{{ lower .Resource.Kind }}-{{ .NodeType.Name }}-test")
		{{ .Var }}.Spec.{{ .NodeType.FieldName }} = []{{ .Resource.ImportAlias }}.{{ .NodeType.SpecType }}{
			{GroupSpec: {{ .Resource.ImportAlias }}.GroupSpec{Name: firstGroup}},
			{GroupSpec: {{ .Resource.ImportAlias }}.GroupSpec{Name: secondGroup}},
		}
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })

		for _, group := range {{ .Var }}.Spec.{{ .NodeType.FieldName }} {
			name := {{ .Var }}.Name + "-{{ .NodeType.Name }}-" + group.Name
			wanted := []struct {
				name   string
				object client.Object
			}{
				{name, &corev1.ConfigMap{}},
{{- if .NodeType.IsStatefulSet }}
				{name, &appsv1.StatefulSet{}},
				{name + "-headless", &corev1.Service{}},
{{- else }}
				{name, &appsv1.Deployment{}},
{{- end }}
				{name, &corev1.Service{}},
				{name, &policyv1.PodDisruptionBudget{}},
			}
			for _, want := range wanted {
				key := client.ObjectKey{Namespace: {{ .Var }}.Namespace, Name: want.name}
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, key, want.object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(want.object, {{ .Var }})).To(BeTrue(),
						"%T %s is not controlled by the {{ .Resource.Kind }}", want.object, want.name)
					g.Expect(want.object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, {{ .Prefix }}Name),
						HaveKeyWithValue(keys.LabelGroup, group.Name),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})
})
`
