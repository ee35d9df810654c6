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

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"{{ .RuntimeModule }}/cachescope"

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
