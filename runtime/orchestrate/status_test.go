package orchestrate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/opbuilder/opbuilder/runtime/status"
)

func doneGroup(name string, replicas int32, hash string) groupObserved {
	return groupObserved{Name: name, HasWorkload: true, Decision: groupDecision{Apply: true},
		Rollout: rollout{Done: true, Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas, ConfigHash: hash}}
}

// rolledOutCluster is the outcome of a pass over a fully rolled-out cluster
// with node types a (groups hot and cold) and b.
func rolledOutCluster() *outcome {
	return &outcome{generation: 3, observed: true, inventorySet: true, inventory: []string{"x"},
		nodeTypes: []nodeTypeObserved{
			{Name: "a", Decision: nodeTypeDecision{RolledOut: true}, Groups: []groupObserved{doneGroup("hot", 2, "h1"), doneGroup("cold", 1, "h2")}},
			{Name: "b", Decision: nodeTypeDecision{RolledOut: true}, Groups: []groupObserved{doneGroup("", 3, "h3")}},
		}}
}

func TestOutcomeApplyIsStable(t *testing.T) {
	first := rolledOutCluster().apply(&status.ClusterStatus{})
	second := rolledOutCluster().apply(first)
	if !equality.Semantic.DeepEqual(first, second) {
		t.Errorf("applying the same outcome twice changed the status (a write per pass):\n%s", cmp.Diff(first, second))
	}
	if first.ObservedGeneration != 3 || !meta.IsStatusConditionTrue(first.Conditions, ConditionReady) {
		t.Errorf("a rolled-out cluster: observedGeneration %d, conditions %v", first.ObservedGeneration, first.Conditions)
	}
	a := first.NodeTypes[0]
	if a.Replicas != 3 || a.ReadyReplicas != 3 || a.ConfigHash != "hot=h1,cold=h2" {
		t.Errorf("node type a: %+v", a)
	}
	if first.NodeTypes[1].ConfigHash != "h3" {
		t.Errorf("a single group's hash is reported bare, got %q", first.NodeTypes[1].ConfigHash)
	}
	if len(statusEvents(first, second)) != 0 {
		t.Errorf("events for an unchanged status: %v", statusEvents(first, second))
	}
}

func TestOutcomeBlockedAndFailed(t *testing.T) {
	out := rolledOutCluster()
	out.nodeTypes[0].Decision = nodeTypeDecision{Starting: true, Pending: true}
	out.nodeTypes[0].Groups[0].Decision = groupDecision{Apply: true, Changing: true}
	out.nodeTypes[0].Groups[0].Rollout.Done = false
	out.nodeTypes[0].Groups[1].Decision = groupDecision{Hold: heldForGroup, WaitingFor: "hot"}
	out.nodeTypes[1].Decision = nodeTypeDecision{Pending: true, BlockedBy: "a"}
	out.nodeTypes[1].Groups[0].Decision = groupDecision{Hold: heldForNodeType, WaitingFor: "a"}
	cs := out.apply(&status.ClusterStatus{})

	a, b := cs.NodeTypes[0], cs.NodeTypes[1]
	if c := meta.FindStatusCondition(a.Conditions, ConditionProgressing); c.Status != metav1.ConditionTrue || c.Reason != ReasonRollingOut || !strings.Contains(c.Message, `group "hot"`) {
		t.Errorf("a Progressing = %+v", c)
	}
	if meta.IsStatusConditionTrue(a.Conditions, ConditionRolloutBlocked) {
		t.Errorf("a waits only for its own group, which is not a block")
	}
	blocked := meta.FindStatusCondition(b.Conditions, ConditionRolloutBlocked)
	if blocked.Status != metav1.ConditionTrue || blocked.Reason != ReasonWaitingForNodeType || !strings.Contains(blocked.Message, `"a"`) {
		t.Errorf("b RolloutBlocked = %+v, want True naming a", blocked)
	}
	if c := meta.FindStatusCondition(cs.Conditions, ConditionReady); c.Status != metav1.ConditionFalse || c.Reason != ReasonRolloutInProgress {
		t.Errorf("Ready = %+v", c)
	}

	out.failure = "build node type \"b\": boom"
	out.observed = false
	cs = out.apply(&status.ClusterStatus{ObservedGeneration: 2})
	if c := meta.FindStatusCondition(cs.Conditions, ConditionReady); c.Reason != ReasonReconcileFailed || c.Message != out.failure {
		t.Errorf("Ready after a failure = %+v", c)
	}
	if cs.ObservedGeneration != 2 {
		t.Errorf("observedGeneration moved to %d on a failed pass", cs.ObservedGeneration)
	}
}

func TestOutcomeDisabledTouchesNothingElse(t *testing.T) {
	before := rolledOutCluster().apply(&status.ClusterStatus{})
	disabled := (&outcome{generation: 4, disabled: true}).apply(before)
	if !meta.IsStatusConditionTrue(disabled.Conditions, ConditionReconcileDisabled) {
		t.Fatalf("no ReconcileDisabled condition: %v", disabled.Conditions)
	}
	meta.RemoveStatusCondition(&disabled.Conditions, ConditionReconcileDisabled)
	if !equality.Semantic.DeepEqual(before, disabled) {
		t.Errorf("disabling changed more than its condition:\n%s", cmp.Diff(before, disabled))
	}
}

func TestStatusEvents(t *testing.T) {
	cond := func(typ string, st metav1.ConditionStatus, reason, msg string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: st, Reason: reason, Message: msg}
	}
	nt := func(conds ...metav1.Condition) *status.ClusterStatus {
		return &status.ClusterStatus{NodeTypes: []status.NodeTypeStatus{{Name: "b", Conditions: conds}}}
	}
	progressing := cond(ConditionProgressing, metav1.ConditionTrue, ReasonRollingOut, "applied a new spec")
	complete := cond(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutComplete, "")
	creating := cond(ConditionProgressing, metav1.ConditionTrue, ReasonCreating, "created")
	stalled := cond(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutStalled, "deadline")
	blockedA := cond(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonWaitingForNodeType, blockedMessage("a"))
	blockedC := cond(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonWaitingForNodeType, blockedMessage("c"))
	notBlocked := cond(ConditionRolloutBlocked, metav1.ConditionFalse, ReasonNotBlocked, "")
	canary := cond(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonCanaryWaiting, "canary: 1 of 2 pods run revision r")
	pausedBlock := cond(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonRolloutPaused, pausedMessage)
	paused := &status.ClusterStatus{Conditions: []metav1.Condition{cond(ConditionRolloutPaused, metav1.ConditionTrue, ReasonPausedByAnnotation, "")}}

	tests := []struct {
		name       string
		prev, next *status.ClusterStatus
		want       []string
	}{
		{"a rollout starts", nt(complete, notBlocked), nt(progressing, notBlocked), []string{EventRolloutStarted}},
		{"a new node type starts", &status.ClusterStatus{}, nt(progressing, notBlocked), []string{EventRolloutStarted}},
		{"a node type is created: nothing", &status.ClusterStatus{}, nt(creating, notBlocked), nil},
		{"a blocked node type's turn to be created: nothing", nt(cond(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutBlocked, ""), blockedA), nt(creating, notBlocked), nil},
		{"its creation completes: nothing", nt(creating, notBlocked), nt(complete, notBlocked), nil},
		{"its creation stalls: a warning", nt(creating, notBlocked), nt(stalled, notBlocked), []string{EventRolloutStalled}},
		{"still rolling: nothing", nt(progressing, notBlocked), nt(cond(ConditionProgressing, metav1.ConditionTrue, ReasonReplicasNotReady, "1 of 2"), notBlocked), nil},
		{"a rollout completes", nt(progressing, notBlocked), nt(complete, notBlocked), []string{EventRolloutCompleted}},
		{"a change reverted while blocked completes nothing", nt(cond(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutBlocked, ""), blockedA), nt(complete, notBlocked), nil},
		{"a block starts", nt(complete, notBlocked), nt(complete, blockedA), []string{EventRolloutBlocked}},
		{"the same block: nothing", nt(complete, blockedA), nt(complete, blockedA), nil},
		{"waiting for another node type", nt(complete, blockedA), nt(complete, blockedC), []string{EventRolloutBlocked}},
		{"a canary starts waiting", nt(progressing, notBlocked), nt(progressing, canary), []string{EventRolloutBlocked}},
		{"the same canary: nothing", nt(progressing, canary), nt(progressing, canary), nil},
		{"a pause is no per-node-type block event", nt(complete, notBlocked), nt(complete, pausedBlock), nil},
		{"a stall is a warning, once", nt(progressing, notBlocked), nt(stalled, notBlocked), []string{EventRolloutStalled}},
		{"still stalled: nothing", nt(stalled, notBlocked), nt(stalled, notBlocked), nil},
		{"paused", &status.ClusterStatus{}, paused, []string{EventRolloutPaused}},
		{"resumed", paused, &status.ClusterStatus{}, []string{EventRolloutResumed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range statusEvents(tt.prev, tt.next) {
				got = append(got, e.Reason)
				if e.Reason == EventRolloutStalled && e.Type != corev1.EventTypeWarning {
					t.Errorf("RolloutStalled is a %s event, want Warning", e.Type)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAvailableNeeded(t *testing.T) {
	pct := func(s string) *intstr.IntOrString { v := intstr.FromString(s); return &v }
	tests := []struct {
		name     string
		d        Disruption
		replicas int32
		want     int32
	}{
		{"default: one may be unavailable", Disruption{}, 3, 2},
		{"at least one of a single replica", Disruption{}, 1, 1},
		{"nothing desired", Disruption{}, 0, 0},
		{"maxUnavailable 2", Disruption{MaxUnavailable: ptr.To(intstr.FromInt32(2))}, 5, 3},
		{"maxUnavailable 50% rounds up", Disruption{MaxUnavailable: pct("50%")}, 3, 1},
		{"minAvailable wins", Disruption{MaxUnavailable: ptr.To(intstr.FromInt32(2)), MinAvailable: ptr.To(intstr.FromInt32(4))}, 5, 4},
		{"minAvailable above replicas is capped", Disruption{MinAvailable: ptr.To(intstr.FromInt32(9))}, 3, 3},
		{"disabled budget uses the default", Disruption{Disabled: true, MinAvailable: ptr.To(intstr.FromInt32(3))}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.d.availableNeeded(tt.replicas); got != tt.want {
				t.Errorf("availableNeeded(%d) = %d, want %d", tt.replicas, got, tt.want)
			}
		})
	}
}

// Between two groups of a node type, with the first rolled out and the second
// held for it, the node type is still rolling out: Progressing must not drop
// to False (which would record RolloutCompleted or RolloutStalled and then
// RolloutStarted again).
func TestProgressingBetweenGroups(t *testing.T) {
	out := rolledOutCluster()
	out.nodeTypes[0].Decision = nodeTypeDecision{Pending: true}
	out.nodeTypes[0].Groups[1].Decision = groupDecision{Hold: heldForGroup, WaitingFor: "hot"}
	cs := out.apply(&status.ClusterStatus{})
	c := meta.FindStatusCondition(cs.NodeTypes[0].Conditions, ConditionProgressing)
	if c.Status != metav1.ConditionTrue || c.Reason != ReasonRollingOut || !strings.Contains(c.Message, `waits for group "hot"`) {
		t.Errorf("Progressing = %+v, want True while cold waits for hot", c)
	}

	out.nodeTypes[0].Groups[1].Decision = groupDecision{Hold: heldForFailure}
	cs = out.apply(&status.ClusterStatus{})
	if c := meta.FindStatusCondition(cs.NodeTypes[0].Conditions, ConditionProgressing); c.Status != metav1.ConditionTrue {
		t.Errorf("Progressing = %+v, want True while a change waits for a failed object", c)
	}
}

// TestProgressingWhileCreating: the pass that creates a node type's workload
// says Creating, the passes after it keep saying so while the node type is
// progressing, and once it is rolled out a later rollout is RollingOut again.
func TestProgressingWhileCreating(t *testing.T) {
	progressing := func(cs *status.ClusterStatus) *metav1.Condition {
		return meta.FindStatusCondition(cs.NodeTypes[1].Conditions, ConditionProgressing)
	}
	out := rolledOutCluster()
	out.nodeTypes[1].Decision = nodeTypeDecision{Pending: true}
	out.nodeTypes[1].Groups[0].Decision = groupDecision{Apply: true, Changing: true, Creating: true}
	out.nodeTypes[1].Groups[0].Rollout = rollout{Replicas: 3, Message: "the workload is being created"}
	cs := out.apply(&status.ClusterStatus{})
	if c := progressing(cs); c.Status != metav1.ConditionTrue || c.Reason != ReasonCreating {
		t.Fatalf("the pass that creates the workload: Progressing %+v, want True, %s", c, ReasonCreating)
	}

	out.nodeTypes[1].Groups[0].Decision = groupDecision{Apply: true}
	out.nodeTypes[1].Groups[0].Rollout = rollout{Replicas: 3, ReadyReplicas: 1, Message: "1 of 3 ready"}
	cs = out.apply(cs)
	if c := progressing(cs); c.Status != metav1.ConditionTrue || c.Reason != ReasonCreating {
		t.Errorf("pods of the new workload coming up: Progressing %+v, want True, %s", c, ReasonCreating)
	}

	cs = rolledOutCluster().apply(cs)
	if c := progressing(cs); c.Reason != ReasonRolloutComplete {
		t.Fatalf("created: Progressing %+v, want %s", c, ReasonRolloutComplete)
	}
	out = rolledOutCluster()
	out.nodeTypes[1].Decision = nodeTypeDecision{Pending: true}
	out.nodeTypes[1].Groups[0].Decision = groupDecision{Apply: true, Changing: true}
	out.nodeTypes[1].Groups[0].Rollout = rollout{Replicas: 3, ReadyReplicas: 3, Updating: true}
	if c := progressing(out.apply(cs)); c.Status != metav1.ConditionTrue || c.Reason != ReasonRollingOut {
		t.Errorf("a later change: Progressing %+v, want True, %s", c, ReasonRollingOut)
	}
}

// TestAvailableJudgedByTheGroupsOwnBudget: a group whose own budget keeps 3
// of 3 pods is not Available with 2, though the node type's default budget
// would allow one unavailable pod.
func TestAvailableJudgedByTheGroupsOwnBudget(t *testing.T) {
	out := rolledOutCluster()
	g := &out.nodeTypes[1].Groups[0]
	g.Budget = Disruption{MinAvailable: ptr.To(intstr.FromInt32(3))}
	g.Rollout.AvailableReplicas = 2
	cs := out.apply(&status.ClusterStatus{})
	if c := meta.FindStatusCondition(cs.NodeTypes[1].Conditions, ConditionAvailable); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("b with 2 of 3 pods under minAvailable 3: Available %+v, want False", c)
	}
	g.Budget = Disruption{}
	cs = out.apply(&status.ClusterStatus{})
	if !meta.IsStatusConditionTrue(cs.NodeTypes[1].Conditions, ConditionAvailable) {
		t.Errorf("b with 2 of 3 pods under the default budget: Available %+v, want True", meta.FindStatusCondition(cs.NodeTypes[1].Conditions, ConditionAvailable))
	}
}
