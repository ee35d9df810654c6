package orchestrate

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// recoverStuckPods applies StuckPodRecovery to every StatefulSet that is not
// held and has not rolled out. Pods are listed through the API reader, by the
// StatefulSet's selector in its namespace, and only while such a rollout is
// under way, so the operator needs no pod cache. Each StatefulSet is judged
// (judgeStuck) before anything is deleted, and at most one pod of the CR goes
// at a time (chooseStuck): none while any of its StatefulSets has a pod
// going or starting, else the pod that blocks the first stuck one, with a
// Warning event. The replacement changes the StatefulSet's status, whose
// watch event brings the next pass. It returns how long until an unready
// pod's grace period runs out (0 for none).
func (o *Orchestrator[T]) recoverStuckPods(ctx context.Context, owner T, built []builtNodeType, decisions []nodeTypeDecision) (time.Duration, error) {
	unreadyFor := o.cfg.StuckPodRecovery.UnreadyFor
	if unreadyFor == 0 {
		unreadyFor = defaultUnreadyFor
	}
	var (
		sets      []*appsv1.StatefulSet
		nodeTypes []string
		verdicts  []stuckVerdict
	)
	for i, nt := range built {
		for j, g := range nt.groups {
			if !decisions[i].Groups[j].Apply {
				continue
			}
			desired, ok := g.workload.(*appsv1.StatefulSet)
			if !ok {
				continue
			}
			live, v, err := o.judgeStatefulSet(ctx, desired, unreadyFor)
			if err != nil {
				return 0, err
			}
			if live != nil {
				sets, nodeTypes, verdicts = append(sets, live), append(nodeTypes, nt.name), append(verdicts, v)
			}
		}
	}
	k, next := chooseStuck(verdicts)
	if k < 0 {
		return next, nil
	}
	live, victim := sets[k], verdicts[k].victim
	uid := victim.UID
	err := o.client.Delete(ctx, victim, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return next, fmt.Errorf("orchestrate: delete stuck pod %s: %w", victim.Name, err)
	}
	if err == nil {
		log.FromContext(ctx).Info("deleted a pod of the old revision that blocked the StatefulSet's rolling update",
			"statefulSet", live.Name, "pod", victim.Name, "updateRevision", live.Status.UpdateRevision)
		o.recorder.Eventf(owner, victim, corev1.EventTypeWarning, EventStuckPodDeleted, actionDelete,
			"node type %q: deleted pod %s of StatefulSet %s: it runs the old revision %s, is not ready and blocked the rolling update to %s",
			nodeTypes[k], victim.Name, live.Name, victim.Labels[appsv1.ControllerRevisionHashLabelKey], live.Status.UpdateRevision)
	}
	return next, nil
}

// judgeStatefulSet reads the live StatefulSet of desired and, while it rolls
// out in the setting of the deadlock, its pods, and judges them. It returns a
// nil StatefulSet when there is nothing to judge.
func (o *Orchestrator[T]) judgeStatefulSet(ctx context.Context, desired *appsv1.StatefulSet, unreadyFor time.Duration) (*appsv1.StatefulSet, stuckVerdict, error) {
	live := &appsv1.StatefulSet{}
	if err := o.client.Get(ctx, client.ObjectKeyFromObject(desired), live); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, stuckVerdict{}, nil
		}
		return nil, stuckVerdict{}, fmt.Errorf("orchestrate: read StatefulSet %s: %w", desired.Name, err)
	}
	if !inOrderedReadyRollingUpdate(live) || live.Spec.Selector == nil {
		return nil, stuckVerdict{}, nil
	}
	if r, err := workloadRollout(live); err != nil || r.Done {
		// Rolled out: no pod to look at, and no request made.
		return nil, stuckVerdict{}, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(live.Spec.Selector)
	if err != nil {
		return nil, stuckVerdict{}, fmt.Errorf("orchestrate: StatefulSet %s selector: %w", live.Name, err)
	}
	var pods corev1.PodList
	if err := o.apiReader.List(ctx, &pods, client.InNamespace(live.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, stuckVerdict{}, fmt.Errorf("orchestrate: list pods of StatefulSet %s: %w", live.Name, err)
	}
	return live, judgeStuck(live, pods.Items, o.now(), unreadyFor), nil
}
