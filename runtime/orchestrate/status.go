package orchestrate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// groupObserved is one group after the pass: what was decided and what its
// workload looks like now (the server's answer to the apply, or the live
// object when it was held or unchanged).
type groupObserved struct {
	Name        string
	HasWorkload bool
	// Budget is the disruption budget of the group's workload.
	Budget   Disruption
	Decision groupDecision
	Rollout  rollout
}

// nodeTypeObserved is one node type after the pass.
type nodeTypeObserved struct {
	Name     string
	Decision nodeTypeDecision
	Groups   []groupObserved
	// Refused are the node type's children the Builder would not write:
	// refused (an object the operator does not own has the name), held (a
	// consumed ConfigMap or Secret is missing) or blocked.
	Refused []refusal
	// Resizing are the claims of the node type's StatefulSets whose
	// capacity has not reached their grown request (see storage.go).
	Resizing []string
	// Draining says what the removal of one of its workloads no longer
	// desired waits for (drain.go), or is empty.
	Draining string
}

// draining reports whether a node type has a workload being removed one
// pod at a time.
func draining(nts []nodeTypeObserved) bool {
	for _, nt := range nts {
		if nt.Draining != "" {
			return true
		}
	}
	return false
}

// creationReason returns Progressing's reason for a node type that is
// progressing: ReasonCreating while its workloads are being created (this
// pass creates one, or the CR says so already), reason otherwise.
func creationReason(prev *status.NodeTypeStatus, creating bool, reason string) string {
	if creating {
		return ReasonCreating
	}
	if prev != nil {
		if c := meta.FindStatusCondition(prev.Conditions, ConditionProgressing); c != nil &&
			c.Status == metav1.ConditionTrue && c.Reason == ReasonCreating {
			return ReasonCreating
		}
	}
	return reason
}

// progressReason returns Progressing's reason for a node type that is
// progressing: creationReason's, unless all that moves is the revert of
// drift (reverting), which is ReasonRevertingDrift.
func progressReason(prev *status.NodeTypeStatus, creating, reverting bool, reason string) string {
	if reason = creationReason(prev, creating, reason); reason == ReasonCreating || !reverting {
		return reason
	}
	return ReasonRevertingDrift
}

// nodeTypeStatus computes the status entry of one node type. prev is the
// entry as the CR holds it (nil when new); conditions whose status, reason
// and message are unchanged keep their lastTransitionTime, so recomputing an
// unchanged state yields an identical entry and no status write.
func nodeTypeStatus(prev *status.NodeTypeStatus, nt nodeTypeObserved, generation int64) status.NodeTypeStatus {
	out := status.NodeTypeStatus{Name: nt.Name}
	if prev != nil {
		out.Conditions = append([]metav1.Condition(nil), prev.Conditions...)
	}
	set := func(typ string, st metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&out.Conditions, metav1.Condition{
			Type: typ, Status: st, Reason: reason, Message: msg, ObservedGeneration: generation,
		})
	}

	var hashes []string
	var unavailable, stalled, converging, waiting string
	var hook *groupObserved   // first group waiting on a hook
	var canary *groupObserved // first group waiting at its canary
	var budget *groupObserved // first group waiting for the change budget
	updating, creating := false, false
	reverting := true // every converging group only carries out a revert of drift
	workloads := 0
	for _, g := range nt.Groups {
		if !g.HasWorkload {
			continue
		}
		workloads++
		r := g.Rollout
		out.Replicas += r.Replicas
		out.ReadyReplicas += r.ReadyReplicas
		hashes = append(hashes, groupHash(g.Name, r.ConfigHash))
		if r.Hook != nil && hook == nil {
			hook = &g
		}
		if r.Canary != nil && canary == nil {
			canary = &g
		}
		if need := g.Budget.availableNeeded(r.Replicas); r.AvailableReplicas < need && unavailable == "" {
			unavailable = fmt.Sprintf("%s%d of %d replicas available, %d needed", groupPrefix(g.Name), r.AvailableReplicas, r.Replicas, need)
		}
		switch {
		case r.Stalled:
			if stalled == "" {
				stalled = groupPrefix(g.Name) + r.Message
			}
		case g.Decision.Changing || (g.Decision.Apply && !r.Done):
			if converging == "" {
				msg := r.Message
				switch {
				case g.Decision.Creating:
					msg = "created"
				case g.Decision.Changing:
					msg = "applied a new spec"
				}
				converging = groupPrefix(g.Name) + msg
			}
			updating = updating || g.Decision.Changing || r.Updating
			creating = creating || g.Decision.Creating
			reverting = reverting && r.Reverting
		case g.Decision.Hold == heldForGroup:
			if waiting == "" {
				waiting = fmt.Sprintf("%swaits for group %q", groupPrefix(g.Name), g.Decision.WaitingFor)
			}
		case g.Decision.Hold == heldForBudget:
			if budget == nil {
				budget = &g
			}
			if waiting == "" {
				waiting = groupPrefix(g.Name) + budgetMessage(g.Decision.Budget)
			}
		case g.Decision.Hold == heldForFailure:
			if waiting == "" {
				waiting = groupPrefix(g.Name) + "waits for the other objects of the node types to apply"
			}
		}
	}
	if len(hashes) == 1 {
		out.ConfigHash = nt.Groups[firstWorkload(nt.Groups)].Rollout.ConfigHash
	} else {
		out.ConfigHash = strings.Join(hashes, ",")
	}

	switch {
	case workloads == 0:
		set(ConditionAvailable, metav1.ConditionTrue, ReasonNoWorkload, "the node type has no workload")
	case unavailable != "":
		set(ConditionAvailable, metav1.ConditionFalse, ReasonMinimumReplicasUnavailable, unavailable)
	default:
		set(ConditionAvailable, metav1.ConditionTrue, ReasonMinimumReplicasAvailable, "every workload has the replicas available that its disruption budget protects")
	}

	d := nt.Decision
	switch {
	case len(nt.Refused) > 0:
		set(ConditionProgressing, metav1.ConditionFalse, nt.Refused[0].Reason, nt.Refused[0].Message)
	case stalled != "":
		set(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutStalled, stalled)
	case nt.Draining != "":
		set(ConditionProgressing, metav1.ConditionTrue, ReasonRemovingPods, nt.Draining)
	case converging != "" && updating:
		set(ConditionProgressing, metav1.ConditionTrue, progressReason(prev, creating, reverting, ReasonRollingOut), converging)
	case converging != "":
		set(ConditionProgressing, metav1.ConditionTrue, progressReason(prev, creating, reverting, ReasonReplicasNotReady), converging)
	case d.Paused:
		set(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutPaused, pausedMessage)
	case d.BlockedBy != "":
		set(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutBlocked, blockedMessage(d.BlockedBy))
	case waiting != "":
		// The node type is between two of its groups: still rolling out.
		set(ConditionProgressing, metav1.ConditionTrue, creationReason(prev, creating, ReasonRollingOut), waiting)
	default:
		set(ConditionProgressing, metav1.ConditionFalse, ReasonRolloutComplete, "every workload is rolled out")
	}

	if len(nt.Resizing) > 0 {
		set(ConditionStorageResizing, metav1.ConditionTrue, ReasonStorageResizing,
			"claims have not reached their requested capacity yet: "+strings.Join(nt.Resizing, ", "))
	} else {
		meta.RemoveStatusCondition(&out.Conditions, ConditionStorageResizing)
	}

	switch {
	case len(nt.Refused) > 0:
		// The first refusal is enough to act on; the Builder recorded a
		// Warning event for each.
		set(ConditionRolloutBlocked, metav1.ConditionTrue, nt.Refused[0].Reason, nt.Refused[0].Message)
	case hook != nil:
		reason := ReasonWaitingForHook
		if st := hook.Rollout.Hook.Answer.State; st == hookFailed || st == hookBlocked {
			reason = ReasonHookFailed
		}
		set(ConditionRolloutBlocked, metav1.ConditionTrue, reason, groupPrefix(hook.Name)+hook.Rollout.Hook.message())
	case canary != nil:
		set(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonCanaryWaiting, groupPrefix(canary.Name)+canary.Rollout.Canary.message())
	case budget != nil:
		set(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonWaitingForChangeBudget, groupPrefix(budget.Name)+budgetMessage(budget.Decision.Budget))
	case d.BlockedBy != "":
		set(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonWaitingForNodeType, blockedMessage(d.BlockedBy))
	case d.Paused:
		set(ConditionRolloutBlocked, metav1.ConditionTrue, ReasonRolloutPaused, pausedMessage)
	default:
		set(ConditionRolloutBlocked, metav1.ConditionFalse, ReasonNotBlocked, "no change is held")
	}
	return out
}

var pausedMessage = fmt.Sprintf("workload changes are held by the %s annotation", keys.AnnotationPauseRollout)

// blockedMessage is the RolloutBlocked message; it names the node type waited
// for and nothing that changes while waiting, so that it does not cause a
// status write or an event per replica that becomes ready.
func blockedMessage(nodeType string) string {
	return fmt.Sprintf("waiting for node type %q to roll out", nodeType)
}

func groupPrefix(group string) string {
	if group == "" {
		return ""
	}
	return fmt.Sprintf("group %q: ", group)
}

func groupHash(group, hash string) string {
	if group == "" {
		return hash
	}
	return group + "=" + hash
}

func firstWorkload(groups []groupObserved) int {
	for i, g := range groups {
		if g.HasWorkload {
			return i
		}
	}
	return -1
}

// clusterConditions sets the CR-level conditions from the node types'
// entries: Ready, and RolloutPaused while paused. A failed pass's failure
// is Ready's instead, set once: setting Ready from the node types first would
// give it a new lastTransitionTime, and a status write, on every retry.
func clusterConditions(cs *status.ClusterStatus, paused bool, failure string, generation int64) {
	set := func(st metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&cs.Conditions, metav1.Condition{
			Type: ConditionReady, Status: st, Reason: reason, Message: msg, ObservedGeneration: generation,
		})
	}
	var stalled, unavailable, progressing, pausedNTs, pending, resizingNTs []string
	var refused *metav1.Condition
	var refusedNT string
	for _, nt := range cs.NodeTypes {
		prog := meta.FindStatusCondition(nt.Conditions, ConditionProgressing)
		blocked := meta.FindStatusCondition(nt.Conditions, ConditionRolloutBlocked)
		switch {
		case blocked != nil && blocked.Status == metav1.ConditionTrue && isRefusal(blocked.Reason):
			if refused == nil {
				refused, refusedNT = blocked, nt.Name
			}
		case prog != nil && prog.Reason == ReasonRolloutStalled:
			stalled = append(stalled, nt.Name)
		case meta.IsStatusConditionTrue(nt.Conditions, ConditionStorageResizing):
			resizingNTs = append(resizingNTs, nt.Name)
		case meta.IsStatusConditionFalse(nt.Conditions, ConditionAvailable):
			unavailable = append(unavailable, nt.Name)
		case prog != nil && prog.Status == metav1.ConditionTrue:
			progressing = append(progressing, nt.Name)
		case blocked != nil && blocked.Reason == ReasonRolloutPaused:
			pausedNTs = append(pausedNTs, nt.Name)
		case blocked != nil && blocked.Status == metav1.ConditionTrue:
			pending = append(pending, nt.Name)
		}
	}
	switch {
	case failure != "":
		set(metav1.ConditionFalse, ReasonReconcileFailed, failure)
	case refused != nil:
		// A safety refusal needs a human: it comes before everything else.
		set(metav1.ConditionFalse, refused.Reason, fmt.Sprintf("node type %q: %s", refusedNT, refused.Message))
	case len(stalled) > 0:
		set(metav1.ConditionFalse, ReasonRolloutStalled, "rollout stalled: node type "+quoteJoin(stalled))
	case len(resizingNTs) > 0:
		set(metav1.ConditionFalse, ReasonStorageResizing, "storage is growing: node type "+quoteJoin(resizingNTs))
	case len(unavailable) > 0:
		set(metav1.ConditionFalse, ReasonNodeTypeUnavailable, "not available: node type "+quoteJoin(unavailable))
	case len(progressing) > 0:
		set(metav1.ConditionFalse, ReasonRolloutInProgress, "rolling out: node type "+quoteJoin(progressing))
	case len(pausedNTs) > 0:
		set(metav1.ConditionFalse, ReasonRolloutPaused, "changes held by the pause: node type "+quoteJoin(pausedNTs))
	case len(pending) > 0:
		set(metav1.ConditionFalse, ReasonRolloutPending, "changes pending: node type "+quoteJoin(pending))
	default:
		set(metav1.ConditionTrue, ReasonReady, "every node type is rolled out and available")
	}

	if paused {
		meta.SetStatusCondition(&cs.Conditions, metav1.Condition{
			Type: ConditionRolloutPaused, Status: metav1.ConditionTrue, Reason: ReasonPausedByAnnotation,
			Message: pausedMessage, ObservedGeneration: generation,
		})
	} else {
		meta.RemoveStatusCondition(&cs.Conditions, ConditionRolloutPaused)
	}
}

func quoteJoin(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// isRefusal reports whether a RolloutBlocked reason is one of the Builder's
// refusals, which need a human: to write an object the operator does not
// own, a workload whose pods need a ConfigMap or Secret that does not exist,
// or a change that cannot be made.
func isRefusal(reason string) bool {
	switch reason {
	case builder.ReasonNameTaken, builder.ReasonControlledByOther, builder.ReasonConfigMissing,
		builder.ReasonUpdateRejected, builder.ReasonStorageResizeRefused:
		return true
	}
	return false
}
