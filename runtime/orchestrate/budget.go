package orchestrate

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// This file holds change budgets (NodeType.ChangeBudget): how many pods of a
// node type may be unavailable at once across its groups, and which of its
// groups may therefore roll now. Like decide, spendBudget is a pure function
// of the observed state; decide consults it in place of the one-group-at-a-
// time rule.
//
// The rules:
//
//  1. Every group spends its unavailable pods (desired replicas that are not
//     Ready, from any cause: a pod being replaced, a pod that crashed, one
//     not yet scheduled).
//  2. A group whose rollout is under way (not rolled out, or not every pod
//     updated) spends at least its step: the pods one step of its rollout
//     takes down, since between two pods it has none unavailable but is about
//     to take one down again. A rollout under way is never stopped by the
//     budget (a Deployment's or StatefulSet's controller cannot be held
//     mid-way without owning its partition); it only holds others back.
//  3. In the build function's order, a group with a change pending that is
//     not under way starts when its step fits in what the others and the
//     groups started before it leave of the budget; a group whose step alone
//     exceeds the budget, or whose own unavailable pods spend it, starts
//     only when nothing else of the node type spends any, so it rolls alone
//     rather than never.

// ChangeBudget is how many pods of a node type may be unavailable at once
// across all its groups while its groups roll. With a budget the groups roll
// in parallel as far as it allows, instead of one after another.
type ChangeBudget struct {
	// MaxUnavailable is the number of pods, or the percentage of the node
	// type's desired replicas (all groups together, rounded up), that may be
	// unavailable at once. It must be at least one pod, or a percentage
	// between 1% and 100%.
	MaxUnavailable intstr.IntOrString
}

func (b *ChangeBudget) validate() error {
	if b == nil {
		return nil
	}
	v, err := intstr.GetScaledValueFromIntOrPercent(&b.MaxUnavailable, 100, true)
	if err != nil {
		return fmt.Errorf("invalid maxUnavailable: %w", err)
	}
	if v <= 0 {
		return fmt.Errorf("maxUnavailable is %s: a change budget lets at least one pod be unavailable", b.MaxUnavailable.String())
	}
	if b.MaxUnavailable.Type == intstr.String && v > 100 {
		return fmt.Errorf("maxUnavailable is %s: a percentage is at most 100%%", b.MaxUnavailable.String())
	}
	return nil
}

// pods is the budget in pods for a node type of total desired replicas: at
// least one, so a budget never holds every rollout.
func (b *ChangeBudget) pods(total int32) int32 {
	n, _ := intstr.GetScaledValueFromIntOrPercent(&b.MaxUnavailable, int(total), true)
	return max(int32(n), 1)
}

// unavailable is the group's desired replicas that are not Ready (rule 1).
func (g groupInput) unavailable() int32 {
	return max(g.Replicas-g.Ready, 0)
}

// underWay reports whether the group's rollout is under way (rule 2).
func (g groupInput) underWay() bool {
	return g.Exists && (!g.Done || g.Updated < g.Replicas)
}

// spends is what the group takes of the budget as it is (rules 1 and 2).
func (g groupInput) spends() int32 {
	if g.underWay() {
		return max(g.unavailable(), max(g.Step, 1))
	}
	return g.unavailable()
}

// spendBudget reports, for each group, whether the budget of budget pods
// lets it roll now (rule 3). Groups without a workload, whose workload does
// not exist yet, without a change, or whose rollout is under way, may.
func spendBudget(budget int32, groups []groupInput) []bool {
	may := make([]bool, len(groups))
	var spent int32
	for _, g := range groups {
		if g.HasWorkload {
			spent += g.spends()
		}
	}
	for j, g := range groups {
		if !g.HasWorkload || !g.Exists || !g.Changed || g.underWay() {
			may[j] = true
			continue
		}
		own := g.spends()
		extra := max(g.unavailable(), max(g.Step, 1)) - own
		if spent+extra <= budget || spent == own {
			may[j] = true
			spent += extra
		}
	}
	return may
}

// budgetCounts fills in what spendBudget needs of a group: live's replicas,
// Ready and updated pods, and the step of the desired workload's rollout.
// byPod is true when the Orchestrator rolls a StatefulSet one pod at a time
// through its partition.
func budgetCounts(in *groupInput, desired, live client.Object, byPod bool) {
	switch w := live.(type) {
	case *appsv1.StatefulSet:
		in.Replicas, in.Ready, in.Updated = ptr.Deref(w.Spec.Replicas, 1), w.Status.ReadyReplicas, w.Status.UpdatedReplicas
	case *appsv1.Deployment:
		in.Replicas, in.Ready, in.Updated = ptr.Deref(w.Spec.Replicas, 1), w.Status.ReadyReplicas, w.Status.UpdatedReplicas
	}
	in.Step = rolloutStep(desired, in.Replicas, byPod)
}

// rolloutStep is how many pods one step of the workload's rollout takes
// down: a Deployment's maxUnavailable (25% by default, rounded down as its
// controller does) or all its pods with the Recreate strategy; a
// StatefulSet's rollingUpdate.maxUnavailable, or one. Never less than one.
func rolloutStep(desired client.Object, replicas int32, byPod bool) int32 {
	step := int32(1)
	switch w := desired.(type) {
	case *appsv1.Deployment:
		if w.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
			return max(replicas, 1)
		}
		mu := intstr.FromString("25%")
		if ru := w.Spec.Strategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
			mu = *ru.MaxUnavailable
		}
		if n, err := intstr.GetScaledValueFromIntOrPercent(&mu, int(replicas), false); err == nil {
			step = int32(n)
		}
	case *appsv1.StatefulSet:
		if byPod {
			return 1
		}
		if ru := w.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
			if n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, int(replicas), true); err == nil {
				step = int32(n)
			}
		}
	}
	return max(step, 1)
}

// budgetMessage is the wait as the conditions say it; it quotes the budget
// only, nothing that changes while waiting.
func budgetMessage(budget int32) string {
	return fmt.Sprintf("waits for the node type's change budget (at most %d pods unavailable at once across its groups)", budget)
}

// budgetOf returns the change budget of the node type name, nil when it has
// none.
func (o *Orchestrator[T]) budgetOf(name string) *ChangeBudget {
	if nt := o.nodeType(name); nt != nil {
		return nt.ChangeBudget
	}
	return nil
}

// desiredReplicas is the replicas a desired workload asks for, one when it
// leaves them unset.
func desiredReplicas(w client.Object) int32 {
	switch w := w.(type) {
	case *appsv1.StatefulSet:
		return ptr.Deref(w.Spec.Replicas, 1)
	case *appsv1.Deployment:
		return ptr.Deref(w.Spec.Replicas, 1)
	}
	return 0
}
