package orchestrate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// event is one events.k8s.io/v1 Event to record on the CR.
type event struct {
	Type   string // corev1.EventTypeNormal or corev1.EventTypeWarning
	Reason string
	Action string
	Note   string
}

// Event actions.
const (
	actionRollout = "Rollout"
	actionWait    = "Wait"
	actionPause   = "Pause"
	actionResume  = "Resume"
	actionDisable = "Disable"
	actionEnable  = "Enable"
	actionDelete  = "Delete"
)

// statusEvents returns the events that the change from prev to next
// deserves. Events are derived from condition transitions, never from the
// pass itself, and the Orchestrator records them only once next has been
// written; a pass that changes nothing, or that repeats itself because it read
// a stale CR, therefore records nothing.
func statusEvents(prev, next *status.ClusterStatus) []event {
	var out []event
	for _, nt := range next.NodeTypes {
		var old []metav1.Condition
		for _, p := range prev.NodeTypes {
			if p.Name == nt.Name {
				old = p.Conditions
				break
			}
		}
		oldProg := meta.FindStatusCondition(old, ConditionProgressing)
		newProg := meta.FindStatusCondition(nt.Conditions, ConditionProgressing)
		wasProgressing := oldProg != nil && oldProg.Status == metav1.ConditionTrue
		if newProg != nil {
			switch {
			case newProg.Status == metav1.ConditionTrue && !wasProgressing:
				out = append(out, event{corev1.EventTypeNormal, EventRolloutStarted, actionRollout,
					fmt.Sprintf("node type %q: %s", nt.Name, newProg.Message)})
			case newProg.Reason == ReasonRolloutComplete && wasProgressing:
				out = append(out, event{corev1.EventTypeNormal, EventRolloutCompleted, actionRollout,
					fmt.Sprintf("node type %q: every workload is rolled out", nt.Name)})
			case newProg.Reason == ReasonRolloutStalled && (oldProg == nil || oldProg.Reason != ReasonRolloutStalled):
				out = append(out, event{corev1.EventTypeWarning, EventRolloutStalled, actionRollout,
					fmt.Sprintf("node type %q: %s", nt.Name, newProg.Message)})
			}
		}
		oldBlk := meta.FindStatusCondition(old, ConditionRolloutBlocked)
		newBlk := meta.FindStatusCondition(nt.Conditions, ConditionRolloutBlocked)
		if newBlk != nil && newBlk.Status == metav1.ConditionTrue && newBlk.Reason == ReasonWaitingForNodeType &&
			(oldBlk == nil || oldBlk.Status != metav1.ConditionTrue || oldBlk.Reason != newBlk.Reason || oldBlk.Message != newBlk.Message) {
			out = append(out, event{corev1.EventTypeNormal, EventRolloutBlocked, actionWait,
				fmt.Sprintf("node type %q: %s", nt.Name, newBlk.Message)})
		}
	}
	out = append(out, toggleEvents(prev.Conditions, next.Conditions, ConditionRolloutPaused,
		event{corev1.EventTypeNormal, EventRolloutPaused, actionPause, pausedMessage},
		event{corev1.EventTypeNormal, EventRolloutResumed, actionResume, "the pause was lifted; held workload changes roll out in deployment order"})...)
	out = append(out, toggleEvents(prev.Conditions, next.Conditions, ConditionReconcileDisabled,
		event{corev1.EventTypeNormal, EventReconcileDisabled, actionDisable, disabledMessage},
		event{corev1.EventTypeNormal, EventReconcileEnabled, actionEnable, "reconciling resumed"})...)
	return out
}

// toggleEvents reports a condition of type typ that became True (on) or that
// was True and is gone or no longer True (off).
func toggleEvents(prev, next []metav1.Condition, typ string, on, off event) []event {
	was := meta.IsStatusConditionTrue(prev, typ)
	is := meta.IsStatusConditionTrue(next, typ)
	switch {
	case is && !was:
		return []event{on}
	case was && !is:
		return []event{off}
	}
	return nil
}
