package builder

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Store is what the Builder needs of the desired-state store;
// runtime/store.Store implements it.
//
// In one reconcile pass the Builder records every desired object (before it
// is applied, so a failed apply still counts as desired), marks the pass
// failed when building or applying any object fails, and ReconcileStore calls
// Prune at the end. A store must not prune in a pass marked failed.
type Store interface {
	// Record notes obj (as prepared by the Builder: namespace, labels and
	// owner reference set) as desired in the current pass.
	Record(obj client.Object) error
	// Fail marks the current pass as failed with err: nothing is pruned.
	Fail(err error)
	// Prune deletes the owner's children that are not desired in this pass.
	Prune(ctx context.Context) error
}
