package orchestrate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/internal/testapi/crd"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// The control plane is shared by the integration tests of the package and
// started on first use, so the unit tests run without the binaries. It runs
// kube-controller-manager, kube-scheduler and kwok, so pods really become
// Ready, with kwok's default stages except that pods labelled neverReadyLabel
// run but never become Ready.
var (
	testScheme = testenv.Scheme()
	shared     = testenv.NewShared(func() ([]testcluster.Option, error) {
		stages, err := kwokStages()
		if err != nil {
			return nil, err
		}
		return []testcluster.Option{
			testcluster.WithKwokNodes(2),
			testcluster.WithKwokStages(stages...),
			testcluster.WithCRDs(crd.Dir()),
			testcluster.WithScheme(testScheme),
		}, nil
	})
)

// neverReadyLabel marks pods that the test's kwok stages keep unready.
const neverReadyLabel = "neverready"

// pokeAnnotation is changed on a CR to make the controller reconcile it
// without changing what is desired.
const pokeAnnotation = "test.opbuilder.io/poke"

// waitTimeout bounds every wait for the cluster to converge. It is generous
// because the machine is shared; no test asserts how long anything takes.
const waitTimeout = 3 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(shared.Main(m))
}

func cluster(t *testing.T) *testcluster.Cluster {
	t.Helper()
	return shared.Cluster(t)
}

// kwokStages returns kwok's default stages with pod-ready narrowed to pods
// without neverReadyLabel, plus a stage that runs those pods unready.
func kwokStages() ([]string, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	defaults, err := testcluster.DefaultKwokStages(assets)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "orchestrate-kwok-stages-")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range defaults {
		if filepath.Base(f) != "pod-ready.yaml" {
			out = append(out, f)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		const anchor = "    matchExpressions:\n"
		if !strings.Contains(string(raw), anchor) {
			return nil, fmt.Errorf("kwok's %s has no %q to extend", f, strings.TrimSpace(anchor))
		}
		narrowed := strings.Replace(string(raw), anchor, anchor+
			"    - key: '.metadata.labels."+neverReadyLabel+"'\n      operator: 'DoesNotExist'\n", 1)
		ready := filepath.Join(dir, "pod-ready.yaml")
		if err := os.WriteFile(ready, []byte(narrowed), 0o600); err != nil {
			return nil, err
		}
		unready := filepath.Join(dir, "pod-running-unready.yaml")
		if err := os.WriteFile(unready, []byte(runningUnreadyStage), 0o600); err != nil {
			return nil, err
		}
		out = append(out, ready, unready)
	}
	if len(out) != len(defaults)+1 {
		return nil, errors.New("kwok's default stages have no pod-ready.yaml to narrow")
	}
	return out, nil
}

// runningUnreadyStage makes a pod labelled neverReadyLabel Running with its
// Ready condition False, as a pod whose readiness probe keeps failing.
const runningUnreadyStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-running-unready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.metadata.labels.` + neverReadyLabel + `'
      operator: 'Exists'
    - key: '.status.phase'
      operator: 'In'
      values:
      - 'Pending'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
`

// env is one test's corner of the shared cluster: a namespace, a manager
// running the orchestrated controller for test Clusters in it, and counters
// for its requests, reconciles and events.
type env struct {
	t       *testing.T
	c       client.Client // uncached admin client, not counted
	ns      string
	counter *testcluster.RequestCounter
	events  *countingRecorder

	// stop stops the manager newEnv started.
	stop func()

	reconciles atomic.Int64
	mu         sync.Mutex
	lastPoke   string // poke annotation of the CR last reconciled
}

// nodeTypes registers the test's node types: a (StatefulSets, one per
// group), b (a Deployment) and c (a StatefulSet). c's budget is configured
// with minAvailable 1 instead of the default.
func nodeTypes() []orchestrate.NodeType[*testv1.Cluster] {
	return []orchestrate.NodeType[*testv1.Cluster]{
		{Name: "a", Build: buildNodeType("a", statefulSet)},
		{Name: "b", Build: buildNodeType("b", deployment)},
		{Name: "c", Build: buildNodeType("c", statefulSet), Disruption: orchestrate.Disruption{MinAvailable: ptr.To(intOrString(1))}},
	}
}

func newEnv(t *testing.T, cfg orchestrate.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, nodeTypes())
}

// newEnvWith is newEnv with the given node types instead of nodeTypes().
func newEnvWith(t *testing.T, cfg orchestrate.Config, nts []orchestrate.NodeType[*testv1.Cluster]) *env {
	t.Helper()
	return newEnvShared(t, cfg, nts, nil)
}

// newEnvShared is newEnvWith with shared objects built by shared.
func newEnvShared(t *testing.T, cfg orchestrate.Config, nts []orchestrate.NodeType[*testv1.Cluster],
	shared orchestrate.SharedFunc[*testv1.Cluster]) *env {
	t.Helper()
	tc := cluster(t)
	ns := testenv.Namespace(t, tc.Client, "orch-")
	e := &env{t: t, c: tc.Client, ns: ns, counter: testcluster.NewRequestCounter()}
	e.stop = e.start(cfg, nts, shared)
	return e
}

// start runs a manager with the orchestrated controller for test Clusters
// in the env's namespace, as the operator's process does, until the test
// ends or the returned function stops it.
func (e *env) start(cfg orchestrate.Config, nts []orchestrate.NodeType[*testv1.Cluster],
	shared orchestrate.SharedFunc[*testv1.Cluster]) (stop func()) {
	t := e.t
	t.Helper()
	tc := cluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	// The cache is scoped as in a scaffolded operator: the CRs, the
	// operator's children, and the ConfigMaps and Secrets labelled for it;
	// here also to the test's namespace.
	cacheOpts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithNamespaces(e.ns), cachescope.WithManagedBy("test-operator"))
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(e.counter.Wrap(tc.Config), ctrl.Options{
		Scheme:                 testScheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOpts,
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.events = &countingRecorder{next: mgr.GetEventRecorder("orchestrate-test")}
	if cfg.App == "" {
		cfg.App = "testapp"
	}
	if cfg.FieldOwner == "" {
		cfg.FieldOwner = "test-operator"
	}
	cfg.EventRecorder = e.events
	o, err := orchestrate.New(mgr, cfg, nts...)
	if err != nil {
		t.Fatal(err)
	}
	if shared != nil {
		o.SetShared(shared)
	}
	// The operator's reconciler: read the CR, hand it to the orchestrator.
	// It also notes which poke it saw, so tests know a pass happened.
	r := reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		var cr testv1.Cluster
		if err := mgr.GetClient().Get(ctx, req.NamespacedName, &cr); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		res, err := o.Reconcile(ctx, &cr)
		e.mu.Lock()
		e.lastPoke = cr.Annotations[pokeAnnotation]
		e.mu.Unlock()
		e.reconciles.Add(1)
		return res, err
	})
	if err := o.SetupWithManager(mgr, r); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// ctx returns a context bounded by waitTimeout.
func (e *env) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	e.t.Cleanup(cancel)
	return ctx
}

// Names and images of the test Cluster.
const (
	crName = "db"
	image1 = "example.com/db:1"
	image2 = "example.com/db:2"
)

// spec is the test Cluster used throughout: a has groups hot and cold, b
// and c one group each; every node type runs two replicas of image1.
func spec() testv1.ClusterSpec {
	return testv1.ClusterSpec{
		Image: image1,
		Order: []string{"a", "b", "c"},
		NodeTypes: []testv1.NodeTypeSpec{
			{Name: "a", Replicas: 2, Groups: []string{"hot", "cold"}, Config: map[string]string{"level": "1"}},
			{Name: "b", Replicas: 2, Config: map[string]string{"level": "1"}},
			{Name: "c", Replicas: 2, Config: map[string]string{"level": "1"}},
		},
	}
}

func (e *env) createCluster(s testv1.ClusterSpec) {
	e.t.Helper()
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: crName, Namespace: e.ns}, Spec: s}
	if err := e.c.Create(e.ctx(), cr); err != nil {
		e.t.Fatal(err)
	}
}

// update re-reads the CR, applies mutate and writes it, retrying on
// conflicts with the controller's status writes.
func (e *env) update(mutate func(*testv1.Cluster)) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(e.ctx(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		var cr testv1.Cluster
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: crName}, &cr); err != nil {
			return false, err
		}
		mutate(&cr)
		if err := e.c.Update(ctx, &cr); err != nil {
			return false, client.IgnoreNotFound(ignoreConflict(err))
		}
		return true, nil
	})
	if err != nil {
		e.t.Fatalf("updating the Cluster: %v", err)
	}
}

// waitFor polls the CR until cond holds; on timeout it fails with the last
// status, which says what the controller thought.
func (e *env) waitFor(what string, cond func(*testv1.Cluster) bool) *testv1.Cluster {
	e.t.Helper()
	var last testv1.Cluster
	err := wait.PollUntilContextTimeout(e.ctx(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: crName}, &last); err != nil {
			return false, err
		}
		return cond(&last), nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v\nlast status: %s", what, err, describeStatus(&last))
	}
	return &last
}

// ready is true once the controller observed the CR's generation and says
// it is Ready.
func ready(cr *testv1.Cluster) bool {
	cs := cr.GetClusterStatus()
	return cs.ObservedGeneration == cr.Generation && conditionIs(cs.Conditions, orchestrate.ConditionReady, metav1.ConditionTrue)
}

// seen is true once a pass ran on the CR's current generation: every pass
// sets Ready for the generation it read. status.observedGeneration says
// more, and later: that the generation is rolled out, or stalled.
func seen(cr *testv1.Cluster) bool {
	c := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady)
	return c != nil && c.ObservedGeneration == cr.Generation
}

func conditionIs(conds []metav1.Condition, typ string, st metav1.ConditionStatus) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == st
		}
	}
	return false
}

func nodeTypeCondition(cr *testv1.Cluster, nodeType, typ string) *metav1.Condition {
	for _, nt := range cr.GetClusterStatus().NodeTypes {
		if nt.Name != nodeType {
			continue
		}
		for i := range nt.Conditions {
			if nt.Conditions[i].Type == typ {
				return &nt.Conditions[i]
			}
		}
	}
	return nil
}

func describeStatus(cr *testv1.Cluster) string {
	var b strings.Builder
	cs := cr.GetClusterStatus()
	fmt.Fprintf(&b, "generation %d observed %d\n", cr.Generation, cs.ObservedGeneration)
	for _, c := range cs.Conditions {
		fmt.Fprintf(&b, "  %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, nt := range cs.NodeTypes {
		fmt.Fprintf(&b, "  node type %s: %d/%d ready, hash %s\n", nt.Name, nt.ReadyReplicas, nt.Replicas, nt.ConfigHash)
		for _, c := range nt.Conditions {
			fmt.Fprintf(&b, "    %s=%s %s: %s\n", c.Type, c.Status, c.Reason, c.Message)
		}
	}
	return b.String()
}

// poke makes the controller reconcile the CR once more without changing
// what is desired, and waits until a pass has seen the poke.
func (e *env) poke() {
	e.t.Helper()
	value := rand.String(8)
	e.update(func(cr *testv1.Cluster) {
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[pokeAnnotation] = value
	})
	err := wait.PollUntilContextTimeout(e.ctx(), 50*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.lastPoke == value, nil
	})
	if err != nil {
		e.t.Fatalf("the controller did not reconcile after a poke: %v", err)
	}
}

// requireSteady pokes the controller a few times and asserts that it made
// no write request and recorded no event meanwhile.
//
// Event writes are left out of the request count: the manager's event sink
// sends events asynchronously, so a write of an event recorded before the
// check may land during it. Events recorded during the check are counted
// exactly, synchronously, by the counting recorder instead.
func (e *env) requireSteady() {
	e.t.Helper()
	e.poke()
	e.counter.Reset()
	eventsBefore := e.events.Total()
	for range 3 {
		e.poke()
	}
	var writes []string
	for _, w := range e.counter.WriteRequests() {
		if !strings.Contains(w, "/apis/events.k8s.io/") {
			writes = append(writes, w)
		}
	}
	if len(writes) != 0 {
		e.t.Errorf("steady state: the operator made write requests, want none:\n%s", strings.Join(writes, "\n"))
	}
	if n := e.events.Total() - eventsBefore; n != 0 {
		e.t.Errorf("steady state: the operator recorded %d events, want 0: %v", n, e.events.Recorded()[eventsBefore:])
	}
}

func ignoreConflict(err error) error {
	if err != nil && strings.Contains(err.Error(), "the object has been modified") {
		return nil
	}
	return err
}

// countingRecorder forwards events to the manager's recorder and keeps a
// copy of each, so tests count events exactly, without waiting for the
// asynchronous sink or for series aggregation on the API server.
type countingRecorder struct {
	next events.EventRecorder
	mu   sync.Mutex
	seen []recordedEvent
}

type recordedEvent struct {
	Type, Reason, Action, Note string
}

func (r *countingRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	r.mu.Lock()
	r.seen = append(r.seen, recordedEvent{eventtype, reason, action, fmt.Sprintf(note, args...)})
	r.mu.Unlock()
	r.next.Eventf(regarding, related, eventtype, reason, action, note, args...)
}

func (r *countingRecorder) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen)
}

func (r *countingRecorder) Recorded() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// Count returns how many events with reason were recorded about the node
// type (all of them when nodeType is "").
func (r *countingRecorder) Count(reason, nodeType string) int {
	n := 0
	for _, ev := range r.Recorded() {
		if ev.Reason == reason && (nodeType == "" || strings.HasPrefix(ev.Note, fmt.Sprintf("node type %q:", nodeType))) {
			n++
		}
	}
	return n
}

// workloadNames are the workloads of the test Cluster in rollout order.
func workloadNames() []string {
	return []string{crName + "-a-hot", crName + "-a-cold", crName + "-b", crName + "-c"}
}

// images returns the image of each workload of the CR, in rollout order.
func (e *env) images() []string {
	e.t.Helper()
	var out []string
	for _, name := range workloadNames() {
		tmpl, err := e.podTemplate(name)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, tmpl.Spec.Containers[0].Image)
	}
	return out
}

func (e *env) podTemplate(name string) (*corev1.PodTemplateSpec, error) {
	key := client.ObjectKey{Namespace: e.ns, Name: name}
	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), key, &sts); err == nil {
		return &sts.Spec.Template, nil
	}
	var d appsv1.Deployment
	if err := e.c.Get(e.ctx(), key, &d); err != nil {
		return nil, fmt.Errorf("workload %s: %w", name, err)
	}
	return &d.Spec.Template, nil
}
