package orchestrate

// This file holds the rollout-ordering decision. It is a pure function of the
// observed state so that every rule can be unit-tested without a cluster; the
// Orchestrator gathers the inputs, calls decide, and carries out the result.

// holdReason says why a group's workload change is held back.
type holdReason int

const (
	// The zero holdReason: not held, the group's desired workload is
	// applied.
	_ holdReason = iota
	// heldPaused: the CR's pause-rollout annotation is set.
	heldPaused
	// heldForNodeType: an earlier node type in the deployment order is not
	// rolled out yet.
	heldForNodeType
	// heldForGroup: an earlier group of the same node type is not rolled out
	// yet.
	heldForGroup
	// heldForBudget: the node type's change budget (budget.go) has no room
	// for the group's rollout now.
	heldForBudget
	// heldForFailure: the change was let through but not written, because
	// another object of the pass failed to apply. Not decided by decide.
	heldForFailure
)

// groupInput is the observed state of one group.
type groupInput struct {
	Name string
	// HasWorkload is false for a group without a Deployment or StatefulSet;
	// such a group is always applied and is always rolled out.
	HasWorkload bool
	// Exists is true when the group's workload exists in the cluster.
	Exists bool
	// Changed is true when applying the desired workload would change the
	// live one (its spec, its config hash, or a field that drifted).
	Changed bool
	// Done is true when the live workload is fully rolled out.
	Done bool
	// Revert is true when the change only puts back what someone else
	// changed on the live workload (revert.go): applying it is no rollout.
	Revert bool
	// Canary is true for the group a canary of the node type applies to:
	// with a change budget, the groups after it still wait for it.
	Canary bool
	// Replicas, Ready and Updated are the live workload's desired, Ready
	// and updated pods, and Step how many pods one step of its rollout
	// takes down; only a node type with a change budget reads them.
	Replicas, Ready, Updated, Step int32
}

// nodeTypeInput is the observed state of one node type.
type nodeTypeInput struct {
	Name   string
	Groups []groupInput
	// Forced is true when the CR's force-rollout annotation names the node
	// type: it then rolls whatever the state of the node types and groups
	// before it.
	Forced bool
	// Budget is the node type's change budget in pods, 0 for none: its
	// groups then roll in parallel as far as spendBudget allows.
	Budget int32
}

// groupDecision is what to do with one group's workload.
type groupDecision struct {
	// Apply is true when the desired workload is applied (created, changed,
	// or found unchanged). When false the workload is held: recorded in the
	// store so that it is not pruned, but not written.
	Apply bool
	// Changing is true when Apply writes a change to an existing workload or
	// creates it, which starts a rollout of that group.
	Changing bool
	// Creating is true when the workload does not exist yet.
	Creating bool
	// Reverting is true when Apply puts back what someone else changed on
	// the live workload: a write, but no rollout, so not Changing.
	Reverting bool
	// Hold says why the workload is held; zero when Apply is true.
	Hold holdReason
	// WaitingFor names the node type (heldForNodeType) or the group
	// (heldForGroup) the change waits for.
	WaitingFor string
	// Budget is the change budget in pods a heldForBudget change waits for.
	Budget int32
}

// nodeTypeDecision is the outcome for one node type.
type nodeTypeDecision struct {
	Name   string
	Groups []groupDecision
	// RolledOut is true when every group's workload exists, has no change
	// pending and is fully rolled out. Node types after one that is not
	// rolled out hold their changes.
	RolledOut bool
	// Starting is true when a change or creation is applied to at least one of
	// the node type's workloads in this pass.
	Starting bool
	// Pending is true when at least one group's change is held.
	Pending bool
	// BlockedBy names the earlier node type that held a change of this one,
	// or is empty.
	BlockedBy string
	// Paused is true when a change is held by the pause annotation.
	Paused bool
}

// decide applies the rollout rules to the node types, given in deployment
// order:
//
//   - a workload that does not exist yet is created at once: a first install
//     starts every node type in parallel, and pausing does not stop a missing
//     workload from being restored;
//   - a change to an existing workload is applied only when the rollout is
//     not paused, every earlier node type is rolled out (unless the node type
//     is forced), and every earlier group of the same node type is rolled out
//     (unless forced);
//   - a group whose change is applied, or whose workload is created, is not
//     rolled out in this pass, so it holds whatever comes after it;
//   - a group without changes counts as rolled out when its live workload is;
//   - a revert of drift (groupInput.Revert) is applied by the same rules but
//     is not Changing: it starts no rollout;
//   - with a change budget (nodeTypeInput.Budget) the groups of a node type
//     do not wait for each other but for the budget (spendBudget), except
//     for the group of a canary, which the groups after it still wait for;
//     a forced node type ignores its budget as it ignores its groups.
func decide(nodeTypes []nodeTypeInput, paused bool) []nodeTypeDecision {
	out := make([]nodeTypeDecision, 0, len(nodeTypes))
	blocker := "" // first node type, in order, that is not rolled out
	for _, nt := range nodeTypes {
		d := nodeTypeDecision{Name: nt.Name, Groups: make([]groupDecision, 0, len(nt.Groups)), RolledOut: true}
		groupBlocked, groupBlocker := false, "" // first group of this node type that is not rolled out
		var budgeted []bool                     // what the change budget lets roll, nil without one
		if nt.Budget > 0 && !nt.Forced {
			budgeted = spendBudget(nt.Budget, nt.Groups)
		}
		for j, g := range nt.Groups {
			var gd groupDecision
			done := false
			switch {
			case !g.HasWorkload:
				gd.Apply = true
				done = true
			case !g.Exists:
				gd.Apply, gd.Changing, gd.Creating = true, true, true
			case !g.Changed:
				gd.Apply = true
				done = g.Done
			case paused:
				gd.Hold = heldPaused
			case blocker != "" && !nt.Forced:
				gd.Hold, gd.WaitingFor = heldForNodeType, blocker
			case groupBlocked && !nt.Forced:
				gd.Hold, gd.WaitingFor = heldForGroup, groupBlocker
			case budgeted != nil && !budgeted[j]:
				gd.Hold, gd.Budget = heldForBudget, nt.Budget
			default:
				gd.Apply, gd.Changing, gd.Reverting = true, !g.Revert, g.Revert
			}
			switch gd.Hold {
			case heldPaused:
				d.Pending, d.Paused = true, true
			case heldForNodeType:
				d.Pending = true
				if d.BlockedBy == "" {
					d.BlockedBy = gd.WaitingFor
				}
			case heldForGroup, heldForBudget:
				d.Pending = true
			}
			if gd.Changing {
				d.Starting = true
			}
			if !done {
				d.RolledOut = false
				// With a budget only a canary's group holds the others.
				if !groupBlocked && (budgeted == nil || g.Canary) {
					groupBlocked, groupBlocker = true, g.Name
				}
			}
			d.Groups = append(d.Groups, gd)
		}
		if !d.RolledOut && blocker == "" {
			blocker = nt.Name
		}
		out = append(out, d)
	}
	return out
}
