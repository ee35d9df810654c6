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
	. "github.com/onsi/gomega"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"{{ .RuntimeModule }}/keys"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

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

	// new{{ .Resource.Kind }}With returns a {{ .Resource.Kind }} with two {{ .NodeType.Name }} groups.
	new{{ .Resource.Kind }}With := func(name string) *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }} {
		{{ .Var }} := new{{ .Resource.Kind }}(name)
		{{ .Var }}.Spec.{{ .NodeType.FieldName }} = []{{ .Resource.ImportAlias }}.{{ .NodeType.SpecType }}{
			{GroupSpec: {{ .Resource.ImportAlias }}.GroupSpec{Name: firstGroup}},
			{GroupSpec: {{ .Resource.ImportAlias }}.GroupSpec{Name: secondGroup}},
		}
		return {{ .Var }}
	}

	It("creates the objects of every {{ .NodeType.Name }} group, owned by the {{ .Resource.Kind }}", func() {
		{{ .Var }} := new{{ .Resource.Kind }}With("{{ lower .Resource.Kind }}-{{ .NodeType.Name }}-test")
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })

		for _, group := range {{ .Var }}.Spec.{{ .NodeType.FieldName }} {
			for _, object := range {{ .Prefix }}GroupObjects({{ .Var }}, group.Name) {
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(object, {{ .Var }})).To(BeTrue(),
						"%T %s is not controlled by the {{ .Resource.Kind }}", object, object.GetName())
					g.Expect(object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, {{ .Prefix }}Name),
						HaveKeyWithValue(keys.LabelGroup, group.Name),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})

	It("rolls only the {{ .NodeType.Name }} group whose config changed, and prunes a removed group", func() {
		{{ .Var }} := new{{ .Resource.Kind }}With("{{ lower .Resource.Kind }}-{{ .NodeType.Name }}-rollout")
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})

		all := client.MatchingLabels{keys.LabelInstance: {{ .Var }}.Name}
		first := client.MatchingLabels{keys.LabelInstance: {{ .Var }}.Name,
			keys.LabelComponent: {{ .Prefix }}Name, keys.LabelGroup: firstGroup}
		before, firstBefore := podUIDs({{ .Var }}.Namespace, all), podUIDs({{ .Var }}.Namespace, first)
		Expect(firstBefore).NotTo(BeEmpty())

		By("changing a config file of the first {{ .NodeType.Name }} group")
		patch := client.MergeFrom({{ .Var }}.DeepCopy())
		{{ .Var }}.Spec.{{ .NodeType.FieldName }}[0].Config = changedConfig()
		Expect(k8sClient.Patch(ctx, {{ .Var }}, patch)).To(Succeed())
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})

		after := podUIDs({{ .Var }}.Namespace, all)
		for name, uid := range before {
			if _, changed := firstBefore[name]; changed {
				Expect(after[name]).NotTo(Equal(uid), "pod %s of the changed group was not replaced", name)
			} else {
				Expect(after).To(HaveKeyWithValue(name, uid), "pod %s of a group that did not change was replaced", name)
			}
		}

		By("removing the second {{ .NodeType.Name }} group")
		firstAfter := podUIDs({{ .Var }}.Namespace, first)
		patch = client.MergeFrom({{ .Var }}.DeepCopy())
		{{ .Var }}.Spec.{{ .NodeType.FieldName }} = {{ .Var }}.Spec.{{ .NodeType.FieldName }}[:1]
		Expect(k8sClient.Patch(ctx, {{ .Var }}, patch)).To(Succeed())
		for _, object := range {{ .Prefix }}GroupObjects({{ .Var }}, secondGroup) {
			Eventually(func() error {
				return k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)
			}).WithTimeout(rolloutTimeout).Should(Satisfy(apierrors.IsNotFound),
				"%T %s of the removed group was not pruned", object, object.GetName())
		}
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})
		Expect(podUIDs({{ .Var }}.Namespace, first)).To(Equal(firstAfter), "removing a group restarted the first one")
	})
})
`
