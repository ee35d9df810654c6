package orchestrate

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// This file holds the scale-down of a Deployment whose node type has a
// BeforeRemove hook. Left to its ReplicaSet, a scale-down removes several
// pods at once, of its own choosing. Instead the desired replicas are held
// at the live count, and lowered by one once the Deployment has settled and
// the hook agrees to one of its pods; that pod is given the lowest
// pod-deletion cost first, so it is the one the ReplicaSet removes. It is
// rule 1 of podbypod.go, for a workload that has no ordinals.

// pinScaleDown holds the desired replicas of a Deployment of a node type
// with a BeforeRemove hook at the live count when the build function asks
// for fewer. It returns the live Deployment when it did, nil otherwise.
func (r *passRun[T]) pinScaleDown(ctx context.Context, i int, workload client.Object) (*appsv1.Deployment, error) {
	desired, ok := workload.(*appsv1.Deployment)
	if !ok || desired.Spec.Replicas == nil {
		// Not a Deployment, or replicas an HPA owns.
		return nil, nil
	}
	if h := r.o.hooksOf(r.built[i].name); h == nil || h.BeforeRemove == nil {
		return nil, nil
	}
	var live appsv1.Deployment
	if err := r.o.client.Get(ctx, client.ObjectKeyFromObject(desired), &live); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("orchestrate: read Deployment %s: %w", desired.Name, err)
	}
	replicas := ptr.Deref(live.Spec.Replicas, 1)
	if *desired.Spec.Replicas >= replicas {
		return nil, nil
	}
	desired.Spec.Replicas = ptr.To(replicas)
	return &live, nil
}

// stepScaleDown takes the next step of a held scale-down of group j of node
// type i: once the live Deployment has settled at its replicas, the first
// pod BeforeRemove agrees to is to go, and desired is lowered by one. It
// reports the step and whether desired moved.
func (r *passRun[T]) stepScaleDown(ctx context.Context, i, j int, desired, live *appsv1.Deployment) (stepOutcome, bool, error) {
	replicas := ptr.Deref(live.Spec.Replicas, 1)
	out := stepOutcome{Replicas: replicas, ScalingDown: true}
	s := live.Status
	if s.ObservedGeneration < live.Generation || s.Replicas != replicas || s.UpdatedReplicas != replicas {
		// The last step, or a rollout, is still under way.
		return out, false, nil
	}
	pods, err := r.podsOf(ctx, live)
	if err != nil {
		return out, false, err
	}
	victim, wait := r.chooseRemoval(ctx, i, live, replicas, pods)
	if victim == nil {
		out.Wait = wait
		return out, false, nil
	}
	out.Replicas = replicas - 1
	desired.Spec.Replicas = ptr.To(out.Replicas)
	r.victims[i][j] = victim
	return out, true, nil
}
