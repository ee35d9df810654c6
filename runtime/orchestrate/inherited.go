package orchestrate

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A StatefulSet recreated under the same name (the Builder's orphan recreate)
// can inherit a status its controller computed for the deleted object. The
// controller retries a status write that met a conflict with the object its
// cache holds by that name, which by then may be the new one, so the old
// object's observedGeneration (raised by its deletion) lands on it. The
// controller never writes a lower observedGeneration of its own accord, so
// while the pods stay as they are the status claims a generation the object
// never had, and kstatus would call the rollout in progress for good.
//
// Such a status still describes the pods truthfully when the revision it
// names as the update revision has the live pod template: then the new
// StatefulSet runs the same pods at the same revision. inheritedStatus
// checks that against the ControllerRevision and, if so, judges the
// rollout on a copy whose observedGeneration is the object's generation.
// Otherwise the controller has a new template to roll out, and its first
// sync writes a status of its own.

// inheritedStatus returns sts, or a copy whose inherited status counts as
// observed when it describes the live pod template.
func (o *Orchestrator[T]) inheritedStatus(ctx context.Context, sts *appsv1.StatefulSet) (*appsv1.StatefulSet, error) {
	if sts.Status.UpdateRevision == "" {
		return sts, nil
	}
	var rev appsv1.ControllerRevision
	if err := o.apiReader.Get(ctx, client.ObjectKey{Namespace: sts.Namespace, Name: sts.Status.UpdateRevision}, &rev); err != nil {
		return sts, fmt.Errorf("orchestrate: read revision %s of StatefulSet %q: %w", sts.Status.UpdateRevision, sts.Name, err)
	}
	// The StatefulSet controller stores a revision as a patch that
	// replaces the pod template.
	var data struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &data); err != nil {
		return sts, fmt.Errorf("orchestrate: decode revision %s of StatefulSet %q: %w", rev.Name, sts.Name, err)
	}
	if !equality.Semantic.DeepEqual(data.Spec.Template, sts.Spec.Template) {
		return sts, nil
	}
	fixed := sts.DeepCopy()
	fixed.Status.ObservedGeneration = sts.Generation
	return fixed, nil
}
