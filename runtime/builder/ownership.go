package builder

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Reasons of OperationRefused, also the reasons of its Warning event.
const (
	// ReasonNameTaken: an object the operator did not create has the
	// child's name.
	ReasonNameTaken = "NameTaken"
	// ReasonControlledByOther: an object with the child's name is
	// controlled by another owner.
	ReasonControlledByOther = "ControlledByOther"
)

// The ownership rules decide whether the Builder may write an existing object
// that has a child's name. They are checked, in this order, on every object
// found, whether read from the cache or from the API server:
//
//  1. An object whose controller ownerReference has the owner's UID is the
//     owner's child: the Builder writes it.
//  2. An object controlled by anything else is refused
//     (ReasonControlledByOther), even with the adopt annotation: two
//     controllers of one object fight forever.
//  3. An object without a controller whose keys.AnnotationAdopt names the
//     owner is adopted: the apply adds the controller ownerReference and
//     labels and keeps every field the Builder does not set.
//  4. Any other object is refused (ReasonNameTaken).
//
// A refusal writes nothing, records one Warning event on the owner (per
// object and resourceVersion, so a pass that retries does not record it
// again) and returns OperationRefused. The store never prunes such an object
// either: its safety rules delete only objects controlled by the owner.

// ownership is what the ownership rules say of a live object.
type ownership int

const (
	owned ownership = iota
	adoptable
	refusedNameTaken
	refusedControlledByOther
)

// ownershipOf applies the ownership rules to live.
func (b *Builder) ownershipOf(live client.Object) ownership {
	ref := metav1.GetControllerOf(live)
	switch {
	case ref != nil && ref.UID == b.cfg.owner.GetUID():
		return owned
	case ref != nil:
		return refusedControlledByOther
	case live.GetAnnotations()[keys.AnnotationAdopt] == b.cfg.owner.GetName():
		return adoptable
	}
	return refusedNameTaken
}

// refusal explains a refused ownership: the reason and a message naming the
// object and the fix.
func (b *Builder) refusal(p *prepared, live client.Object, o ownership) (reason, message string) {
	obj := fmt.Sprintf("%s %s/%s", p.gvk.Kind, live.GetNamespace(), live.GetName())
	adopt := fmt.Sprintf("%s=%s", keys.AnnotationAdopt, b.cfg.owner.GetName())
	if o == refusedControlledByOther {
		ref := metav1.GetControllerOf(live)
		return ReasonControlledByOther, fmt.Sprintf(
			"%s is controlled by %s %s, so it was not written; rename the group that wants this name, or remove that controller reference and annotate the object %s to hand it over",
			obj, ref.Kind, ref.Name, adopt)
	}
	return ReasonNameTaken, fmt.Sprintf(
		"%s already exists and was not created by this operator for %s, so it was not written; rename the group that wants this name, delete the object, or annotate it %s to let the operator adopt it",
		obj, b.cfg.owner.GetName(), adopt)
}

// readUncached reads the object p would be from the API server, into live,
// when the Builder has an API reader. It reports whether the object exists.
func (b *Builder) readUncached(ctx context.Context, p *prepared, live client.Object) (bool, error) {
	if b.cfg.apiReader == nil {
		return false, nil
	}
	switch err := b.cfg.apiReader.Get(ctx, client.ObjectKeyFromObject(p.obj), live); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read from the API server: %w", err)
	}
	return true, nil
}

// refuse records the Warning of a refusal once per object and
// resourceVersion, and returns OperationRefused. It writes nothing.
func (b *Builder) refuse(ctx context.Context, p *prepared, live client.Object, reason, message string) Result {
	if b.cfg.expectations.firstWarning(p.key(), "refused "+string(live.GetUID())+" "+live.GetResourceVersion()) {
		log.FromContext(ctx).Info("refusing to write an object the operator does not own",
			"kind", p.gvk.Kind, "namespace", live.GetNamespace(), "name", live.GetName(), "reason", reason)
		b.client.Record(ctx, live, corev1.EventTypeWarning, reason, eventclient.ActionUpdate, message)
	}
	return Result{Operation: OperationRefused, Reason: reason, Message: message, Requeue: true}
}
