package orchestrate_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// crVersion is one version of the CR as its watch delivered it, judged as
// kubectl wait, Flux and Argo CD judge it.
type crVersion struct {
	generation, observed int64
	kstatus              kstatus.Status
	ready                bool
	readyNodeTypes       string
	rolling              string
	reconciling, stalled *metav1.Condition
}

func (v crVersion) printer() string { return v.readyNodeTypes + " " + v.rolling }

func (v crVersion) String() string {
	return fmt.Sprintf("gen %d observed %d kstatus %s ready %v printer %q reconciling %v stalled %v",
		v.generation, v.observed, v.kstatus, v.ready, v.printer(), v.reconciling, v.stalled)
}

// crVersions records every version of the test CR.
type crVersions struct {
	mu   sync.Mutex
	seen []crVersion
}

func (h *crVersions) all() []crVersion {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]crVersion(nil), h.seen...)
}

// watchCR starts recording. Call it before creating the CR.
func (e *env) watchCR() *crVersions {
	e.t.Helper()
	h := &crVersions{}
	e.watchEvents(&testv1.ClusterList{}, func(ev watch.Event) {
		cr, ok := ev.Object.(*testv1.Cluster)
		if !ok || (ev.Type != watch.Added && ev.Type != watch.Modified) {
			return
		}
		v := judge(e.t, cr)
		h.mu.Lock()
		h.seen = append(h.seen, v)
		h.mu.Unlock()
	})
	return h
}

// judge is what a user's tools read from one version of the CR.
func judge(t *testing.T, cr *testv1.Cluster) crVersion {
	cs := cr.GetClusterStatus()
	return crVersion{
		generation: cr.Generation, observed: cs.ObservedGeneration,
		kstatus:        kstatusOf(t, cr).Status,
		ready:          meta.IsStatusConditionTrue(cs.Conditions, orchestrate.ConditionReady),
		readyNodeTypes: cs.ReadyNodeTypes, rolling: cs.RollingNodeType,
		reconciling: meta.FindStatusCondition(cs.Conditions, orchestrate.ConditionReconciling),
		stalled:     meta.FindStatusCondition(cs.Conditions, orchestrate.ConditionStalled),
	}
}

// kstatusOf converts the CR to unstructured, as the tools read it, and
// computes its status with kstatus.
func kstatusOf(t *testing.T, cr *testv1.Cluster) *kstatus.Result {
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cr)
	if err != nil {
		t.Error(err)
		return &kstatus.Result{}
	}
	u := &unstructured.Unstructured{Object: obj}
	u.SetGroupVersionKind(testv1.GroupVersion.WithKind("Cluster"))
	res, err := kstatus.Compute(u)
	if err != nil {
		t.Error(err)
		return &kstatus.Result{}
	}
	return res
}

// twoNodeTypes is the test Cluster with node types b and c only.
func twoNodeTypes() testv1.ClusterSpec {
	s := spec()
	s.NodeTypes = s.NodeTypes[1:]
	s.Order = []string{"b", "c"}
	return s
}

// TestKStatusFollowsARollout: a config change of both node types rolls b,
// then c. kstatus reports every version of the CR from the change to the
// end of the rollout as InProgress, observedGeneration stays at the
// previous generation until then, and the printer fields follow the rollout
// (0/2 b, 1/2 c, 2/2); once done it is Current, with neither Reconciling nor
// Stalled.
func TestKStatusFollowsARollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchCR()
	e.createCluster(twoNodeTypes())
	cr := e.waitFor("the first install to be ready", ready)
	requireCurrent(t, cr, "2/2")
	installed := len(h.all())

	e.counter.Reset()
	e.update(func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			cr.Spec.NodeTypes[i].Config = map[string]string{"level": "2"}
		}
	})
	cr = e.waitFor("b and c to roll out their new config", ready)
	e.poke()
	requireCurrent(t, cr, "2/2")

	var printer []string
	var reasons []string
	for _, v := range h.all()[installed:] {
		if v.generation != cr.Generation {
			continue
		}
		if n := len(printer); n == 0 || printer[n-1] != v.printer() {
			printer = append(printer, v.printer())
		}
		if v.reconciling != nil && (len(reasons) == 0 || reasons[len(reasons)-1] != v.reconciling.Message) {
			reasons = append(reasons, v.reconciling.Message)
		}
		if v.ready {
			continue
		}
		if v.kstatus != kstatus.InProgressStatus || v.observed != cr.Generation-1 {
			t.Errorf("during the rollout: %s, want kstatus InProgress and observedGeneration %d", v, cr.Generation-1)
		}
	}
	// The first version is the user's own write, with the status as it was.
	if want := []string{"2/2 ", "0/2 b", "1/2 c", "2/2 "}; !slices.Equal(printer, want) {
		t.Errorf("readyNodeTypes and rollingNodeType went %q, want %q", printer, want)
	}
	if len(reasons) < 2 || !strings.HasPrefix(reasons[0], `node type "b"`) || !strings.HasPrefix(reasons[len(reasons)-1], `node type "c"`) {
		t.Errorf("Reconciling messages %q, want b's then c's", reasons)
	}
	t.Logf("status writes during the rollout: %d; CR versions: %d", statusPatches(e), len(h.all())-installed)
	e.requireSteady()
}

// TestKStatusFailedForARefusal: a user's ConfigMap has the name of b's. The
// CR is Stalled with NameTaken and kstatus reports it Failed, for its first
// generation and for a later one (observedGeneration catches up with a
// stalled generation, or kstatus would report it in progress for good).
// Once the user's ConfigMap is gone, without any change to the CR, the
// Stalled condition is removed and the CR becomes Current.
func TestKStatusFailedForARefusal(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	theirs := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: crName + "-b-config", Namespace: e.ns}, Data: map[string]string{"level": "users-own"}}
	if err := e.c.Create(e.ctx(), theirs); err != nil {
		t.Fatal(err)
	}
	e.createCluster(spec())
	stalledBy := func(reason string) func(*testv1.Cluster) bool {
		return func(cr *testv1.Cluster) bool {
			c := meta.FindStatusCondition(cr.Status.Conditions, orchestrate.ConditionStalled)
			return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason && cr.Status.ObservedGeneration == cr.Generation
		}
	}
	cr := e.waitFor("the CR stalled by b's name taken", stalledBy(builder.ReasonNameTaken))
	requireFailed(t, cr, theirs.Name)

	e.update(func(cr *testv1.Cluster) { cr.Spec.NodeTypes[0].Config = map[string]string{"level": "2"} })
	cr = e.waitFor("the next generation stalled too", func(cr *testv1.Cluster) bool {
		return cr.Generation == 2 && stalledBy(builder.ReasonNameTaken)(cr) &&
			conditionIs(nodeTypeConditions(cr, "a"), orchestrate.ConditionProgressing, metav1.ConditionFalse)
	})
	requireFailed(t, cr, theirs.Name)
	// c, created with the first install, has no change to wait for.
	if cr.Status.ReadyNodeTypes != "2/3" || cr.Status.RollingNodeType != "b (blocked)" {
		t.Errorf("readyNodeTypes %q, rollingNodeType %q; want 2/3 (a and c), b (blocked)", cr.Status.ReadyNodeTypes, cr.Status.RollingNodeType)
	}

	if err := e.c.Delete(e.ctx(), theirs); err != nil {
		t.Fatal(err)
	}
	cr = e.waitFor("Ready once the user's ConfigMap is gone", ready)
	requireCurrent(t, cr, "3/3")
}

// requireCurrent checks a rolled-out CR as the tools read it.
func requireCurrent(t *testing.T, cr *testv1.Cluster, readyNodeTypes string) {
	t.Helper()
	if res := kstatusOf(t, cr); res.Status != kstatus.CurrentStatus {
		t.Errorf("kstatus of a rolled-out CR: %s (%s), want Current", res.Status, res.Message)
	}
	for _, typ := range []string{orchestrate.ConditionReconciling, orchestrate.ConditionStalled} {
		if c := meta.FindStatusCondition(cr.Status.Conditions, typ); c != nil {
			t.Errorf("%s = %+v on a rolled-out CR, want it absent", typ, c)
		}
	}
	if cr.Status.ReadyNodeTypes != readyNodeTypes || cr.Status.RollingNodeType != "" {
		t.Errorf("readyNodeTypes %q, rollingNodeType %q; want %q and none", cr.Status.ReadyNodeTypes, cr.Status.RollingNodeType, readyNodeTypes)
	}
}

// requireFailed checks a CR stalled by a refusal as the tools read it:
// Failed, with the message naming the object in the way, and not
// Reconciling, which kstatus would read first.
func requireFailed(t *testing.T, cr *testv1.Cluster, object string) {
	t.Helper()
	if res := kstatusOf(t, cr); res.Status != kstatus.FailedStatus || !strings.Contains(res.Message, object) {
		t.Errorf("kstatus of a refused CR: %s (%s), want Failed naming %s", res.Status, res.Message, object)
	}
	if c := meta.FindStatusCondition(cr.Status.Conditions, orchestrate.ConditionReconciling); c != nil {
		t.Errorf("Reconciling = %+v beside Stalled, want it absent", c)
	}
}

// statusPatches counts the operator's status writes since the counter was
// last reset.
func statusPatches(e *env) int {
	return e.counter.Snapshot()["PATCH /apis/test.opbuilder.io/v1/namespaces/"+e.ns+"/clusters/"+crName+"/status"]
}
