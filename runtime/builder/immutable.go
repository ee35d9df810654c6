package builder

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// ReasonUpdateRejected is the reason of the Warning event recorded when a
// desired change cannot be made (OperationBlocked).
const ReasonUpdateRejected = eventclient.ReasonUpdateRejected

// recreateWait bounds how long a recreate waits for the old object to go away
// (the garbage collector first releases its dependents) before it returns
// OperationRecreating and leaves the create to the next reconcile.
const recreateWait = 10 * time.Second

// immutableDecision finds desired changes the API server would refuse: for
// Deployments and StatefulSets it returns OperationRecreated (the object must
// be recreated; for a StatefulSet whose claims grow, with the new sizes, see
// storage.go), for PersistentVolumeClaims and for a StatefulSet whose claims
// would shrink OperationBlocked, each with the reason; an empty op when p can
// be applied to the live object.
func immutableDecision(p *prepared, liveContent map[string]any) decision {
	switch {
	case p.gvk.Group == "apps" && p.gvk.Kind == "StatefulSet":
		if why := immutableChange(p.content, liveContent, "selector"); why != "" {
			if !selectsLivePods(p.content, liveContent) {
				// A new StatefulSet could neither adopt the old pods
				// nor create its own: they have the same names.
				return decision{op: OperationBlocked, reason: ReasonUpdateRejected,
					why: "spec.selector changed and no longer selects the StatefulSet's pods, which a new StatefulSet could neither adopt nor replace (they have its pods' names); keep a selector that matches the pods' labels, or delete the StatefulSet to recreate it"}
			}
			return decision{op: OperationRecreated, why: why}
		}
		switch c := claimTemplateChange(p.content, liveContent); {
		case c.other:
			return decision{op: OperationRecreated, why: "spec.volumeClaimTemplates changed and cannot be updated"}
		case c.shrink != "":
			return decision{op: OperationBlocked, reason: ReasonUpdateRejected, why: c.shrink}
		case len(c.grow) > 0:
			return decision{op: OperationRecreated, grow: c.grow,
				why: "the storage requests of spec.volumeClaimTemplates grew; the existing claims are grown and the StatefulSet recreated"}
		}
	case p.gvk.Group == "apps" && p.gvk.Kind == "Deployment":
		if why := immutableChange(p.content, liveContent, "selector"); why != "" {
			d := decision{op: OperationRecreated, why: why}
			if !selectsLivePods(p.content, liveContent) {
				// Orphaned, the old ReplicaSets would run on for good
				// beside the new Deployment, still behind its Services.
				d.replaceDependents = true
				d.why += "; the old ReplicaSets and their pods, which the new selector does not match, are deleted with it"
			}
			return d
		}
	case isPVC(p):
		if why := pvcChange(p.content, liveContent); why != "" {
			return decision{op: OperationBlocked, reason: ReasonUpdateRejected, why: why}
		}
	}
	return decision{}
}

// immutableChange returns why the spec fields differ between desired and
// live, or "" when they do not. A selector must be equal; other fields must
// be a subset (the server adds defaults).
func immutableChange(desired, live map[string]any, fields ...string) string {
	for _, f := range fields {
		d, dok, _ := unstructured.NestedFieldNoCopy(desired, "spec", f)
		l, lok, _ := unstructured.NestedFieldNoCopy(live, "spec", f)
		if !dok && !lok {
			continue
		}
		changed := dok != lok || !isSubset(d, l)
		if f == "selector" && !changed {
			changed = !isSubset(l, d)
		}
		if changed {
			return fmt.Sprintf("spec.%s changed and cannot be updated", f)
		}
	}
	return ""
}

// pvcChange returns why a desired PersistentVolumeClaim cannot be applied to
// the live one, or "". Only the storage request may change, and only grow.
func pvcChange(desired, live map[string]any) string {
	ds, _, _ := unstructured.NestedString(desired, "spec", "resources", "requests", "storage")
	ls, _, _ := unstructured.NestedString(live, "spec", "resources", "requests", "storage")
	if ds != "" && ls != "" {
		dq, derr := resource.ParseQuantity(ds)
		lq, lerr := resource.ParseQuantity(ls)
		if derr == nil && lerr == nil && dq.Cmp(lq) < 0 {
			return fmt.Sprintf("the storage request cannot shrink from %s to %s", lq.String(), dq.String())
		}
	}
	dspec, ok, _ := unstructured.NestedMap(desired, "spec")
	if !ok {
		return ""
	}
	lspec, _, _ := unstructured.NestedMap(live, "spec")
	unstructured.RemoveNestedField(dspec, "resources", "requests", "storage")
	unstructured.RemoveNestedField(dspec, "volumeAttributesClassName")
	if !isSubset(dspec, lspec) {
		return "spec fields other than the storage request cannot be changed"
	}
	return ""
}

// block records a Warning that the desired change of p cannot be made, once
// per desired state, and returns OperationBlocked. It writes nothing.
func (b *Builder) block(ctx context.Context, p *prepared, live client.Object, reason, why string) Result {
	if b.cfg.expectations.firstWarning(p.key(), "blocked "+p.hash) {
		log.FromContext(ctx).Info("desired change cannot be made", "kind", p.gvk.Kind, "namespace", p.obj.GetNamespace(), "name", p.obj.GetName(), "reason", why)
		b.client.Record(ctx, live, corev1.EventTypeWarning, ReasonUpdateRejected, eventclient.ActionUpdate,
			fmt.Sprintf("Not updating %s %s/%s: %s", p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), why))
	}
	return Result{Object: live, Operation: OperationBlocked, Reason: reason, Message: why}
}

// recreateOnInvalid reports whether an apply error means the workload must be
// recreated: the API server refused to change a field that cannot be
// updated (a StatefulSet's spec other than the updatable fields, or a
// selector).
func (b *Builder) recreateOnInvalid(p *prepared, err error) bool {
	if !isWorkload(p.gvk) || !apierrors.IsInvalid(err) {
		return false
	}
	var status apierrors.APIStatus
	if !errors.As(err, &status) || status.Status().Details == nil {
		return false
	}
	for _, c := range status.Status().Details.Causes {
		switch {
		case p.gvk.Kind == "StatefulSet" && c.Field == "spec" && c.Type == metav1.CauseType(field.ErrorTypeForbidden):
			return true
		case c.Field == "spec.selector" && c.Type == metav1.CauseType(field.ErrorTypeInvalid):
			return true
		}
	}
	return false
}

// recreate deletes live with a UID precondition and orphan propagation (its
// pods and PVCs are kept for the new object to adopt), or, with
// replaceDependents, background propagation (they go with it), waits a short
// while for it to be gone and creates p.
func (b *Builder) recreate(ctx context.Context, p *prepared, live client.Object, why string, replaceDependents bool) (Result, error) {
	logger := log.FromContext(ctx).WithValues("kind", p.gvk.Kind, "namespace", p.obj.GetNamespace(), "name", p.obj.GetName())
	logger.Info("recreating: " + why)
	uid := live.GetUID()
	propagation, detail := metav1.DeletePropagationOrphan, why+"; its pods and PersistentVolumeClaims are kept (orphan propagation)"
	if replaceDependents {
		propagation, detail = metav1.DeletePropagationBackground, why
	}
	err := b.client.Delete(ctx, live,
		client.PropagationPolicy(propagation),
		client.Preconditions{UID: &uid},
		eventclient.Recreate,
		eventclient.Detail(detail),
	)
	if err != nil && !apierrors.IsNotFound(err) {
		return Result{}, fmt.Errorf("delete to recreate: %w", err)
	}
	b.cfg.expectations.forget(p.key())
	gone, err := b.waitGone(ctx, p, uid)
	if err != nil {
		return Result{}, err
	}
	if !gone {
		return Result{Operation: OperationRecreating, Requeue: true, Message: why}, nil
	}
	res, err := b.apply(ctx, p, nil, OperationRecreated)
	if err != nil {
		return Result{}, err
	}
	res.Operation = OperationRecreated
	res.Message = why
	return res, nil
}

// waitGone polls the client (the cache in a controller) until the object
// with uid is gone, for at most recreateWait.
func (b *Builder) waitGone(ctx context.Context, p *prepared, uid types.UID) (bool, error) {
	gone := false
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, recreateWait, true, func(ctx context.Context) (bool, error) {
		cur, err := b.newLike(p)
		if err != nil {
			return false, err
		}
		switch err := b.client.Get(ctx, client.ObjectKeyFromObject(p.obj), cur); {
		case apierrors.IsNotFound(err):
			gone = true
			return true, nil
		case err != nil:
			return false, fmt.Errorf("read while waiting for deletion: %w", err)
		}
		if cur.GetUID() != uid {
			// Someone else already created a new one.
			gone = true
			return true, nil
		}
		return false, nil
	})
	if err != nil && !wait.Interrupted(err) {
		return false, err
	}
	if err != nil && ctx.Err() != nil {
		return false, ctx.Err()
	}
	return gone, nil
}

func isPVC(p *prepared) bool {
	return p.gvk.Group == "" && p.gvk.Kind == "PersistentVolumeClaim"
}

// selectsLivePods reports whether the desired selector matches the labels of
// the live pod template, so that the pods of the live workload can be adopted
// by the desired one.
func selectsLivePods(desired, live map[string]any) bool {
	raw, ok, _ := unstructured.NestedMap(desired, "spec", "selector")
	if !ok {
		return false
	}
	var sel metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err != nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		return false
	}
	podLabels, _, _ := unstructured.NestedStringMap(live, "spec", "template", "metadata", "labels")
	return s.Matches(labels.Set(podLabels))
}
