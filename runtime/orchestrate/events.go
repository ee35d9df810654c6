package orchestrate

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// event is one events.k8s.io/v1 Event to record on the CR.
type event struct {
	Type   string // corev1.EventTypeNormal or corev1.EventTypeWarning
	Reason string
	Action string
	Note   string
	// NodeType is the node type the event is about, "" when it is about
	// the whole CR.
	NodeType string
}

// nodeTypeFieldPath is the regarding.fieldPath of an event about one node
// type: its entry in the CR's status, written the way the ObjectReference
// documentation (and the kubelet, for containers) names a list item by its
// name, e.g. status.nodeTypes{broker}.
func nodeTypeFieldPath(nodeType string) string {
	return fmt.Sprintf("status.nodeTypes{%s}", nodeType)
}

// recordEvents records evs on owner. An event about a node type regards the
// node type's part of owner (nodeTypeFieldPath), not owner as a whole.
//
// Why: client-go's events.k8s.io broadcaster folds events that agree on
// type, reason, action, reporting controller and instance, regarding and
// related into one series, whatever their notes say. One status write that
// starts, blocks or completes several node types records several such events
// on owner at one resourceVersion. Regarding the whole owner, they became one
// Event carrying a single node type's note and a series count of 2; the
// broadcaster keeps later counts in memory and writes them only when it ends
// the series, six to twelve minutes later, or never if the process stops
// first. Writing the series also races with creating its first Event (the
// PATCH meets 404, the fallback CREATE meets 409), and the broadcaster
// retries ten seconds later: an event PATCH when the operator is otherwise
// idle. With the field path each node type's event is an Event of its own,
// written with one CREATE. A recorder other than client-go's may ignore the
// field path; nothing else depends on it.
func recordEvents(ctx context.Context, rec events.EventRecorder, scheme *runtime.Scheme, owner runtime.Object, evs []event) {
	if len(evs) == 0 {
		return
	}
	ref, err := reference.GetReference(scheme, owner)
	if err != nil {
		// Unreachable for an owner type that New accepted (it is in the
		// scheme); the recorder cannot reference owner either, so the
		// events would be dropped: say so rather than silently.
		log.FromContext(ctx).Error(err, "cannot record events: no reference to the resource", "events", len(evs))
		return
	}
	for _, e := range evs {
		regarding := owner
		if e.NodeType != "" {
			r := ref.DeepCopy()
			r.FieldPath = nodeTypeFieldPath(e.NodeType)
			regarding = r
		}
		rec.Eventf(regarding, nil, e.Type, e.Reason, e.Action, "%s", e.Note)
	}
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
			case quietProgress(newProg.Reason), newProg.Reason == ReasonRolloutComplete && oldProg != nil && quietProgress(oldProg.Reason):
				// A node type's creation, or pods rolling back after a
				// revert of drift: the Builder's Created or Updated events
				// tell it, and Ready says when it is up.
			case newProg.Status == metav1.ConditionTrue && !wasProgressing:
				out = append(out, event{corev1.EventTypeNormal, EventRolloutStarted, actionRollout,
					fmt.Sprintf("node type %q: %s", nt.Name, newProg.Message), nt.Name})
			case newProg.Reason == ReasonRolloutComplete && wasProgressing:
				out = append(out, event{corev1.EventTypeNormal, EventRolloutCompleted, actionRollout,
					fmt.Sprintf("node type %q: every workload is rolled out", nt.Name), nt.Name})
			case newProg.Reason == ReasonRolloutStalled && (oldProg == nil || oldProg.Reason != ReasonRolloutStalled):
				out = append(out, event{corev1.EventTypeWarning, EventRolloutStalled, actionRollout,
					fmt.Sprintf("node type %q: %s", nt.Name, newProg.Message), nt.Name})
			}
		}
		oldBlk := meta.FindStatusCondition(old, ConditionRolloutBlocked)
		newBlk := meta.FindStatusCondition(nt.Conditions, ConditionRolloutBlocked)
		if newBlk != nil && newBlk.Status == metav1.ConditionTrue && eventfulBlock(newBlk.Reason) &&
			(oldBlk == nil || oldBlk.Status != metav1.ConditionTrue || oldBlk.Reason != newBlk.Reason || oldBlk.Message != newBlk.Message) {
			out = append(out, event{corev1.EventTypeNormal, EventRolloutBlocked, actionWait,
				fmt.Sprintf("node type %q: %s", nt.Name, newBlk.Message), nt.Name})
		}
	}
	out = append(out, toggleEvents(prev.Conditions, next.Conditions, ConditionRolloutPaused,
		event{corev1.EventTypeNormal, EventRolloutPaused, actionPause, pausedMessage, ""},
		event{corev1.EventTypeNormal, EventRolloutResumed, actionResume, "the pause was lifted; held workload changes roll out in deployment order", ""})...)
	out = append(out, toggleEvents(prev.Conditions, next.Conditions, ConditionReconcileDisabled,
		event{corev1.EventTypeNormal, EventReconcileDisabled, actionDisable, disabledMessage, ""},
		event{corev1.EventTypeNormal, EventReconcileEnabled, actionEnable, "reconciling resumed", ""})...)
	return out
}

// eventfulBlock reports whether a RolloutBlocked reason is recorded as an
// event when it starts: the wait for an earlier node type, and a canary's
// wait, whose event says what lets the rollout go on. The others have
// events of their own (a hook's, a refusal's) or are the CR's (a pause).
func eventfulBlock(reason string) bool {
	return reason == ReasonWaitingForNodeType || reason == ReasonCanaryWaiting
}

// quietProgress reports whether a Progressing reason is one whose start and
// end record no rollout event: the CR asked for no rollout.
func quietProgress(reason string) bool {
	return reason == ReasonCreating || reason == ReasonRevertingDrift
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
