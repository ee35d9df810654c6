// Package store is the desired-state store of the opbuilder runtime: it
// records what an owner (a custom resource) desires in one reconcile pass,
// deletes the owner's children that are no longer desired, and keeps an
// inventory of the owner's children in the owner's status so that nothing
// is forgotten across operator restarts.
//
// # A pass
//
//	st, err := store.New(cr, eventClient, store.WithKinds(&appsv1.StatefulSet{}, &corev1.Service{}))
//	for _, obj := range desired {
//		st.Record(obj)            // keyed by group, kind, namespace and name
//		if err := apply(obj); err != nil {
//			st.Fail(err)          // nothing is pruned in this pass
//		}
//	}
//	res, err := st.Reconcile(ctx) // prune, then write the inventory if it changed
//
// runtime/builder drives Record, Fail and Prune for its users; a caller that
// writes the owner's status itself (runtime/orchestrate) calls Prune, which
// updates the inventory in memory, and includes it in its one status write.
//
// # What is pruned
//
// Candidates are found by listing, in the owner's namespace and through the
// reader (the manager's cache in a controller), the objects that carry the
// owner label opbuilder.io/owner-uid with the owner's UID, over every kind
// that is recorded in the pass, that is named in the owner's previous
// inventory, or that was given to WithKinds. The previous inventory is what
// finds a kind the operator no longer creates at all; WithKinds is what
// finds children when the inventory itself was lost. No kind is ever listed
// cluster-wide or without the label selector. With WithOwnerIndex the same
// objects are looked up in the cache's field index of that label
// (keys.IndexOwnerUID), so a pass reads only its owner's children, not every
// object of the kind in the namespace.
//
// A candidate that is not desired is deleted only if every safety rule
// allows it. The rules are written down, and applied, in one place
// (safety.go); in short: the owner is not being deleted; the pass was not
// marked failed; the object carries the owner label and a controller owner
// reference with the owner's UID (labels alone are never enough); it is not
// already terminating; it is not a PersistentVolumeClaim unless
// WithPVCPruning opted in; and the delete carries a UID precondition.
//
// Deletes go through the client given to New. With the event-recording
// client of runtime/eventclient each one records a Pruned event on the
// owner, or a PruneFailed Warning when it fails. A failed delete stays in
// the inventory, and Prune returns its error, so the next reconcile retries
// it.
//
// # The inventory
//
// The inventory is ClusterStatus.Inventory: a sorted list of compact IDs,
// one per child the owner desires or still owns, in the form
// Kind.version[.group]/namespace/name (see ID). Objects are compared by
// group, kind, namespace and name without the version, so moving a kind to
// a newer API version never prunes it. PersistInventory writes it with a
// JSON merge patch of the status subresource that carries only the
// inventory and no resourceVersion, and only when it changed: a steady-state
// pass writes nothing.
package store
