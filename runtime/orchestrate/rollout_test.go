package orchestrate_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestInstallAndOrderedRollout installs a three-node-type cluster, checks its
// PodDisruptionBudgets and that a steady state writes nothing, then changes
// the image of every node type and checks that the workloads rolled one at a
// time in deployment order (a's groups hot then cold, then b, then c), each
// exactly once, with events recorded once per state change. Finally it
// removes node type c and checks that its children, PDB included, are pruned.
func TestInstallAndOrderedRollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchWorkloads()
	e.createCluster(spec())

	cr := e.waitFor("the first install to be ready", ready)
	for _, nt := range []string{"a", "b", "c"} {
		// A creation is told by the Builder's Created events.
		if got := e.events.Count(orchestrate.EventRolloutStarted, nt); got != 0 {
			t.Errorf("install: %d RolloutStarted events for node type %s, want none", got, nt)
		}
		if got := e.events.Count(orchestrate.EventRolloutCompleted, nt); got != 0 {
			t.Errorf("install: %d RolloutCompleted events for node type %s, want none", got, nt)
		}
	}
	if got := e.events.Count(orchestrate.EventRolloutBlocked, ""); got != 0 {
		t.Errorf("install: %d RolloutBlocked events, want none: a first install creates every node type at once", got)
	}
	e.requireNoConflicts("the install")
	requireNodeTypeStatus(t, cr, "a", 4)
	requireNodeTypeStatus(t, cr, "b", 2)
	requireNodeTypeStatus(t, cr, "c", 2)
	e.requirePDBs(cr, map[string]intstr.IntOrString{
		"db-a-hot": intstr.FromInt32(1), "db-a-cold": intstr.FromInt32(1), "db-b": intstr.FromInt32(1),
	}, map[string]intstr.IntOrString{"db-c": intstr.FromInt32(1)})
	e.requireSteady()

	// One change that touches every node type.
	base := h.generations()
	revisions := e.revisionCounts()
	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	cr = e.waitFor("the rollout of image 2 to complete", func(cr *testv1.Cluster) bool {
		return ready(cr) && !slices.ContainsFunc(e.images(), func(img string) bool { return img != image2 })
	})
	h.requireOrderedRollout(t, workloadNames(), base)
	e.requireOneNewRevision(revisions)
	e.requireNoConflicts("the rollout of image 2")

	for _, nt := range []string{"a", "b", "c"} {
		if got := e.events.Count(orchestrate.EventRolloutStarted, nt); got != 1 {
			t.Errorf("after the change: %d RolloutStarted events for node type %s, want 1: %v", got, nt, e.events.Recorded())
		}
		if got := e.events.Count(orchestrate.EventRolloutCompleted, nt); got != 1 {
			t.Errorf("after the change: %d RolloutCompleted events for node type %s, want 1: %v", got, nt, e.events.Recorded())
		}
	}
	// b waited for a; c waited for a, then for b: one event per state.
	for nt, want := range map[string]int{"a": 0, "b": 1, "c": 2} {
		if got := e.events.Count(orchestrate.EventRolloutBlocked, nt); got != want {
			t.Errorf("%d RolloutBlocked events for node type %s, want %d: %v", got, nt, want, e.events.Recorded())
		}
	}
	for _, nt := range []string{"a", "b", "c"} {
		if c := nodeTypeCondition(cr, nt, orchestrate.ConditionRolloutBlocked); c == nil || c.Status != metav1.ConditionFalse {
			t.Errorf("node type %s: RolloutBlocked = %v after the rollout, want False", nt, c)
		}
	}
	e.requireSteady()

	// Removing a node type prunes its children, its PDB included.
	e.update(func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "c" })
	})
	cr = e.waitFor("node type c to leave the status", func(cr *testv1.Cluster) bool {
		return ready(cr) && len(cr.Status.NodeTypes) == 2
	})
	for _, obj := range []client.Object{
		&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db-c"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db-c"}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "db-c"}},
	} {
		err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: obj.GetName()}, obj)
		if !apierrors.IsNotFound(err) {
			t.Errorf("%T %s: still there after node type c was removed (err %v)", obj, obj.GetName(), err)
		}
	}
	if cms := e.configMapsOfC(); len(cms) != 0 {
		t.Errorf("node type c's ConfigMaps %v are still there after it was removed", cms)
	}
	for _, entry := range cr.Status.Inventory {
		if strings.HasSuffix(entry, "/db-c") || strings.Contains(entry, "/db-c-config") {
			t.Errorf("inventory still lists %s", entry)
		}
	}
	e.requirePDBs(cr, map[string]intstr.IntOrString{
		"db-a-hot": intstr.FromInt32(1), "db-a-cold": intstr.FromInt32(1), "db-b": intstr.FromInt32(1),
	}, nil)
}

// TestUnreadyNodeTypeBlocksLaterOnes runs node type b with pods that never
// become ready. The first install still creates and readies c (installs are
// parallel); a later change rolls a, then b, and holds c, whose
// RolloutBlocked condition names b. Forcing c lets it roll.
func TestUnreadyNodeTypeBlocksLaterOnes(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	s := spec()
	s.NodeTypes[1].PodLabels = map[string]string{neverReadyLabel: "true"}
	e.createCluster(s)

	cr := e.waitFor("a and c to be available while b never is", func(cr *testv1.Cluster) bool {
		return conditionIs(nodeTypeConditions(cr, "a"), orchestrate.ConditionAvailable, metav1.ConditionTrue) &&
			conditionIs(nodeTypeConditions(cr, "c"), orchestrate.ConditionAvailable, metav1.ConditionTrue) &&
			conditionIs(nodeTypeConditions(cr, "b"), orchestrate.ConditionAvailable, metav1.ConditionFalse)
	})
	if conditionIs(cr.Status.Conditions, orchestrate.ConditionReady, metav1.ConditionTrue) {
		t.Errorf("the cluster is Ready while node type b has no ready pod:\n%s", describeStatus(cr))
	}

	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	cr = e.waitFor("c to be blocked by b", func(cr *testv1.Cluster) bool {
		c := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
		// c's condition is of this generation: observedGeneration stays
		// behind while b, never ready, holds the rollout.
		return c != nil && c.ObservedGeneration == cr.Generation && c.Status == metav1.ConditionTrue &&
			strings.Contains(c.Message, `"b"`)
	})
	blocked := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
	if blocked.Reason != orchestrate.ReasonWaitingForNodeType {
		t.Errorf("c's RolloutBlocked reason = %s, want %s", blocked.Reason, orchestrate.ReasonWaitingForNodeType)
	}
	// a rolled out and b received its change (b's own pods being unready
	// does not hold b itself); c kept its old spec.
	if got, want := e.images(), []string{image2, image2, image2, image1}; !slices.Equal(got, want) {
		t.Errorf("images of %v = %v, want %v", workloadNames(), got, want)
	}
	if got := e.events.Count(orchestrate.EventRolloutBlocked, "c"); got < 1 {
		t.Errorf("no RolloutBlocked event for node type c")
	}
	// Blocked is a steady state too: more passes change nothing and repeat
	// no event.
	blockedEvents := e.events.Count(orchestrate.EventRolloutBlocked, "c")
	e.requireSteady()
	if got := e.events.Count(orchestrate.EventRolloutBlocked, "c"); got != blockedEvents {
		t.Errorf("RolloutBlocked events for c went from %d to %d in steady state", blockedEvents, got)
	}
	if got := e.images()[3]; got != image1 {
		t.Errorf("c's image = %s while blocked, want the old one", got)
	}

	// The escape hatch: force c.
	e.update(func(cr *testv1.Cluster) {
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[keys.AnnotationForceRollout] = "c"
	})
	cr = e.waitFor("c to roll out although b is unready", func(cr *testv1.Cluster) bool {
		p := nodeTypeCondition(cr, "c", orchestrate.ConditionProgressing)
		return e.images()[3] == image2 && p != nil && p.Reason == orchestrate.ReasonRolloutComplete
	})
	if c := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("c's RolloutBlocked = %v after forcing, want False", c)
	}
}

// TestPauseAndResume pauses rollouts, makes two changes (image and config),
// checks that no workload changed while status, config and events kept up,
// and that lifting the pause rolls each workload exactly once, in order.
func TestPauseAndResume(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchWorkloads()
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)

	setPause := func(on bool) {
		e.update(func(cr *testv1.Cluster) {
			if cr.Annotations == nil {
				cr.Annotations = map[string]string{}
			}
			if on {
				cr.Annotations[keys.AnnotationPauseRollout] = keys.ValueTrue
			} else {
				delete(cr.Annotations, keys.AnnotationPauseRollout)
			}
		})
	}
	setPause(true)
	e.waitFor("the pause to show", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.Status.Conditions, orchestrate.ConditionRolloutPaused, metav1.ConditionTrue)
	})
	oldC := e.configMapsOfC()
	if len(oldC) != 1 {
		t.Fatalf("node type c has ConfigMaps %v, want one", oldC)
	}
	base := h.generations()
	revisions := e.revisionCounts()

	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	e.update(func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			cr.Spec.NodeTypes[i].Config = map[string]string{"level": "2"}
		}
	})
	cr := e.waitFor("the paused changes to be held", func(cr *testv1.Cluster) bool {
		if !seen(cr) {
			return false
		}
		for _, nt := range []string{"a", "b", "c"} {
			c := nodeTypeCondition(cr, nt, orchestrate.ConditionRolloutBlocked)
			if c == nil || c.Reason != orchestrate.ReasonRolloutPaused {
				return false
			}
		}
		return true
	})
	if conditionIs(cr.Status.Conditions, orchestrate.ConditionReady, metav1.ConditionTrue) {
		t.Errorf("Ready while changes are held by the pause:\n%s", describeStatus(cr))
	}
	// Bookkeeping continues: the ConfigMaps carry the new config ...
	var cm corev1.ConfigMap
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: "db-b-config"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["level"] != "2" {
		t.Errorf("db-b-config level = %q while paused, want the new config applied", cm.Data["level"])
	}
	// ... while no workload spec changed.
	if got := h.generations(); !equality.Semantic.DeepEqual(got, base) {
		t.Errorf("workload generations changed while paused: %v -> %v", base, got)
	}
	// c's config moved to a ConfigMap with a new name; the old one stays
	// while c's held pods consume it.
	if got := e.configMapsOfC(); len(got) != 2 || !slices.Contains(got, oldC[0]) {
		t.Errorf("node type c's ConfigMaps while paused = %v, want the old %s and a new one", got, oldC[0])
	}
	e.requireSteady()
	if got := e.images(); slices.Contains(got, image2) {
		t.Errorf("images while paused = %v, want all still image 1", got)
	}
	if got := e.events.Count(orchestrate.EventRolloutPaused, ""); got != 1 {
		t.Errorf("%d RolloutPaused events, want 1", got)
	}

	setPause(false)
	e.waitFor("the held changes to roll out", func(cr *testv1.Cluster) bool {
		return ready(cr) && !conditionIs(cr.Status.Conditions, orchestrate.ConditionRolloutPaused, metav1.ConditionTrue) &&
			!slices.ContainsFunc(e.images(), func(img string) bool { return img != image2 })
	})
	h.requireOrderedRollout(t, workloadNames(), base)
	e.requireOneNewRevision(revisions)
	if got := e.configMapsOfC(); len(got) != 1 || got[0] == oldC[0] {
		t.Errorf("node type c's ConfigMaps after the rollout = %v, want only the new one (the old %s pruned)", got, oldC[0])
	}
	if got := e.events.Count(orchestrate.EventRolloutResumed, ""); got != 1 {
		t.Errorf("%d RolloutResumed events, want 1", got)
	}
	e.requireSteady()
}

// TestPauseHoldsWorkloadDeletion removes node type c while rollouts are
// paused: its StatefulSet, its ConfigMap, and the Service and
// PodDisruptionBudget its pods still need stay until the pause is lifted,
// then go.
func TestPauseHoldsWorkloadDeletion(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	e.update(func(cr *testv1.Cluster) {
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[keys.AnnotationPauseRollout] = keys.ValueTrue
	})
	e.waitFor("the pause to show", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.Status.Conditions, orchestrate.ConditionRolloutPaused, metav1.ConditionTrue)
	})
	configOfC := e.configMapsOfC()
	before := e.children()
	e.update(func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "c" })
		cr.Spec.Order = []string{"a", "b"}
	})
	e.waitFor("the removal seen while paused", seen)
	e.poke()
	e.requireKept("while paused", before,
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: crName + "-c"}},
		&policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: crName + "-c"}})
	c := client.ObjectKey{Namespace: e.ns, Name: crName + "-c"}
	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), c, &sts); err != nil || sts.DeletionTimestamp != nil {
		t.Errorf("c's StatefulSet while paused: %v (deleting %v), want it kept", err, sts.DeletionTimestamp)
	}
	if got := e.configMapsOfC(); !slices.Equal(got, configOfC) {
		t.Errorf("c's ConfigMaps while paused: %v, want %v kept for its pods", got, configOfC)
	}
	for _, ev := range e.events.Recorded() {
		if ev.Reason == eventclient.ReasonPruned && strings.Contains(ev.Note, "StatefulSet") {
			t.Errorf("a StatefulSet was pruned while paused: %s", ev.Note)
		}
	}

	e.update(func(cr *testv1.Cluster) { delete(cr.Annotations, keys.AnnotationPauseRollout) })
	e.waitFor("c pruned once the pause is lifted", func(*testv1.Cluster) bool {
		gone := func(obj client.Object) bool { return apierrors.IsNotFound(e.c.Get(e.ctx(), c, obj)) }
		return gone(&appsv1.StatefulSet{}) && gone(&corev1.Service{}) && gone(&policyv1.PodDisruptionBudget{}) &&
			len(e.configMapsOfC()) == 0
	})
}

// TestReconcileDisabled checks that the reconcile annotation stops every
// change, says so once, and that lifting it resumes.
func TestReconcileDisabled(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchWorkloads()
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	base := h.generations()

	e.update(func(cr *testv1.Cluster) {
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[keys.AnnotationReconcile] = keys.ValueDisabled
		cr.Spec.Image = image2
		cr.Spec.NodeTypes[0].Config = map[string]string{"level": "2"}
	})
	cr := e.waitFor("the disabled condition", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.Status.Conditions, orchestrate.ConditionReconcileDisabled, metav1.ConditionTrue)
	})
	if cr.Status.ObservedGeneration == cr.Generation {
		t.Errorf("observedGeneration caught up with a generation the controller must not act on")
	}
	e.requireSteady()
	var cm corev1.ConfigMap
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: "db-a-config"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["level"] != "1" {
		t.Errorf("db-a-config changed while reconciling was disabled")
	}
	if got := h.generations(); !equality.Semantic.DeepEqual(got, base) {
		t.Errorf("workloads changed while reconciling was disabled: %v -> %v", base, got)
	}
	if got := e.events.Count(orchestrate.EventReconcileDisabled, ""); got != 1 {
		t.Errorf("%d ReconcileDisabled events, want exactly 1", got)
	}

	e.update(func(cr *testv1.Cluster) { delete(cr.Annotations, keys.AnnotationReconcile) })
	cr = e.waitFor("the change to roll out once enabled", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.images()[3] == image2
	})
	if meta := nodeTypeCondition(cr, "a", orchestrate.ConditionAvailable); meta == nil {
		t.Errorf("no status for node type a after re-enabling")
	}
	if conditionIs(cr.Status.Conditions, orchestrate.ConditionReconcileDisabled, metav1.ConditionTrue) {
		t.Errorf("ReconcileDisabled still True after the annotation was removed")
	}
	if got := e.events.Count(orchestrate.EventReconcileEnabled, ""); got != 1 {
		t.Errorf("%d ReconcileEnabled events, want 1", got)
	}
}

func nodeTypeConditions(cr *testv1.Cluster, nodeType string) []metav1.Condition {
	for _, nt := range cr.Status.NodeTypes {
		if nt.Name == nodeType {
			return nt.Conditions
		}
	}
	return nil
}

// requireNodeTypeStatus checks a rolled-out node type's status entry.
func requireNodeTypeStatus(t *testing.T, cr *testv1.Cluster, nodeType string, replicas int32) {
	t.Helper()
	for _, nt := range cr.Status.NodeTypes {
		if nt.Name != nodeType {
			continue
		}
		if nt.Replicas != replicas || nt.ReadyReplicas != replicas {
			t.Errorf("node type %s: %d/%d ready, want %d/%d", nodeType, nt.ReadyReplicas, nt.Replicas, replicas, replicas)
		}
		if nt.ConfigHash == "" {
			t.Errorf("node type %s: no config hash in status", nodeType)
		}
		for typ, want := range map[string]metav1.ConditionStatus{
			orchestrate.ConditionAvailable:      metav1.ConditionTrue,
			orchestrate.ConditionProgressing:    metav1.ConditionFalse,
			orchestrate.ConditionRolloutBlocked: metav1.ConditionFalse,
		} {
			if !conditionIs(nt.Conditions, typ, want) {
				t.Errorf("node type %s: %s is not %s:\n%s", nodeType, typ, want, describeStatus(cr))
			}
		}
		return
	}
	t.Errorf("node type %s has no status entry:\n%s", nodeType, describeStatus(cr))
}

// requirePDBs checks that exactly the named PodDisruptionBudgets exist, each
// controlled by the CR, selecting its workload's pods, with the given
// maxUnavailable or minAvailable.
func (e *env) requirePDBs(cr *testv1.Cluster, maxUnavailable, minAvailable map[string]intstr.IntOrString) {
	e.t.Helper()
	var list policyv1.PodDisruptionBudgetList
	if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	if got, want := len(list.Items), len(maxUnavailable)+len(minAvailable); got != want {
		e.t.Errorf("%d PodDisruptionBudgets, want %d", got, want)
	}
	for _, pdb := range list.Items {
		ref := metav1.GetControllerOf(&pdb)
		if ref == nil || ref.UID != cr.UID {
			e.t.Errorf("PDB %s is not controlled by the Cluster", pdb.Name)
		}
		tmpl, err := e.podTemplate(pdb.Name)
		if err != nil {
			e.t.Errorf("PDB %s: %v", pdb.Name, err)
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(tmpl.Labels)) {
			e.t.Errorf("PDB %s selector %v does not select its workload's pods %v", pdb.Name, pdb.Spec.Selector, tmpl.Labels)
		}
		if want, ok := maxUnavailable[pdb.Name]; ok {
			if pdb.Spec.MaxUnavailable == nil || *pdb.Spec.MaxUnavailable != want || pdb.Spec.MinAvailable != nil {
				e.t.Errorf("PDB %s: maxUnavailable %v minAvailable %v, want maxUnavailable %v", pdb.Name, pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable, want.String())
			}
		} else if want, ok := minAvailable[pdb.Name]; ok {
			if pdb.Spec.MinAvailable == nil || *pdb.Spec.MinAvailable != want || pdb.Spec.MaxUnavailable != nil {
				e.t.Errorf("PDB %s: maxUnavailable %v minAvailable %v, want minAvailable %v", pdb.Name, pdb.Spec.MaxUnavailable, pdb.Spec.MinAvailable, want.String())
			}
		} else {
			e.t.Errorf("unexpected PDB %s", pdb.Name)
		}
	}
}

// revisionCounts returns, per workload, how many pod-template revisions it
// has had: ControllerRevisions of a StatefulSet, ReplicaSets of a
// Deployment.
func (e *env) revisionCounts() map[string]int {
	e.t.Helper()
	ctx := e.ctx()
	out := map[string]int{}
	var revs appsv1.ControllerRevisionList
	if err := e.c.List(ctx, &revs, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var rss appsv1.ReplicaSetList
	if err := e.c.List(ctx, &rss, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	owners := map[string]string{} // UID -> name
	for _, name := range workloadNames() {
		var sts appsv1.StatefulSet
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &sts); err == nil {
			owners[string(sts.UID)] = name
			continue
		}
		var d appsv1.Deployment
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &d); err == nil {
			owners[string(d.UID)] = name
		}
	}
	for _, r := range revs.Items {
		if ref := metav1.GetControllerOf(&r); ref != nil && owners[string(ref.UID)] != "" {
			out[owners[string(ref.UID)]]++
		}
	}
	for _, rs := range rss.Items {
		if ref := metav1.GetControllerOf(&rs); ref != nil && owners[string(ref.UID)] != "" {
			out[owners[string(ref.UID)]]++
		}
	}
	return out
}

// requireOneNewRevision asserts that every workload gained exactly one
// revision since before: one change, one rollout.
func (e *env) requireOneNewRevision(before map[string]int) {
	e.t.Helper()
	after := e.revisionCounts()
	for _, name := range workloadNames() {
		if after[name] != before[name]+1 {
			e.t.Errorf("%s: %d revisions, then %d: want exactly one new revision", name, before[name], after[name])
		}
	}
}

// TestExternalSecretRollsItsConsumer changes a Secret the operator does not
// own: only node type b, which consumes it, rolls, exactly once. The Secret
// is labelled for the scoped cache and is otherwise left alone.
func TestExternalSecretRollsItsConsumer(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: externalSecret, Namespace: e.ns},
		Data:       map[string][]byte{"cert": []byte("v1"), "unrelated": []byte("x")},
	}
	if err := e.c.Create(e.ctx(), secret); err != nil {
		t.Fatal(err)
	}
	h := e.watchWorkloads()
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)

	if err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(secret), secret); err != nil {
		t.Fatal(err)
	}
	if secret.Labels[keys.LabelWatch] != keys.ValueTrue {
		t.Errorf("the consumed external Secret has labels %v, want %s=%s", secret.Labels, keys.LabelWatch, keys.ValueTrue)
	}
	if metav1.GetControllerOf(secret) != nil {
		t.Errorf("the external Secret was given a controller: %v", metav1.GetControllerOf(secret))
	}

	base := h.generations()
	revisions := e.revisionCounts()
	secret.Data["cert"] = []byte("v2")
	if err := e.c.Update(e.ctx(), secret); err != nil {
		t.Fatal(err)
	}
	e.waitFor("b to roll onto the new certificate", func(cr *testv1.Cluster) bool {
		return ready(cr) && h.rolledOutAt("db-b", base["db-b"]+1)
	})
	after := e.revisionCounts()
	for _, name := range workloadNames() {
		want := revisions[name]
		if name == "db-b" {
			want++
		}
		if after[name] != want {
			t.Errorf("%s: %d revisions after the Secret changed, want %d", name, after[name], want)
		}
	}
	e.requireSteady()
}

// configMapsOfC returns the names of the ConfigMaps of node type c.
func (e *env) configMapsOfC() []string {
	e.t.Helper()
	var list corev1.ConfigMapList
	if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns), client.MatchingLabels{keys.LabelComponent: "c"}); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, cm := range list.Items {
		if cm.DeletionTimestamp == nil {
			out = append(out, cm.Name)
		}
	}
	slices.Sort(out)
	return out
}
