package orchestrate

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// rolling is the status of a CR whose node type b is rolling out.
func rolling() *status.ClusterStatus {
	return &status.ClusterStatus{
		ObservedGeneration: 2,
		Conditions: []metav1.Condition{
			{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonRolloutInProgress, Message: `rolling out: node type "b"`, ObservedGeneration: 3},
		},
		NodeTypes: []status.NodeTypeStatus{{
			Name: "b", Replicas: 6, ReadyReplicas: 2, ConfigHash: "h2",
			Conditions: []metav1.Condition{
				{Type: ConditionProgressing, Status: metav1.ConditionTrue, Reason: ReasonRollingOut, Message: "2 of 6 replicas ready", ObservedGeneration: 3},
			},
		}},
	}
}

func TestProgressOnly(t *testing.T) {
	tests := []struct {
		name   string
		change func(*status.ClusterStatus)
		want   bool
	}{
		{"a pod more is ready", func(s *status.ClusterStatus) {
			s.NodeTypes[0].ReadyReplicas = 3
			s.NodeTypes[0].Conditions[0].Message = "3 of 6 replicas ready"
		}, true},
		{"the desired replicas move", func(s *status.ClusterStatus) { s.NodeTypes[0].Replicas = 7 }, true},
		{"the CR's message quotes new counts", func(s *status.ClusterStatus) { s.Conditions[0].Message = "rolling out: 3 of 6" }, true},
		{"the rollout completes", func(s *status.ClusterStatus) {
			s.NodeTypes[0].Conditions[0].Status, s.NodeTypes[0].Conditions[0].Reason = metav1.ConditionFalse, ReasonRolloutComplete
		}, false},
		{"the reason changes", func(s *status.ClusterStatus) { s.NodeTypes[0].Conditions[0].Reason = ReasonReplicasNotReady }, false},
		{"a new generation is observed", func(s *status.ClusterStatus) { s.NodeTypes[0].Conditions[0].ObservedGeneration = 4 }, false},
		{"a condition appears", func(s *status.ClusterStatus) {
			s.NodeTypes[0].Conditions = append(s.NodeTypes[0].Conditions, metav1.Condition{Type: ConditionRolloutBlocked, Status: metav1.ConditionTrue, Reason: ReasonWaitingForHook})
		}, false},
		{"the config hash changes", func(s *status.ClusterStatus) { s.NodeTypes[0].ConfigHash = "h3" }, false},
		{"the inventory changes", func(s *status.ClusterStatus) { s.Inventory = []string{"ConfigMap.v1/ns/b"} }, false},
		{"a node type goes", func(s *status.ClusterStatus) { s.NodeTypes = nil }, false},
		{"the observed generation catches up", func(s *status.ClusterStatus) { s.ObservedGeneration = 3 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := rolling()
			tt.change(next)
			if got := progressOnly(rolling(), next); got != tt.want {
				t.Errorf("progressOnly = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestProgressWaitsUntilItStandsStill: progress is held back while it
// keeps moving, and written once the same progress has stood still for
// progressQuiet; a write of the CR's status starts afresh.
func TestProgressWaitsUntilItStandsStill(t *testing.T) {
	now := time.Unix(1000, 0)
	m := newStatusMemo()
	m.now = func() time.Time { return now }
	at := func(ready int32) *status.ClusterStatus {
		st := rolling()
		st.NodeTypes[0].ReadyReplicas = ready
		return st
	}
	if w := m.progressWait("uid-1", at(1)); w != progressQuiet {
		t.Errorf("progress first held back waits %s, want %s", w, progressQuiet)
	}
	for ready := int32(2); ready <= 5; ready++ {
		now = now.Add(progressQuiet - time.Second)
		if w := m.progressWait("uid-1", at(ready)); w != progressQuiet {
			t.Errorf("%d ready, %s after the last count: waits %s, want %s (the count moved)", ready, progressQuiet-time.Second, w, progressQuiet)
		}
	}
	now = now.Add(3 * time.Second)
	if w := m.progressWait("uid-1", at(5)); w != progressQuiet-3*time.Second {
		t.Errorf("3s after the count stopped at 5, waits %s, want %s", w, progressQuiet-3*time.Second)
	}
	now = now.Add(progressQuiet)
	if w := m.progressWait("uid-1", at(5)); w != 0 {
		t.Errorf("the count has stood still for %s: waits %s, want 0", progressQuiet, w)
	}
	m.written("uid-1", "10", "11", at(5))
	if w := m.progressWait("uid-1", at(5)); w != progressQuiet {
		t.Errorf("right after a write, progress waits %s, want %s", w, progressQuiet)
	}
}
