package builder

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Operation says what a Reconcile call did to a child.
type Operation string

const (
	// OperationCreated means the child did not exist and was created.
	OperationCreated Operation = "Created"
	// OperationUpdated means the child differed from the desired state and was
	// applied.
	OperationUpdated Operation = "Updated"
	// OperationUnchanged means the child matched the desired state; no write was
	// made.
	OperationUnchanged Operation = "Unchanged"
	// OperationRecreated means a field that cannot be updated changed, so the child
	// was deleted with orphan propagation (its pods and PVCs are kept) and
	// created again.
	OperationRecreated Operation = "Recreated"
	// OperationRecreating means as OperationRecreated, but the old child is still
	// being deleted (the garbage collector releases its dependents first). The
	// deletion triggers the owner's next reconcile through its Owns watch,
	// which creates the new child; Result.Requeue is also set.
	OperationRecreating Operation = "Recreating"
	// OperationBlocked means the desired change cannot be made (such as shrinking a
	// PersistentVolumeClaim, or growing the claims of a StatefulSet whose
	// StorageClass cannot expand); one Warning event per desired state says
	// why and nothing was written. It is not an error: retrying would not
	// help until the desired state changes.
	OperationBlocked Operation = "Blocked"
	// OperationRefused means an object the owner does not control already
	// has the child's name (see the ownership rules in ownership.go):
	// nothing was written, a Warning event names the object and the fix,
	// Result.Reason is ReasonNameTaken or ReasonControlledByOther, and
	// Result.Requeue is set, because the object is not in a label-scoped
	// cache and its fix (a rename, a delete, the adopt annotation) brings no
	// watch event.
	OperationRefused Operation = "Refused"
	// OperationHeld means a workload's pods need a ConfigMap or Secret that
	// does not exist (see the missing-config rule in held.go): nothing was
	// written, so the live workload, if any, keeps its spec and config hash;
	// a Warning event names the missing objects, Result.Reason is
	// ReasonConfigMissing, and Result.Requeue is set, because an object
	// created without the watch label brings no watch event.
	OperationHeld Operation = "Held"
)

// Result is what a Reconcile call did.
type Result struct {
	// Object is the child as it is in the API server after the call (as read
	// or as returned by the write), of the same Go type as the desired object.
	// Nil for OperationRecreating.
	Object client.Object
	// Operation says what was done.
	Operation Operation
	// RolloutTriggered is true when the config hash on a workload's pod
	// template changed, so its pods roll.
	RolloutTriggered bool
	// Requeue asks the caller to reconcile again soon: set with
	// OperationRecreating, OperationRefused and OperationHeld, and with
	// OperationUnchanged when Object is the Builder's own create that the
	// cache does not show yet (see Expectations): should the object have
	// been deleted before the cache saw it, no watch event would tell.
	Requeue bool
	// Reason is ReasonNameTaken or ReasonControlledByOther with
	// OperationRefused, ReasonConfigMissing with OperationHeld,
	// ReasonUpdateRejected or ReasonStorageResizeRefused with
	// OperationBlocked, "" otherwise.
	Reason string
	// Message explains OperationBlocked, OperationRefused, OperationHeld and
	// OperationRecreated(ing).
	Message string
}

// Changed reports whether the call wrote to the API server.
func (r Result) Changed() bool {
	switch r.Operation {
	case OperationCreated, OperationUpdated, OperationRecreated, OperationRecreating:
		return true
	}
	return false
}
