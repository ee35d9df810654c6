package controller

import (
	"fmt"
	"path/filepath"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

var _ machinery.Template = &Test{}

// Test writes the test of the kind's controller in place of go/v4's. It
// runs the controller in a manager against the suite's control plane, makes
// the kind's sample Ready, and gives the node types' tests a resource with
// one group of every node type and a wait for its rollouts.
type Test struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
	// Image is the image of the test resource.
	Image string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Test) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.FilesFor(f.Resource).Test
	}
	f.TemplateBody = controllerTestTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

// Var is the name of a variable that holds one resource of the kind.
func (f *Test) Var() string { return varFor(f.Resource.Kind) }

// SamplePath is the path of the kind's sample in the project.
func (f *Test) SamplePath() string { return filepath.ToSlash(templates.FilesFor(f.Resource).Sample) }

// SampleMarker is where node types add a group to the test resource.
func (f *Test) SampleMarker() string {
	return templates.NewMarker(f.Path, templates.SampleNodeTypesMarker).String()
}

//nolint:lll
const controllerTestTemplate = `{{ .Boilerplate }}

package controller

import (
	"context"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"{{ .RuntimeModule }}/cachescope"
	"{{ .RuntimeModule }}/keys"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

// start{{ .Resource.Kind }}Manager runs the {{ .Resource.Kind }} controller in a manager set up like
// cmd/main.go's, against the suite's control plane, until the returned function
// is called.
func start{{ .Resource.Kind }}Manager() context.CancelFunc {
	cacheOptions, err := cachescope.Options(&{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}{}, cachescope.WithManagedBy(FieldOwner))
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme.Scheme,
		Cache:                  cacheOptions,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Every test container starts a manager of its own.
		Controller: config.Controller{SkipNameValidation: new(true)},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect((&{{ .Resource.Kind }}Reconciler{
		Client: mgr.GetClient(),
		Scheme: mgr.GetScheme(),
	}).SetupWithManager(mgr)).To(Succeed())

	mgrCtx, stop := context.WithCancel(ctx)
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(mgrCtx)).To(Succeed())
	}()
	return stop
}

// new{{ .Resource.Kind }} returns a {{ .Resource.Kind }} named name in the default namespace, with
// one group of every node type.
func new{{ .Resource.Kind }}(name string) *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }} {
	return &{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: {{ .Resource.ImportAlias }}.{{ .Resource.Kind }}Spec{
			Image: "{{ .Image }}",
			{{ .SampleMarker }}
		},
	}
}

// waitUntil{{ .Resource.Kind }}RolledOut waits until {{ .Var }}'s current generation has
// rolled out: every node type runs it and is available, which is when
// status.observedGeneration catches up and Ready is True. It leaves the
// latest {{ .Var }} in {{ .Var }}.
func waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject({{ .Var }}), {{ .Var }})).To(Succeed())
		g.Expect({{ .Var }}.Status.ObservedGeneration).To(Equal({{ .Var }}.Generation), "the rollout has not settled")
		g.Expect(meta.IsStatusConditionTrue({{ .Var }}.Status.Conditions, "Ready")).To(BeTrue(), "the {{ .Resource.Kind }} is not Ready")
	}).WithTimeout(rolloutTimeout).Should(Succeed())
}

// {{ .Var }}NodeTypeTest tells the specs that every node type of a {{ .Resource.Kind }} runs
// (it{{ .Resource.Kind }}...) what they cannot know by themselves: the node type's
// field in the spec and the objects of one of its groups. Each node type's
// test file fills one in.
type {{ .Var }}NodeTypeTest struct {
	// name is the node type's name, the component label of its objects.
	name string
	// setGroups replaces the node type's groups in {{ .Var }} with groups of
	// these names.
	setGroups func({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, names ...string)
	// setConfig replaces the config files of the node type's i-th group.
	setConfig func({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, i int, config map[string]string)
	// groupObjects returns the objects the controller makes for one group,
	// each holding only its name and namespace.
	groupObjects func({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, group string) []client.Object
}

// new{{ .Resource.Kind }}With returns a {{ .Resource.Kind }} named name whose node type nt has two
// groups, firstGroup and secondGroup.
func new{{ .Resource.Kind }}With(name string, nt {{ .Var }}NodeTypeTest) *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }} {
	{{ .Var }} := new{{ .Resource.Kind }}(name)
	nt.setGroups({{ .Var }}, firstGroup, secondGroup)
	return {{ .Var }}
}

// it{{ .Resource.Kind }}CreatesEveryGroup: the objects of each group of nt exist,
// controlled by the {{ .Resource.Kind }} and labelled with the node type and group.
func it{{ .Resource.Kind }}CreatesEveryGroup(nt {{ .Var }}NodeTypeTest) {
	It("creates the objects of every "+nt.name+" group, owned by the {{ .Resource.Kind }}", func() {
		{{ .Var }} := new{{ .Resource.Kind }}With("{{ lower .Resource.Kind }}-"+nt.name+"-test", nt)
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })

		for _, group := range []string{firstGroup, secondGroup} {
			for _, object := range nt.groupObjects({{ .Var }}, group) {
				Eventually(func(g Gomega) {
					g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)).To(Succeed())
					g.Expect(metav1.IsControlledBy(object, {{ .Var }})).To(BeTrue(),
						"%T %s is not controlled by the {{ .Resource.Kind }}", object, object.GetName())
					g.Expect(object.GetLabels()).To(And(
						HaveKeyWithValue(keys.LabelComponent, nt.name),
						HaveKeyWithValue(keys.LabelGroup, group),
					))
				}).WithTimeout(reconcileTimeout).Should(Succeed())
			}
		}
	})
}

// it{{ .Resource.Kind }}RollsOneGroupAndPrunesAnother: a config change of nt's first
// group replaces that group's pods and no other pod of the {{ .Resource.Kind }}, and
// removing its second group prunes that group's objects without restarting
// the first.
func it{{ .Resource.Kind }}RollsOneGroupAndPrunesAnother(nt {{ .Var }}NodeTypeTest) {
	It("rolls only the "+nt.name+" group whose config changed, and prunes a removed group", func() {
		{{ .Var }} := new{{ .Resource.Kind }}With("{{ lower .Resource.Kind }}-"+nt.name+"-rollout", nt)
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})

		all := client.MatchingLabels{keys.LabelInstance: {{ .Var }}.Name}
		first := client.MatchingLabels{keys.LabelInstance: {{ .Var }}.Name, keys.LabelComponent: nt.name, keys.LabelGroup: firstGroup}
		before, firstBefore := podUIDs({{ .Var }}.Namespace, all), podUIDs({{ .Var }}.Namespace, first)
		Expect(firstBefore).NotTo(BeEmpty())

		By("changing a config file of the first " + nt.name + " group")
		patch := client.MergeFrom({{ .Var }}.DeepCopy())
		nt.setConfig({{ .Var }}, 0, changedConfig())
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

		By("removing the second " + nt.name + " group")
		firstAfter := podUIDs({{ .Var }}.Namespace, first)
		patch = client.MergeFrom({{ .Var }}.DeepCopy())
		// setGroups makes the groups anew: the first keeps its changed config.
		nt.setGroups({{ .Var }}, firstGroup)
		nt.setConfig({{ .Var }}, 0, changedConfig())
		Expect(k8sClient.Patch(ctx, {{ .Var }}, patch)).To(Succeed())
		for _, object := range nt.groupObjects({{ .Var }}, secondGroup) {
			Eventually(func() error {
				return k8sClient.Get(ctx, client.ObjectKeyFromObject(object), object)
			}).WithTimeout(rolloutTimeout).Should(Satisfy(apierrors.IsNotFound),
				"%T %s of the removed group was not pruned", object, object.GetName())
		}
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})
		Expect(podUIDs({{ .Var }}.Namespace, first)).To(Equal(firstAfter), "removing a group restarted the first one")
	})
}

var _ = Describe("{{ .Resource.Kind }} Controller", Ordered, func() {
	var stop context.CancelFunc
	BeforeAll(func() { stop = start{{ .Resource.Kind }}Manager() })
	AfterAll(func() { stop() })

	It("reports every node type of a new {{ .Resource.Kind }} in its status", func() {
		{{ .Var }} := new{{ .Resource.Kind }}("{{ lower .Resource.Kind }}-controller-test")
		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })

		Eventually(func(g Gomega) {
			g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject({{ .Var }}), {{ .Var }})).To(Succeed())
			// Ready's observedGeneration says that a pass has seen this
			// generation, long before its pods are up.
			g.Expect(meta.FindStatusCondition({{ .Var }}.Status.Conditions, "Ready")).To(
				HaveField("ObservedGeneration", {{ .Var }}.Generation))
			reported := make([]string, 0, len({{ .Var }}.Status.NodeTypes))
			for _, nodeType := range {{ .Var }}.Status.NodeTypes {
				reported = append(reported, nodeType.Name)
			}
			g.Expect(reported).To(ConsistOf({{ .Var }}.DeploymentOrder()))
		}).WithTimeout(reconcileTimeout).Should(Succeed())
	})

	It("makes the sample {{ .Resource.Kind }} Ready", func() {
		sample, err := os.Open(filepath.Join("..", "..", "{{ .SamplePath }}"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(sample.Close)
		{{ .Var }} := &{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}{}
		Expect(yaml.NewYAMLOrJSONDecoder(sample, 4096).Decode({{ .Var }})).To(Succeed())
		{{ .Var }}.Namespace = "default"

		Expect(k8sClient.Create(ctx, {{ .Var }})).To(Succeed())
		DeferCleanup(func() { Expect(k8sClient.Delete(ctx, {{ .Var }})).To(Succeed()) })
		waitUntil{{ .Resource.Kind }}RolledOut({{ .Var }})
	})
})
`

var _ machinery.Inserter = &TestSample{}

// TestSample adds one group of a node type to the test resource of
// the kind's controller test.
type TestSample struct {
	machinery.ResourceMixin

	NodeType *model.NodeType
}

// GetPath implements machinery.Builder.
func (f *TestSample) GetPath() string {
	return templates.FilesFor(f.Resource).Test
}

// GetIfExistsAction implements machinery.Builder.
func (*TestSample) GetIfExistsAction() machinery.IfExistsAction {
	return machinery.OverwriteFile
}

// GetMarkers implements machinery.Inserter.
func (f *TestSample) GetMarkers() []machinery.Marker {
	return []machinery.Marker{templates.NewMarker(f.GetPath(), templates.SampleNodeTypesMarker)}
}

// GetCodeFragments implements machinery.Inserter.
func (f *TestSample) GetCodeFragments() machinery.CodeFragmentsMap {
	return machinery.CodeFragmentsMap{
		templates.NewMarker(f.GetPath(), templates.SampleNodeTypesMarker): {
			fmt.Sprintf("%s: []%[2]s.%s{{GroupSpec: %[2]s.GroupSpec{Name: firstGroup}}},\n", f.NodeType.FieldName(),
				f.Resource.ImportAlias(), f.NodeType.SpecType()),
		},
	}
}
