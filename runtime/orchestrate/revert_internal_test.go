package orchestrate

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// TestRolloutOfARevert judges a Deployment at the generation a revert of a
// hand scale (2 to 4 and back) gave it, as its controller catches up.
func TestRolloutOfARevert(t *testing.T) {
	o := &Orchestrator[*testv1.Cluster]{}
	at := func(mutate func(d *appsv1.Deployment)) *appsv1.Deployment {
		d := rolledOutDeployment()
		d.UID, d.Generation = "u", 4
		mutate(d)
		return d
	}
	o.reverts.remember(at(func(*appsv1.Deployment) {}), false)
	tests := []struct {
		name      string
		d         *appsv1.Deployment
		done      bool
		reverting bool
	}{
		{"its controller has not observed the revert", at(func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 3 }), true, false},
		{"the pods the hand scale added are being removed", at(func(d *appsv1.Deployment) {
			d.Status.ObservedGeneration, d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas = 4, 4, 4, 4
		}), true, false},
		{"a pod is not ready", at(func(d *appsv1.Deployment) { d.Status.ObservedGeneration, d.Status.ReadyReplicas = 4, 1 }), false, true},
		{"pods roll back to the template", at(func(d *appsv1.Deployment) { d.Status.ObservedGeneration, d.Status.UpdatedReplicas = 4, 1 }), false, true},
	}
	for _, tt := range tests {
		ro, err := o.rollout(tt.d)
		if err != nil {
			t.Fatal(err)
		}
		if ro.Done != tt.done || ro.Reverting != tt.reverting {
			t.Errorf("%s: done %t reverting %t (%s), want done %t reverting %t", tt.name, ro.Done, ro.Reverting, ro.Message, tt.done, tt.reverting)
		}
	}
	// A revert that rolls pods back is not judged on counts its controller
	// took before it observed the revert.
	rolling := &Orchestrator[*testv1.Cluster]{}
	rolling.reverts.remember(tests[0].d, true)
	if ro, _ := rolling.rollout(tests[0].d); ro.Done || !ro.Reverting {
		t.Errorf("a revert that rolls pods back, not observed yet: done %t reverting %t, want not done, reverting", ro.Done, ro.Reverting)
	}
	// Without the revert the usual rules hold.
	if ro, _ := (&Orchestrator[*testv1.Cluster]{}).rollout(tests[0].d); ro.Done {
		t.Error("a generation its controller has not observed counts as rolled out without a revert")
	}
	// A stale read of the hand-scaled generation, rolled out at 4 replicas,
	// does not make it forget the revert.
	stale := at(func(d *appsv1.Deployment) {
		d.Generation, d.Status.ObservedGeneration, d.Spec.Replicas = 3, 3, ptr.To[int32](4)
		d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas = 4, 4, 4, 4
	})
	if ro, _ := o.rollout(stale); !ro.Done {
		t.Fatalf("the stale read is not rolled out: %s", ro.Message)
	}
	if g := o.reverts.of(stale).generation; g != 4 {
		t.Errorf("after a stale read the revert is remembered at generation %d, want 4", g)
	}
	// Rolled out by the usual rules while its controller still removes the
	// pods the hand scale added (its ReplicaSet's status has not counted
	// them yet): the revert is kept, and the status that then counts them
	// is still no rollout.
	removing := at(func(d *appsv1.Deployment) { d.Status.ObservedGeneration, d.Status.UnavailableReplicas = 4, 2 })
	if ro, _ := o.rollout(removing); !ro.Done {
		t.Fatalf("the workload whose surplus pods go is not rolled out: %s", ro.Message)
	}
	if g := o.reverts.of(removing).generation; g != 4 {
		t.Errorf("while the surplus pods go the revert is remembered at generation %d, want 4", g)
	}
	if ro, _ := o.rollout(tests[1].d); !ro.Done || ro.Reverting {
		t.Errorf("the surplus pods counted again after a status without them: done %t reverting %t (%s), want done",
			ro.Done, ro.Reverting, ro.Message)
	}
	// Once the workload is at rest, or moved on, the revert is forgotten.
	if _, err := o.rollout(at(func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 4 })); err != nil {
		t.Fatal(err)
	}
	if g := o.reverts.of(tests[0].d).generation; g != 0 {
		t.Errorf("the revert is remembered at generation %d after the workload rolled out", g)
	}
}

// TestRollsBack: a revert rolls pods back only when it restores the pod
// template and the hand-edited one had replaced pods.
func TestRollsBack(t *testing.T) {
	deployment := func(image string, replicas, updated int32) *appsv1.Deployment {
		d := rolledOutDeployment()
		d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "main", Image: image}}
		d.Status.Replicas, d.Status.UpdatedReplicas = replicas, updated
		return d
	}
	sts := func(image string, current int32, currentRevision string) *appsv1.StatefulSet {
		s := rolledOutStatefulSet()
		s.Spec.Template.Spec.Containers = []corev1.Container{{Name: "main", Image: image}}
		s.Status.CurrentReplicas, s.Status.CurrentRevision = current, currentRevision
		return s
	}
	unobserved := deployment("hand", 2, 2)
	unobserved.Generation++
	tests := []struct {
		name          string
		before, after client.Object
		want          bool
	}{
		{"a hand scale: the template stays", deployment("img", 3, 3), deployment("img", 2, 2), false},
		{"an image change whose surge pod is all that ran", deployment("hand", 3, 1), deployment("img", 3, 1), false},
		{"an image change the Deployment rolled out", deployment("hand", 2, 2), deployment("img", 2, 2), true},
		{"an image change half rolled out", deployment("hand", 3, 2), deployment("img", 3, 2), true},
		{"an image change its controller has not seen", unobserved, deployment("img", 2, 2), false},
		{"a StatefulSet's image change not started", sts("hand", 3, "r1"), sts("img", 3, "r1"), false},
		{"a StatefulSet's image change under way", sts("hand", 2, "r1"), sts("img", 2, "r1"), true},
		{"a StatefulSet's image change rolled out", sts("hand", 3, "r2"), sts("img", 3, "r2"), true},
	}
	for _, tt := range tests {
		if got := rollsBack(tt.before, tt.after); got != tt.want {
			t.Errorf("%s: rollsBack = %t, want %t", tt.name, got, tt.want)
		}
	}
}

// TestRevertingDriftRecordsNoRolloutEvent: pods rolling back after a revert
// show as Progressing with reason RevertingDrift, and neither its start nor
// its end is a rollout event.
func TestRevertingDriftRecordsNoRolloutEvent(t *testing.T) {
	group := doneGroup("", 2, "h")
	group.Decision = groupDecision{Apply: true}
	group.Rollout.Done, group.Rollout.Reverting, group.Rollout.Message = false, true, "1 of 2 replicas updated"
	prev := nodeTypeStatus(nil, nodeTypeObserved{Name: "b", Groups: []groupObserved{doneGroup("", 2, "h")}}, 1)
	next := nodeTypeStatus(&prev, nodeTypeObserved{Name: "b", Groups: []groupObserved{group}}, 1)
	c := findCondition(next.Conditions, ConditionProgressing)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != ReasonRevertingDrift {
		t.Fatalf("Progressing while pods roll back after a revert: %+v, want True %s", c, ReasonRevertingDrift)
	}
	done := nodeTypeStatus(&next, nodeTypeObserved{Name: "b", Groups: []groupObserved{doneGroup("", 2, "h")}}, 1)
	wrap := func(nt status.NodeTypeStatus) *status.ClusterStatus {
		return &status.ClusterStatus{NodeTypes: []status.NodeTypeStatus{nt}}
	}
	if evs := append(statusEvents(wrap(prev), wrap(next)), statusEvents(wrap(next), wrap(done))...); len(evs) != 0 {
		t.Errorf("events for pods rolling back after a revert: %v, want none", evs)
	}
	// A rollout the CR asked for in the same node type is one.
	rolling := doneGroup("x", 2, "h")
	rolling.Decision, rolling.Rollout.Done = groupDecision{Apply: true, Changing: true}, false
	both := nodeTypeStatus(&prev, nodeTypeObserved{Name: "b", Groups: []groupObserved{group, rolling}}, 1)
	if c := findCondition(both.Conditions, ConditionProgressing); c.Reason != ReasonRollingOut {
		t.Errorf("a revert beside a rollout: Progressing reason %s, want %s", c.Reason, ReasonRollingOut)
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
