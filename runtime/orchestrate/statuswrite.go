package orchestrate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// outcome is what one pass found out; apply turns it into a status on top
// of whichever status the CR has, so that a write that meets a conflict can
// be redone on a fresh copy without repeating the pass.
type outcome struct {
	generation int64
	// disabled: the reconcile annotation disabled the controller; nothing
	// else in the outcome is set.
	disabled bool
	paused   bool
	// failure is the status message of a pass that failed, "" otherwise.
	// It never carries the contents of ConfigMaps or Secrets.
	failure string
	// nodeTypes is nil when the pass did not get as far as observing them;
	// their status is then left as it was.
	nodeTypes []nodeTypeObserved
	// inventory is the owner's inventory after pruning, when inventorySet.
	inventory    []string
	inventorySet bool
	// observed: the pass completed without an error.
	observed bool
	// terminal: the pass failed with an error retrying will not fix
	// (reconcile.TerminalError).
	terminal bool
	// waiting holds, per node type and hook, the pods the pass found a
	// hook had not said yes to (for the metrics).
	waiting map[string]map[hookKind]map[types.UID]bool
	// progressDue, set by writeStatus, is how soon the progress it held
	// back may be written (statuspace.go); 0 when nothing was held back.
	progressDue time.Duration
}

// wait notes that node type nodeType waits on hook k for pod.
func (out *outcome) wait(nodeType string, k hookKind, pod types.UID) {
	if out.waiting == nil {
		out.waiting = map[string]map[hookKind]map[types.UID]bool{}
	}
	if out.waiting[nodeType] == nil {
		out.waiting[nodeType] = map[hookKind]map[types.UID]bool{}
	}
	if out.waiting[nodeType][k] == nil {
		out.waiting[nodeType][k] = map[types.UID]bool{}
	}
	out.waiting[nodeType][k][pod] = true
}

var disabledMessage = fmt.Sprintf("the %s annotation is %q: the operator makes no change to this resource or its children", keys.AnnotationReconcile, keys.ValueDisabled)

// apply returns base with the outcome applied. base is not modified.
func (out *outcome) apply(base *status.ClusterStatus) *status.ClusterStatus {
	cs := base.DeepCopy()
	if out.disabled {
		meta.SetStatusCondition(&cs.Conditions, metav1.Condition{
			Type: ConditionReconcileDisabled, Status: metav1.ConditionTrue, Reason: ReasonDisabledByAnnotation,
			Message: disabledMessage, ObservedGeneration: out.generation,
		})
		return cs
	}
	meta.RemoveStatusCondition(&cs.Conditions, ConditionReconcileDisabled)
	if out.nodeTypes != nil {
		var nts []status.NodeTypeStatus
		for _, nt := range out.nodeTypes {
			if len(nt.Groups) == 0 && nt.Draining == "" {
				// The CR does not run this node type.
				continue
			}
			var prev *status.NodeTypeStatus
			if i := slices.IndexFunc(base.NodeTypes, func(p status.NodeTypeStatus) bool { return p.Name == nt.Name }); i >= 0 {
				prev = &base.NodeTypes[i]
			}
			nts = append(nts, nodeTypeStatus(prev, nt, out.generation))
		}
		cs.NodeTypes = nts
	}
	if out.inventorySet {
		cs.Inventory = slices.Clone(out.inventory)
	}
	clusterConditions(cs, out.paused, out.failure, out.generation)
	out.rolloutConditions(cs)
	summarize(cs)
	if out.settled(cs) {
		cs.ObservedGeneration = out.generation
	}
	return cs
}

// writeStatus patches the CR's status with the outcome when, and only when,
// it differs from what the CR holds, and then records the events the change
// deserves.
//
// The patch is a JSON merge patch with the resourceVersion of the copy the
// pass read (optimistic locking), so a transition is never recorded on top of
// a stale status and no event is recorded twice. A copy made stale by this
// controller's own previous status write was already brought up to date by
// the status memo (statusmemo.go) before the pass; a copy made stale by
// anyone else fails with a conflict instead of writing, and the outcome is
// applied again to a fresh copy read from the API server.
func (o *Orchestrator[T]) writeStatus(ctx context.Context, base, owner T, out *outcome) error {
	stale := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		next := out.apply(base.GetClusterStatus())
		if equality.Semantic.DeepEqual(base.GetClusterStatus(), next) {
			*owner.GetClusterStatus() = *next
			return nil
		}
		if progressOnly(base.GetClusterStatus(), next) {
			if wait := o.statuses.progressWait(base.GetUID(), next); wait > 0 {
				out.progressDue = wait
				*owner.GetClusterStatus() = *base.GetClusterStatus().DeepCopy()
				return nil
			}
		}
		patched, ok := base.DeepCopyObject().(T)
		if !ok {
			return fmt.Errorf("%T.DeepCopyObject does not return a %T", base, base)
		}
		*patched.GetClusterStatus() = *next.DeepCopy()
		err := o.client.Status().Patch(ctx, patched, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
		if apierrors.IsConflict(err) {
			fresh := newObject[T]()
			if gerr := o.apiReader.Get(ctx, client.ObjectKeyFromObject(base), fresh); gerr != nil {
				return fmt.Errorf("re-read after a status conflict: %w", gerr)
			}
			if fresh.GetUID() != base.GetUID() {
				return fmt.Errorf("the resource was deleted and re-created during the pass")
			}
			if fresh.GetGeneration() != out.generation {
				// The spec changed during the pass: what it found out is
				// already stale, and the change brings a pass of its own.
				stale = true
				return nil
			}
			base = fresh
			return err
		}
		if err != nil {
			return err
		}
		o.statuses.written(base.GetUID(), base.GetResourceVersion(), patched.GetResourceVersion(), next)
		recordEvents(ctx, o.recorder, o.scheme, patched, statusEvents(base.GetClusterStatus(), next))
		o.metrics.observeRollouts(client.ObjectKeyFromObject(base), base.GetClusterStatus(), next, o.now())
		*owner.GetClusterStatus() = *next
		owner.SetResourceVersion(patched.GetResourceVersion())
		return nil
	})
	if err != nil {
		return fmt.Errorf("orchestrate: write status of %s/%s: %w", base.GetNamespace(), base.GetName(), err)
	}
	if stale {
		log.FromContext(ctx).V(1).Info("status not written: the resource's spec changed during the pass")
	}
	return nil
}
