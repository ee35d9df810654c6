package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
)

// Result reports what one Prune did.
type Result struct {
	// Skipped is non-empty when the pass pruned nothing on purpose:
	// "OwnerDeleting" or "PassFailed".
	Skipped string
	// Pruned lists the children deleted in this pass.
	Pruned []ID
	// Kept lists children that left the desired set in this pass but were
	// kept by policy (PersistentVolumeClaims without WithPVCPruning). They
	// leave the inventory, so each is reported once.
	Kept []ID
	// Failed lists children whose delete failed. They stay in the inventory
	// and are retried by the next pass.
	Failed []ID
	// Inventory is the owner's new inventory, sorted.
	Inventory []string
	// InventoryChanged reports whether Inventory differs from the inventory
	// the owner had when the Store was made.
	InventoryChanged bool
}

// Prune deletes the owner's children that were not recorded in this pass and
// sets the owner's status inventory, in memory only, to what the owner owns
// afterwards. It makes no write to the owner: the caller writes the status,
// or calls PersistInventory, or uses Reconcile instead. Result tells what
// Prune did.
//
// Candidates are the children listed by the owner label, in the owner's
// namespace, over every kind that was recorded in this pass, that appears in
// the owner's previous inventory, or that was named with WithKinds. Which of
// them may be deleted is decided by the rules in safety.go.
//
// The returned error joins every failed list and delete. Children that could
// not be listed or deleted stay in the inventory, so returning the error from
// Reconcile, and thus retrying, completes the prune later.
func (s *Store) Prune(ctx context.Context) error {
	res, err := s.prune(ctx)
	s.mu.Lock()
	s.last = res
	s.mu.Unlock()
	return err
}

// Result returns what the last Prune (or Reconcile) did; the zero Result
// before the first.
func (s *Store) Result() Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func (s *Store) prune(ctx context.Context) (Result, error) {
	logger := log.FromContext(ctx).WithValues("owner", s.owner.GetName(), "namespace", s.namespace)
	previous := s.previousInventory(ctx)
	desired := s.desiredSnapshot()

	var res Result
	if skip := s.passVerdict(); skip != skipNone {
		// Forget nothing: what the previous pass owned is still owned.
		res.Skipped = string(skip)
		retained := maps.Clone(previous)
		maps.Copy(retained, desired)
		s.setInventory(&res, retained)
		logger.V(1).Info("prune skipped", "reason", res.Skipped)
		return res, nil
	}

	// retained holds the inventory entries beyond the desired set that must
	// survive this pass: failed deletes and kinds that could not be listed.
	retained := map[Key]ID{}
	var errs []error
	for _, gvk := range s.scanKinds(previous, desired) {
		objs, err := s.listOwned(ctx, gvk)
		switch {
		case meta.IsNoMatchError(err):
			// The kind is no longer served, so none of its objects exist.
			logger.V(1).Info("kind no longer served; dropping it from the inventory", "kind", gvk.String())
			continue
		case err != nil:
			errs = append(errs, err)
			for k, id := range previous {
				if id.GroupKind() == gvk.GroupKind() {
					retained[k] = id
				}
			}
			continue
		}
		for _, obj := range objs {
			id := ID{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
			if _, ok := desired[id.Key()]; ok {
				continue
			}
			switch s.objectVerdict(id, obj) {
			case verdictNotOwned:
				logger.V(1).Info("not pruning an object the owner does not control", "object", id.String())
			case verdictTerminating:
			case verdictKeepPVC:
				// Reported once, in the pass that stops tracking it.
				if _, tracked := previous[id.Key()]; tracked {
					res.Kept = append(res.Kept, id)
				}
			case verdictDelete:
				switch outcome, err := s.deleteChild(ctx, obj); outcome {
				case deleted:
					res.Pruned = append(res.Pruned, id)
				case alreadyGone:
				case replaced:
					// The object changed, or a new one took the name,
					// since it was read; keep the entry so the next pass
					// judges what is there now.
					retained[id.Key()] = id
				case failed:
					errs = append(errs, fmt.Errorf("store: prune %s: %w", id, err))
					res.Failed = append(res.Failed, id)
					retained[id.Key()] = id
				}
			}
		}
	}
	maps.Copy(retained, desired)
	s.setInventory(&res, retained)
	if len(res.Pruned)+len(res.Failed)+len(res.Kept) > 0 {
		logger.Info("pruned children that are no longer desired",
			"pruned", len(res.Pruned), "failed", len(res.Failed), "kept", len(res.Kept))
	}
	return res, errors.Join(errs...)
}

type deleteOutcome int

const (
	deleted deleteOutcome = iota
	alreadyGone
	replaced
	failed
)

// deleteChild deletes obj with UID and resourceVersion preconditions (rule 8
// in safety.go) and background propagation, so a workload's pods go with it.
// An object that is already gone needs nothing more. When a precondition
// fails (409), the object is no longer the one the rules were applied to; it
// is left alone and judged by the next pass.
func (s *Store) deleteChild(ctx context.Context, obj client.Object) (deleteOutcome, error) {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	err := s.client.Delete(ctx, obj,
		eventclient.Prune, // event reason Pruned, or a PruneFailed Warning
		client.Preconditions{UID: &uid, ResourceVersion: &rv},
		client.PropagationPolicy(metav1.DeletePropagationBackground))
	switch {
	case err == nil:
		return deleted, nil
	case apierrors.IsNotFound(err):
		return alreadyGone, nil
	case apierrors.IsConflict(err):
		return replaced, nil
	default:
		return failed, err
	}
}

// listOwned lists the objects of kind gvk in the owner's namespace that carry
// the owner label (kinds.List: typed where the scheme knows the kind), by
// the owner index where the reader has one for the kind (WithOwnerIndex).
func (s *Store) listOwned(ctx context.Context, gvk schema.GroupVersionKind) ([]client.Object, error) {
	objs, err := kinds.List(ctx, s.reader, s.scheme, gvk,
		client.InNamespace(s.namespace),
		kinds.OwnedBy(s.ownerUID, s.indexed[gvk.GroupKind()]),
	)
	if err != nil {
		return nil, fmt.Errorf("store: in %q by owner label: %w", s.namespace, err)
	}
	return objs, nil
}

// scanKinds returns one version per group and kind to list: the version
// recorded in this pass if any, else the one given to WithKinds, else the
// one in the previous inventory. Sorted, so passes are deterministic.
func (s *Store) scanKinds(previous, desired map[Key]ID) []schema.GroupVersionKind {
	byGK := map[schema.GroupKind]string{}
	for _, id := range previous {
		byGK[id.GroupKind()] = id.Version
	}
	for _, gvk := range s.kinds {
		byGK[gvk.GroupKind()] = gvk.Version
	}
	for _, id := range desired {
		byGK[id.GroupKind()] = id.Version
	}
	out := make([]schema.GroupVersionKind, 0, len(byGK))
	for gk, v := range byGK {
		out = append(out, gk.WithVersion(v))
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionKind) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}
