package orchestrate

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file holds the removal of a group or node type whose node type has a
// BeforeRemove hook. Its workload is no longer desired, so the store would
// prune it with all its pods at once; instead it is kept, and scaled down
// one pod at a time, each pod once the hook says yes, and it is pruned only
// when its last pod is gone; the rest of its group stays until then
// (keepGroup). Without the hook, or while rollouts are paused
// (keepWorkloads keeps everything then), removal is the store's as before.

// drainFieldOwner is the field manager of the scale-downs of removed
// workloads.
func (o *Orchestrator[T]) drainFieldOwner() string { return o.cfg.FieldOwner + "-drain" }

// drain keeps, and scales down by one pod when the hook agrees, each
// workload that the pass does not desire and whose node type has a
// BeforeRemove hook.
func (r *passRun[T]) drain(ctx context.Context) {
	if r.out.paused || !r.anyBeforeRemove() {
		return
	}
	undesired, err := r.o.undesiredWorkloads(ctx, r.owner, r.desired)
	if err != nil {
		r.fail(err)
		return
	}
	for _, w := range undesired {
		i := r.builtIndex(w.GetLabels()[keys.LabelComponent])
		if i < 0 || isCanary(w) {
			// A canary's pods are extra ones: it is pruned at once.
			continue
		}
		if h := r.o.hooksOf(r.built[i].name); h == nil || h.BeforeRemove == nil {
			continue
		}
		msg, keep, err := r.drainOne(ctx, i, w)
		if err != nil {
			r.fail(err)
		}
		if !keep && err == nil {
			continue
		}
		if _, err := recordControlled(r.owner, r.st, []client.Object{w}); err != nil {
			r.fail(err)
		}
		if err := r.o.keepConfig(ctx, r.owner, r.st, r.built[i].name); err != nil {
			r.fail(err)
		}
		if err := r.o.keepGroup(ctx, r.owner, r.st, w); err != nil {
			r.fail(err)
		}
		if nt := &r.out.nodeTypes[i]; nt.Draining == "" {
			nt.Draining = fmt.Sprintf("removing %s %s one pod at a time: %s", kindOf(w), w.GetName(), msg)
		}
	}
}

// drainOne takes the next step of removing workload w of node type i: it
// reports whether w must be kept, and what it waits for.
func (r *passRun[T]) drainOne(ctx context.Context, i int, w client.Object) (string, bool, error) {
	replicas, current, observed := scaleOf(w)
	if replicas == 0 && current == 0 {
		return "", false, nil
	}
	if !observed || current != replicas {
		return fmt.Sprintf("%d pods left", current), true, nil
	}
	pods, err := r.podsOf(ctx, w)
	if err != nil {
		return "", true, err
	}
	victim, wait := r.chooseRemoval(ctx, i, w, replicas, pods)
	if wait != nil {
		return wait.message(), true, nil
	}
	if err := r.scaleDownOne(ctx, w, replicas, victim); err != nil {
		return "", true, err
	}
	return fmt.Sprintf("%d pods left", replicas-1), true, nil
}

// chooseRemoval returns the pod to remove next, once BeforeRemove says yes
// to it: a StatefulSet's highest ordinal (its controller removes that one),
// or the first pod of a Deployment, by name, that may go. A nil pod with no
// wait means the pod to remove does not exist.
func (r *passRun[T]) chooseRemoval(ctx context.Context, i int, w client.Object, replicas int32, pods []corev1.Pod) (*corev1.Pod, *hookWait) {
	var first *hookWait
	for k := range pods {
		p := &pods[k]
		if p.DeletionTimestamp != nil {
			continue
		}
		if _, ok := w.(*appsv1.StatefulSet); ok && p.Name != fmt.Sprintf("%s-%d", w.GetName(), replicas-1) {
			continue
		}
		_, wait := r.askHook(ctx, i, hookBeforeRemove, p)
		if wait == nil {
			return p, nil
		}
		if first == nil {
			first = wait
		}
	}
	return nil, first
}

// scaleDownOne lowers w's replicas by one, with w's resourceVersion as a
// precondition. A Deployment's ReplicaSet removes the pod of lowest
// deletion cost first, so victim, the pod the hook agreed to, is given the
// lowest cost before.
func (r *passRun[T]) scaleDownOne(ctx context.Context, w client.Object, replicas int32, victim *corev1.Pod) error {
	if _, ok := w.(*appsv1.Deployment); ok {
		if err := r.markFirstToGo(ctx, victim); err != nil {
			return err
		}
	}
	base, ok := w.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("orchestrate: copy %s %s", kindOf(w), w.GetName())
	}
	switch o := w.(type) {
	case *appsv1.StatefulSet:
		o.Spec.Replicas = ptr.To(replicas - 1)
	case *appsv1.Deployment:
		o.Spec.Replicas = ptr.To(replicas - 1)
	}
	if err := r.writer.Patch(ctx, w, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}),
		client.FieldOwner(r.o.drainFieldOwner())); err != nil {
		return fmt.Errorf("orchestrate: scale down %s %s: %w", kindOf(w), w.GetName(), err)
	}
	return nil
}

// markFirstToGo gives pod, which a Deployment's scale-down is to remove,
// the lowest deletion cost, so its ReplicaSet removes it before the others.
func (r *passRun[T]) markFirstToGo(ctx context.Context, pod *corev1.Pod) error {
	if pod == nil || pod.Annotations[corev1.PodDeletionCost] == lowestDeletionCost {
		return nil
	}
	base := pod.DeepCopy()
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[corev1.PodDeletionCost] = lowestDeletionCost
	if err := r.writer.Patch(ctx, pod, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}),
		client.FieldOwner(r.o.drainFieldOwner())); err != nil {
		return fmt.Errorf("orchestrate: mark pod %s to be removed first: %w", pod.Name, err)
	}
	return nil
}

// lowestDeletionCost is the lowest value of corev1.PodDeletionCost.
var lowestDeletionCost = strconv.Itoa(-1 << 31)

// scaleOf returns a workload's desired and current pod counts, and whether
// its controller has observed its generation.
func scaleOf(w client.Object) (replicas, current int32, observed bool) {
	switch o := w.(type) {
	case *appsv1.StatefulSet:
		return ptr.Deref(o.Spec.Replicas, 1), o.Status.Replicas, o.Status.ObservedGeneration >= o.Generation
	case *appsv1.Deployment:
		return ptr.Deref(o.Spec.Replicas, 1), o.Status.Replicas, o.Status.ObservedGeneration >= o.Generation
	}
	return 0, 0, true
}

// anyBeforeRemove reports whether a node type of the pass has a
// BeforeRemove hook; only then can a removal wait.
func (r *passRun[T]) anyBeforeRemove() bool {
	for _, nt := range r.built {
		if h := r.o.hooksOf(nt.name); h != nil && h.BeforeRemove != nil {
			return true
		}
	}
	return false
}

func (r *passRun[T]) builtIndex(name string) int {
	for i, nt := range r.built {
		if nt.name == name {
			return i
		}
	}
	return -1
}

func (r *passRun[T]) fail(err error) {
	r.st.Fail(err)
	r.errs = append(r.errs, err)
}
