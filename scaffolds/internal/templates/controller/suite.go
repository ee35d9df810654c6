package controller

import (
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

var _ machinery.Template = &Suite{}

// Suite writes the controllers' test suite in place of go/v4's, which runs
// only etcd and kube-apiserver: there no ReplicaSet is made, no pod becomes
// Ready and no garbage is collected, so rollouts, readiness gates and
// pruning could not be tested. This one starts the runtime's testcluster
// with kube-controller-manager, kube-scheduler and kwok nodes. It keeps
// go/v4's markers, through which later kinds add their API to the scheme.
type Suite struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Suite) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = templates.SuitePath
	}
	f.TemplateBody = suiteTemplate
	f.IfExistsAction = machinery.OverwriteFile
	return nil
}

const suiteTemplate = `{{ .Boilerplate }}

package controller

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"{{ .RuntimeModule }}/testcluster"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
	// +kubebuilder:scaffold:imports
)

// The controllers are tested against a real control plane, started by the
// opbuilder runtime's testcluster package: etcd and kube-apiserver, plus
// kube-controller-manager (ReplicaSets, garbage collection, volume binding),
// kube-scheduler, and kwok, whose fake nodes take the pods and mark them
// Running and Ready. So rollouts, readiness and pruning happen as they do in
// a cluster, in seconds and without containers. ` + "`make test`" + ` builds the
// binaries once from the Go module proxy and sets KUBEBUILDER_ASSETS; to
// run the tests from an IDE, set it to the directory that
// ` + "`go run {{ .RuntimeModule }}/cmd/opbuilder-testbin`" + ` prints.

var (
	ctx       context.Context
	cancel    context.CancelFunc
	cluster   *testcluster.Cluster
	cfg       *rest.Config
	k8sClient client.Client
)

// The names the tests give the groups of a node type.
const (
	firstGroup  = "first"
	secondGroup = "second"
)

const (
	// reconcileTimeout bounds each wait for the controller. Gomega's
	// default of one second is too short for a manager that has just
	// started: its caches sync and its first pass creates every child,
	// which takes seconds on a busy CI machine.
	reconcileTimeout = 30 * time.Second
	// rolloutTimeout bounds each wait for a rollout: every node type in
	// turn creates or replaces its pods and waits for them to be Ready.
	rolloutTimeout = 2 * time.Minute
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)

	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))

	ctx, cancel = context.WithCancel(context.TODO())

	var err error
	err = {{ .Resource.ImportAlias }}.AddToScheme(scheme.Scheme)
	Expect(err).NotTo(HaveOccurred())

	// +kubebuilder:scaffold:scheme

	By("starting a control plane with kwok nodes")
	cluster, err = testcluster.Start(ctx,
		testcluster.WithCRDs(filepath.Join("..", "..", "config", "crd", "bases")),
		testcluster.WithKwokNodes(3),
		// kwok nodes have no storage; this stands in for a provisioner, so
		// that pods with volume claims are scheduled.
		testcluster.WithVolumeProvisioner(),
	)
	Expect(err).NotTo(HaveOccurred())
	cfg = cluster.Config
	k8sClient = cluster.Client
})

var _ = AfterSuite(func() {
	By("stopping the control plane")
	cancel()
	if cluster != nil {
		Expect(cluster.Stop()).To(Succeed())
	}
})

// changedConfig returns a config file that no group has by default, so
// that setting it as one group's config is a change of that group alone.
func changedConfig() map[string]string {
	return map[string]string{"test.properties": "changed=true"}
}

// podUIDs returns the UID of every pod in namespace that matches labels and
// is not terminating, by pod name. A pod replaced by a rollout has a new UID
// even where, as in a StatefulSet, its name stays.
func podUIDs(namespace string, labels client.MatchingLabels) map[string]types.UID {
	var pods corev1.PodList
	Expect(k8sClient.List(ctx, &pods, client.InNamespace(namespace), labels)).To(Succeed())
	uids := make(map[string]types.UID, len(pods.Items))
	for _, pod := range pods.Items {
		if pod.DeletionTimestamp == nil {
			uids[pod.Name] = pod.UID
		}
	}
	return uids
}
`
