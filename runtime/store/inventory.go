package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// Reconcile prunes (see Prune) and then, only if the inventory changed,
// writes it to the owner's status subresource with PersistInventory. A
// steady-state pass therefore makes no write request at all. It returns the
// Result of the prune.
//
// Use it when the store's caller does not write the owner's status itself;
// a caller that does (such as package orchestrate) calls Prune and writes the
// status, inventory included, once.
func (s *Store) Reconcile(ctx context.Context) (Result, error) {
	err := s.Prune(ctx)
	res := s.Result()
	if res.InventoryChanged {
		if perr := s.PersistInventory(ctx); perr != nil {
			err = errors.Join(err, perr)
		}
	}
	return res, err
}

// PersistInventory writes the owner's in-memory inventory to its status
// subresource when it differs from what the API server holds, and does
// nothing otherwise.
//
// The write is a JSON merge patch that carries the inventory and nothing
// else: it sends no resourceVersion, so it cannot fail with a conflict, and
// it leaves every other status field, and any in-memory change the caller
// made to them, alone. The owner object itself is not modified.
func (s *Store) PersistInventory(ctx context.Context) error {
	want := slices.Clone(s.owner.GetClusterStatus().Inventory)
	if slices.Equal(want, s.persisted) {
		return nil
	}
	base, ok := s.owner.DeepCopyObject().(status.Object)
	if !ok {
		return fmt.Errorf("store: %T.DeepCopyObject does not return a status.Object", s.owner)
	}
	base.GetClusterStatus().Inventory = slices.Clone(s.persisted)
	patched, _ := s.owner.DeepCopyObject().(status.Object)
	if err := s.status.Patch(ctx, patched, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("store: write inventory of %s/%s: %w", s.namespace, s.owner.GetName(), err)
	}
	s.persisted = want
	log.FromContext(ctx).V(1).Info("inventory written", "owner", s.owner.GetName(), "entries", len(want))
	return nil
}

// previousInventory parses the owner's current inventory. Entries that do not
// parse, or that name another namespace, are dropped: the store never acts on
// an entry it could not have written.
func (s *Store) previousInventory(ctx context.Context) map[Key]ID {
	entries := s.owner.GetClusterStatus().Inventory
	out := make(map[Key]ID, len(entries))
	for _, e := range entries {
		id, err := ParseID(e)
		if err == nil && id.Namespace != s.namespace {
			err = fmt.Errorf("store: inventory entry %q is not in the owner's namespace %q", e, s.namespace)
		}
		if err != nil {
			log.FromContext(ctx).Info("ignoring inventory entry", "owner", s.owner.GetName(), "reason", err.Error())
			continue
		}
		out[id.Key()] = id
	}
	return out
}

func (s *Store) desiredSnapshot() map[Key]ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.desired)
}

// setInventory makes ids the owner's inventory, in memory, and fills in the
// inventory fields of res.
func (s *Store) setInventory(res *Result, ids map[Key]ID) {
	inv := make([]string, 0, len(ids))
	for _, id := range ids {
		inv = append(inv, id.String())
	}
	slices.Sort(inv)
	inv = slices.Compact(inv)
	if len(inv) == 0 {
		inv = nil
	}
	s.owner.GetClusterStatus().Inventory = inv
	res.Inventory = slices.Clone(inv)
	res.InventoryChanged = !slices.Equal(inv, s.persisted)
}
