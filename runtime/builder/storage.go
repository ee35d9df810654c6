package builder

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ReasonStorageResizeRefused is the Result.Reason of OperationBlocked when the
// API server refuses to grow a StatefulSet's claims (their StorageClass does
// not allow expansion, say). The refused patch itself is recorded as an
// UpdateFailed Warning naming the claim.
const ReasonStorageResizeRefused = "StorageResizeRefused"

// The storage rules of a StatefulSet. The API server never lets a
// StatefulSet's volumeClaimTemplates change, and the StatefulSet controller
// never resizes the claims it made from them, so the Builder does both:
//
//  1. A template's storage request that grows is applied to every existing
//     claim of the template (<template>-<statefulset>-<ordinal>, found by the
//     StatefulSet's selector) with a patch of that request alone, and then
//     the StatefulSet is recreated with orphan propagation, so its template
//     matches and later claims get the new size. Pods and claims are kept.
//  2. A storage request that shrinks is refused (OperationBlocked): a
//     volume cannot shrink, and a smaller template would give new pods less
//     room than old ones. Nothing is written.
//  3. A resize the API server refuses (the claim's StorageClass does not
//     allow expansion, or the claim is not bound) blocks the StatefulSet
//     (OperationBlocked, ReasonStorageResizeRefused): one Warning, and with
//     Expectations no further patch until the desired state changes.
//  4. Any other change of the templates recreates the StatefulSet; the
//     existing claims keep their spec.
//
// Whether the claims reached their new capacity is for the caller to
// observe (runtime/orchestrate reports it on the node type).

// claimChange is what a desired StatefulSet changes in its live
// volumeClaimTemplates.
type claimChange struct {
	// grow is the new storage request of each template that grows.
	grow map[string]resource.Quantity
	// shrink explains a request that shrinks ("" when none does).
	shrink string
	// other is true when anything but storage requests changed.
	other bool
}

// claimTemplateChange compares the volumeClaimTemplates of the desired and
// the live StatefulSet content.
func claimTemplateChange(desired, live map[string]any) claimChange {
	d, _, _ := unstructured.NestedSlice(desired, "spec", "volumeClaimTemplates")
	l, _, _ := unstructured.NestedSlice(live, "spec", "volumeClaimTemplates")
	var c claimChange
	if len(d) != len(l) {
		c.other = true
		return c
	}
	byName := map[string]map[string]any{}
	for _, t := range l {
		if m, ok := t.(map[string]any); ok {
			name, _, _ := unstructured.NestedString(m, "metadata", "name")
			byName[name] = m
		}
	}
	for _, t := range d {
		dt, _ := t.(map[string]any)
		name, _, _ := unstructured.NestedString(dt, "metadata", "name")
		lt, ok := byName[name]
		if !ok {
			c.other = true
			return c
		}
		dq, dok := storageRequest(dt)
		lq, lok := storageRequest(lt)
		if !isSubset(withoutStorageRequest(dt), withoutStorageRequest(lt)) || dok != lok {
			c.other = true
			return c
		}
		switch {
		case !dok || dq.Cmp(lq) == 0:
		case dq.Cmp(lq) < 0:
			c.shrink = fmt.Sprintf("the storage request of volumeClaimTemplate %q cannot shrink from %s to %s", name, lq.String(), dq.String())
		default:
			if c.grow == nil {
				c.grow = map[string]resource.Quantity{}
			}
			c.grow[name] = dq
		}
	}
	return c
}

func storageRequest(template map[string]any) (resource.Quantity, bool) {
	s, ok, _ := unstructured.NestedFieldNoCopy(template, "spec", "resources", "requests", "storage")
	if !ok {
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(fmt.Sprint(s))
	return q, err == nil
}

func withoutStorageRequest(template map[string]any) map[string]any {
	c := runtime.DeepCopyJSON(template)
	unstructured.RemoveNestedField(c, "spec", "resources", "requests", "storage")
	return c
}

// growClaims patches the existing claims of the live StatefulSet whose
// templates grow (rule 1). When the API server refuses a resize (rule 3) it
// returns an OperationBlocked result and true; false once every claim carries
// its new request.
func (b *Builder) growClaims(ctx context.Context, p *prepared, live client.Object, grow map[string]resource.Quantity) (Result, bool, error) {
	claims, err := b.claimsOf(ctx, live)
	if err != nil {
		return Result{}, false, err
	}
	for _, name := range slices.Sorted(maps.Keys(grow)) {
		want := grow[name]
		for i := range claims {
			claim := &claims[i]
			if !isClaimOf(claim.Name, name, live.GetName()) {
				continue
			}
			if cur := claim.Spec.Resources.Requests[corev1.ResourceStorage]; cur.Cmp(want) >= 0 {
				continue
			}
			patch := fmt.Appendf(nil, `{"spec":{"resources":{"requests":{"storage":%q}}}}`, want.String())
			err := b.client.Patch(ctx, claim, client.RawPatch("application/merge-patch+json", patch))
			switch {
			case err == nil:
				log.FromContext(ctx).Info("grew a claim of a StatefulSet", "claim", claim.Name, "storage", want.String())
			case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
				// The event client recorded the failed patch as an
				// UpdateFailed Warning, naming the claim and why.
				why := fmt.Sprintf("the API server refused to grow claim %s to %s (does its StorageClass allow volume expansion, and is it bound?); the StatefulSet keeps its volumeClaimTemplates", claim.Name, want.String())
				b.cfg.expectations.rememberBlocked(p.key(), p.hash, why)
				return Result{Object: live, Operation: OperationBlocked, Reason: ReasonStorageResizeRefused, Message: why}, true, nil
			default:
				return Result{}, false, fmt.Errorf("grow claim %s: %w", claim.Name, err)
			}
		}
	}
	return Result{}, false, nil
}

// claimsOf lists the claims of a StatefulSet: the StatefulSet controller
// gives them its selector's labels. They are read from the API server when
// the Builder has a reader for it, since a label-scoped cache holds no claim
// the operator did not label.
func (b *Builder) claimsOf(ctx context.Context, live client.Object) ([]corev1.PersistentVolumeClaim, error) {
	content, err := toContent(live)
	if err != nil {
		return nil, err
	}
	var sel metav1.LabelSelector
	raw, ok, _ := unstructured.NestedMap(content, "spec", "selector")
	if !ok {
		return nil, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &sel); err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	selector, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		return nil, fmt.Errorf("selector: %w", err)
	}
	var r client.Reader = b.client
	if b.cfg.apiReader != nil {
		r = b.cfg.apiReader
	}
	var list corev1.PersistentVolumeClaimList
	if err := r.List(ctx, &list, client.InNamespace(live.GetNamespace()), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("list the claims of the StatefulSet: %w", err)
	}
	return list.Items, nil
}

var ordinalSuffix = regexp.MustCompile(`^[0-9]+$`)

// isClaimOf reports whether claim is a claim the StatefulSet sts made from
// template: named <template>-<sts>-<ordinal>.
func isClaimOf(claim, template, sts string) bool {
	rest, ok := strings.CutPrefix(claim, template+"-"+sts+"-")
	return ok && ordinalSuffix.MatchString(rest)
}
