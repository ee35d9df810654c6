package orchestrate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// This file says what the CR's status means to tools that read it the way
// kstatus does (kubectl wait, Flux, Argo CD, kpt): the Reconciling and
// Stalled conditions, the observedGeneration that catches up only once a
// generation is settled, and the summary fields the printer columns show.

// verdict is where a node type's rollout stands, from best to worst; the CR
// takes the worst of its node types'.
type verdict int

const (
	// rolledOut: nothing holds the node type.
	rolledOut verdict = iota
	// held: a change waits on purpose, for the pause annotation to be
	// lifted. Neither Reconciling nor Stalled: Ready is False and says so,
	// which kstatus reads as in progress.
	held
	// reconciling: a change is rolling out, or waits for something that
	// comes without anyone changing the CR.
	reconciling
	// stalled: the rollout cannot go on until someone changes the CR or an
	// object in its way; retrying the same pass gives the same answer.
	stalled
)

// verdicts is the rule, in one place, for what each reason a node type's
// conditions give for not being rolled out means. A reason missing here is
// reconciling, since the operator retries it. The pass's own failure, which
// Ready reports as ReconcileFailed, is stalled when its error is terminal
// (reconcile.TerminalError: an invalid deployment order, a Build that said
// so) and reconciling otherwise (outcome.verdict).
var verdicts = map[string]verdict{
	// Pods are being replaced or are starting.
	ReasonRollingOut:       reconciling,
	ReasonReplicasNotReady: reconciling,
	ReasonCreating:         reconciling,
	ReasonRevertingDrift:   reconciling,
	// Its turn in the deployment order comes when the earlier node type is
	// rolled out.
	ReasonWaitingForNodeType: reconciling,
	// The claims are being expanded.
	ReasonStorageResizing: reconciling,
	// Retried until the ConfigMap or Secret exists, which in a GitOps sync
	// or with a secrets operator routinely happens after the CR is applied.
	builder.ReasonConfigMissing: reconciling,
	// A node type's hook has not said yes to a pod yet, or failed: it is
	// asked again, and the application's state changes by itself.
	ReasonWaitingForHook: reconciling,
	ReasonHookFailed:     reconciling,
	ReasonRemovingPods:   reconciling,
	// Room in a change budget comes as the other groups' pods become
	// Ready.
	ReasonWaitingForChangeBudget: reconciling,

	ReasonRolloutPaused: held,
	// A canary waits for its approval (or its soak).
	ReasonCanaryWaiting: held,

	// An object the operator did not create has the name of a child: a
	// human renames, deletes or adopts it.
	builder.ReasonNameTaken:         stalled,
	builder.ReasonControlledByOther: stalled,
	// The API server refuses the change (such as a storage request that
	// shrinks), or the storage class cannot expand claims: the spec must
	// change.
	builder.ReasonUpdateRejected:       stalled,
	builder.ReasonStorageResizeRefused: stalled,
	// A Deployment exceeded its progress deadline, which kstatus itself
	// calls Failed.
	ReasonRolloutStalled: stalled,
}

func verdictOf(reason string) verdict {
	if v, ok := verdicts[reason]; ok {
		return v
	}
	return reconciling
}

// nodeTypeState is one node type's rollout as its status entry says.
type nodeTypeState struct {
	Name    string
	Verdict verdict
	// Reason and Message are those of the condition that gave the
	// verdict; empty when rolled out.
	Reason, Message string
	// Blocked is true when its RolloutBlocked condition is True.
	Blocked   bool
	Available bool
}

// stateOf judges a node type by the worst of the conditions that say it is
// not rolled out: RolloutBlocked True, Progressing True or stalled, and
// StorageResizing True.
func stateOf(nt status.NodeTypeStatus) nodeTypeState {
	s := nodeTypeState{
		Name:      nt.Name,
		Blocked:   meta.IsStatusConditionTrue(nt.Conditions, ConditionRolloutBlocked),
		Available: meta.IsStatusConditionTrue(nt.Conditions, ConditionAvailable),
	}
	for _, c := range nt.Conditions {
		if !holdsRollout(c) {
			continue
		}
		if v := verdictOf(c.Reason); s.Reason == "" || v > s.Verdict {
			s.Verdict, s.Reason, s.Message = v, c.Reason, c.Message
		}
	}
	return s
}

func holdsRollout(c metav1.Condition) bool {
	switch c.Type {
	case ConditionRolloutBlocked, ConditionStorageResizing:
		return c.Status == metav1.ConditionTrue
	case ConditionProgressing:
		return c.Status == metav1.ConditionTrue || c.Reason == ReasonRolloutStalled
	}
	return false
}

// worstState returns the first node type, in deployment order, with the
// worst verdict; its Verdict is rolledOut when there is none to report.
func worstState(nts []status.NodeTypeStatus) nodeTypeState {
	var worst nodeTypeState
	for _, nt := range nts {
		if s := stateOf(nt); s.Verdict > worst.Verdict {
			worst = s
		}
	}
	return worst
}

// verdict is the CR's: the pass's failure when it failed, since the node
// types' entries are then not this pass's, and the worst node type's
// otherwise.
func (out *outcome) verdict(cs *status.ClusterStatus) (verdict, string, string) {
	if out.failure != "" {
		if out.terminal {
			return stalled, ReasonReconcileFailed, out.failure
		}
		return reconciling, ReasonReconcileFailed, out.failure
	}
	w := worstState(cs.NodeTypes)
	if w.Verdict == rolledOut {
		return rolledOut, "", ""
	}
	return w.Verdict, w.Reason, fmt.Sprintf("node type %q: %s", w.Name, w.Message)
}

// rolloutConditions sets Reconciling or Stalled from the CR's verdict and
// removes the other: kstatus's conditions are abnormal-true, their absence
// means normal, and a True Reconciling would hide a Stalled from it.
func (out *outcome) rolloutConditions(cs *status.ClusterStatus) {
	v, reason, msg := out.verdict(cs)
	for typ, holds := range map[string]bool{ConditionReconciling: v == reconciling, ConditionStalled: v == stalled} {
		if !holds {
			meta.RemoveStatusCondition(&cs.Conditions, typ)
			continue
		}
		// Set in place: an unchanged condition keeps its
		// lastTransitionTime, so an unchanged verdict writes nothing.
		meta.SetStatusCondition(&cs.Conditions, metav1.Condition{
			Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: out.generation,
		})
	}
}

// settled reports whether the pass reached a verdict on its generation that
// only a change can alter: rolled out and Ready, or Stalled. observedGeneration
// catches up only then, so that kstatus reports a rollout as in progress
// until it is done, and a blocked one as failed rather than in progress.
func (out *outcome) settled(cs *status.ClusterStatus) bool {
	if out.failure != "" {
		return out.terminal
	}
	return out.observed && (meta.IsStatusConditionTrue(cs.Conditions, ConditionReady) ||
		meta.IsStatusConditionTrue(cs.Conditions, ConditionStalled))
}

// summarize sets the fields the printer columns show.
func summarize(cs *status.ClusterStatus) {
	ready := 0
	cs.RollingNodeType = ""
	for _, nt := range cs.NodeTypes {
		s := stateOf(nt)
		switch {
		case s.Verdict == rolledOut:
			if s.Available {
				ready++
			}
		case cs.RollingNodeType == "":
			cs.RollingNodeType = s.rolling()
		}
	}
	cs.ReadyNodeTypes = fmt.Sprintf("%d/%d", ready, len(cs.NodeTypes))
}

// rolling is how RollingNodeType names a node type that is not rolled out.
func (s nodeTypeState) rolling() string {
	if s.Blocked || s.Verdict == stalled {
		return s.Name + " (blocked)"
	}
	return s.Name
}
