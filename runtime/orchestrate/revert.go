package orchestrate

import (
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// This file holds the rule that a revert of drift is not a rollout. When
// someone scales a workload by hand or changes its image, the Orchestrator
// puts the field back; nothing the CR or its configuration says has changed,
// so the node type is not rolling out anything and its status says so: no
// Progressing transition, no rollout events, no status write. Its
// workload's controller still has to catch up with the revert (observe the
// new generation, remove the pods a scale-up added); only pods the hand
// edit took away or replaced, while they come back, show: as
// ReasonRevertingDrift, not as a rollout.

// settled reports whether node type nodeType is rolled out for the CR's
// generation, as the status the pass read says: any change the pass finds
// to its workloads then comes from someone else (or from its configuration,
// which the config hash tells).
func settled[T Object](owner T, nodeType string) bool {
	prev := previousStatus(owner, nodeType)
	if prev == nil {
		return false
	}
	c := meta.FindStatusCondition(prev.Conditions, ConditionProgressing)
	return c != nil && c.Status == metav1.ConditionFalse && c.Reason == ReasonRolloutComplete &&
		c.ObservedGeneration == owner.GetGeneration()
}

// reverts reports whether applying the plan of a workload of node type i
// puts back what someone else changed on it rather than rolling out a new
// desired state: the node type is settled, the config hash stays, no restart
// is due and nothing is stepped pod by pod. A node type with hooks or a
// canary is left out: its steps and health gate follow every generation.
func (r *passRun[T]) reverts(i int, plan builder.Plan, restart map[string]string) bool {
	name := r.built[i].name
	return plan.Operation == builder.OperationUpdated && !plan.RolloutTriggered && restart == nil &&
		!r.o.podByPod(name) && settled(r.owner, name)
}

// revertMemo remembers, per workload, the generation a revert of drift gave
// it, and whether it rolls pods back (rollsBack), until the workload is
// rolled out again or changes once more.
type revertMemo struct {
	mu      sync.Mutex
	reverts map[types.UID]revertEntry
}

type revertEntry struct {
	generation int64
	rollsBack  bool
}

func (m *revertMemo) remember(obj client.Object, rollsBack bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reverts == nil {
		m.reverts = map[types.UID]revertEntry{}
	}
	m.reverts[obj.GetUID()] = revertEntry{generation: obj.GetGeneration(), rollsBack: rollsBack}
}

// of returns the revert that gave obj a generation; its generation is 0 for
// none.
func (m *revertMemo) of(obj client.Object) revertEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reverts[obj.GetUID()]
}

func (m *revertMemo) forget(obj client.Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.reverts, obj.GetUID())
}

// rollsBack reports whether a revert, from before (the workload as the pass
// read it) to after (as the write returned it), brings back pods the hand
// edit had already replaced: it changes the pod template back, and the
// workload's controller had observed the edited one and left fewer pods of
// the other than desired (a StatefulSet that finished rolling it out has
// none left). The counts of a controller that has not observed
// the revert then describe the edited template, not the one restored.
func rollsBack(before, after client.Object) bool {
	switch b := before.(type) {
	case *appsv1.Deployment:
		a, ok := after.(*appsv1.Deployment)
		return ok && b.Status.ObservedGeneration >= b.Generation &&
			!equality.Semantic.DeepEqual(b.Spec.Template, a.Spec.Template) &&
			b.Status.Replicas-b.Status.UpdatedReplicas < ptr.Deref(a.Spec.Replicas, 1)
	case *appsv1.StatefulSet:
		a, ok := after.(*appsv1.StatefulSet)
		return ok && b.Status.ObservedGeneration >= b.Generation &&
			!equality.Semantic.DeepEqual(b.Spec.Template, a.Spec.Template) &&
			(b.Status.CurrentRevision == b.Status.UpdateRevision || b.Status.CurrentReplicas < ptr.Deref(a.Spec.Replicas, 1))
	}
	return false
}

// rollout judges the rollout of a live workload, taking a revert into
// account: at the generation a revert gave it, the workload counts as rolled
// out once revertSettled says so, and is Reverting until then. The memo is
// dropped once the workload has moved on to a later generation, or is at
// rest at that one. Rolled out by the usual rules is not enough: while its
// controller removes the pods a hand scale-up added, its counts go back and
// forth (a status that already shows the desired replicas, and a later one
// that counts the surplus pods again, as the ReplicaSet's status catches
// up), and forgetting the revert at the first would take the second for a
// rollout. A read of an older generation (a cache that has not seen the
// revert yet) keeps it: the hand-edited workload it shows may well look
// rolled out.
func (o *Orchestrator[T]) rollout(live client.Object) (rollout, error) {
	ro, err := workloadRollout(live)
	if err != nil || ro.Stalled {
		return ro, err
	}
	switch rev := o.reverts.of(live); {
	case rev.generation == 0 || live.GetGeneration() < rev.generation:
	case live.GetGeneration() > rev.generation || ro.Done && atRest(live):
		o.reverts.forget(live)
	case revertSettled(live, rev.rollsBack):
		ro.Done, ro.Updating, ro.Message = true, false, ""
	default:
		ro.Reverting = true
	}
	return ro, nil
}

// atRest reports whether a workload's controller has observed its
// generation and every count it reports is the desired number of
// replicas: no pod is left to add, replace, make available or remove.
func atRest(obj client.Object) bool {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		want, st := ptr.Deref(w.Spec.Replicas, 1), w.Status
		return st.ObservedGeneration >= w.Generation && st.Replicas == want && st.UpdatedReplicas == want &&
			st.ReadyReplicas == want && st.AvailableReplicas == want && st.UnavailableReplicas == 0 &&
			ptr.Deref(st.TerminatingReplicas, 0) == 0
	case *appsv1.StatefulSet:
		want, st := ptr.Deref(w.Spec.Replicas, 1), w.Status
		return st.ObservedGeneration >= w.Generation && st.Replicas == want &&
			st.ReadyReplicas == want && st.AvailableReplicas == want
	}
	return true
}

// revertSettled reports whether a reverted workload's pods are where they
// were before the hand edit: its desired replicas ready and available and,
// once its controller observed the revert, updated to its template. The
// surplus pods of a hand scale-up being removed do not hold it, nor does
// the generation its controller has not observed yet, unless the revert
// rolls pods back (its counts then describe the pods' template).
func revertSettled(obj client.Object, rollsBack bool) bool {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		want := ptr.Deref(w.Spec.Replicas, 1)
		if w.Status.ObservedGeneration < w.Generation {
			return !rollsBack && w.Status.ReadyReplicas >= want && w.Status.AvailableReplicas >= want
		}
		return w.Status.ReadyReplicas >= want && w.Status.AvailableReplicas >= want && w.Status.UpdatedReplicas >= want
	case *appsv1.StatefulSet:
		want := ptr.Deref(w.Spec.Replicas, 1)
		if w.Status.ReadyReplicas < want || w.Status.AvailableReplicas < want {
			return false
		}
		if w.Status.ObservedGeneration < w.Generation {
			return !rollsBack
		}
		if w.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
			return true
		}
		partition := int32(0)
		if ru := w.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			partition = ptr.Deref(ru.Partition, 0)
		}
		return w.Status.UpdatedReplicas >= want-partition &&
			(partition > 0 || w.Status.CurrentRevision == w.Status.UpdateRevision)
	}
	return false
}
