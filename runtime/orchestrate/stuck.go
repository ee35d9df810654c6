package orchestrate

import (
	"cmp"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// defaultUnreadyFor is StuckPodRecovery.UnreadyFor when it is not set.
const defaultUnreadyFor = 5 * time.Minute

// blockingWaitingReasons are container waiting reasons that mean the pod will
// not become ready by itself: its container keeps crashing or cannot start.
var blockingWaitingReasons = []string{
	"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
	"CreateContainerConfigError", "CreateContainerError", "RunContainerError",
}

// stuckVerdict is what judgeStuck found in one StatefulSet.
type stuckVerdict struct {
	// victim is the pod to delete, or nil.
	victim *corev1.Pod
	// wait is how long until the blocking pod has been unready for long
	// enough (0 for none).
	wait time.Duration
	// busy is true while the StatefulSet's first unready pod is on its way
	// out or a pod of the update revision that is starting: a disruption
	// is under way, so no other pod of the CR is deleted meanwhile.
	busy bool
}

// chooseStuck picks at most one pod to delete among the verdicts of a CR's
// StatefulSets, in order: none while any of them is busy, since the CR then
// already has a pod that is going or starting; else the first victim. It
// returns the index of the victim's StatefulSet (-1 for none) and the
// shortest wait.
func chooseStuck(verdicts []stuckVerdict) (int, time.Duration) {
	var wait time.Duration
	victim := -1
	for i, v := range verdicts {
		if v.busy {
			return -1, 0
		}
		if v.wait > 0 && (wait == 0 || v.wait < wait) {
			wait = v.wait
		}
		if v.victim != nil && victim < 0 {
			victim = i
		}
	}
	return victim, wait
}

// judgeStuck decides, for a StatefulSet in the OrderedReady deadlock of
// kubernetes/kubernetes#60164, which pod to delete so that the StatefulSet
// controller recreates it at the update revision.
//
// The StatefulSet controller with OrderedReady pod management walks its pods
// in ordinal order and stops at the first one that is not Running and Ready,
// so a pod of an old, broken revision that never becomes ready stops a
// rolling update that would fix it. Nothing in Kubernetes resolves this (the
// issue is open), hence this hand-written rule. Only that first pod blocks:
// it is the one pod considered, and only when it runs an old revision (a pod
// of the update revision that is not ready, such as the replacement of a
// pod deleted earlier, is the controller's to wait for) and is not already
// being deleted.
//
// It returns the pod to delete, if any, and, when the blocking pod is unready
// but not yet for long enough, how long until it would be; the caller
// requeues after that delay instead of polling.
func judgeStuck(sts *appsv1.StatefulSet, pods []corev1.Pod, now time.Time, unreadyFor time.Duration) stuckVerdict {
	if !inOrderedReadyRollingUpdate(sts) {
		return stuckVerdict{}
	}
	var own []*corev1.Pod
	for i := range pods {
		if metav1.IsControlledBy(&pods[i], sts) {
			own = append(own, &pods[i])
		}
	}
	// Pod names of a StatefulSet end in their ordinal; shorter names have
	// lower ordinals, equal lengths compare lexically.
	slices.SortFunc(own, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(len(a.Name), len(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	i := slices.IndexFunc(own, func(p *corev1.Pod) bool { return p.DeletionTimestamp != nil || !podReady(p) })
	if i < 0 {
		return stuckVerdict{}
	}
	blocking := own[i]
	if blocking.DeletionTimestamp != nil || blocking.Labels[appsv1.ControllerRevisionHashLabelKey] == sts.Status.UpdateRevision {
		return stuckVerdict{busy: true}
	}
	if podCrashing(blocking) {
		return stuckVerdict{victim: blocking}
	}
	if wait := unreadySince(blocking).Add(unreadyFor).Sub(now); wait > 0 {
		return stuckVerdict{wait: wait}
	}
	return stuckVerdict{victim: blocking}
}

// inOrderedReadyRollingUpdate reports whether sts uses OrderedReady pod
// management and an unpartitioned RollingUpdate, the setting in which the
// deadlock occurs, and its controller has observed its spec.
//
// The current revision is deliberately not compared with the update
// revision: when a broken template is reverted to the last good one before
// its rollout finished, both name the good revision again, and the pod the
// broken revision left behind is what blocks.
func inOrderedReadyRollingUpdate(sts *appsv1.StatefulSet) bool {
	if sts.Spec.PodManagementPolicy != "" && sts.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement {
		return false
	}
	if sts.Spec.UpdateStrategy.Type != "" && sts.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return false
	}
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ptr.Deref(ru.Partition, 0) > 0 {
		// Pods below the partition keep the old revision on purpose.
		return false
	}
	return sts.Status.ObservedGeneration >= sts.Generation && sts.Status.UpdateRevision != ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCrashing(p *corev1.Pod) bool {
	for _, statuses := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && slices.Contains(blockingWaitingReasons, w.Reason) {
				return true
			}
		}
	}
	return false
}

// unreadySince is when the pod last became not ready, or when it was created
// if it never reported readiness.
func unreadySince(p *corev1.Pod) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return p.CreationTimestamp.Time
}
