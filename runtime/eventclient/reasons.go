package eventclient

// Event reasons. The Normal reasons name the outcome of a successful write;
// the Warning reasons name the write that failed.
const (
	// ReasonCreated means a child was created.
	ReasonCreated = "Created"
	// ReasonUpdated means a child was changed.
	ReasonUpdated = "Updated"
	// ReasonDeleted means a child was deleted.
	ReasonDeleted = "Deleted"
	// ReasonPruned means a child that is no longer desired was deleted.
	ReasonPruned = "Pruned"
	// ReasonRecreated means a child was deleted to be created again, because a
	// field that cannot be updated (such as a StatefulSet's selector) changed.
	ReasonRecreated = "Recreated"
	// ReasonRolloutTriggered means a workload was changed in a way that rolls its
	// pods, such as a new config hash on its pod template.
	ReasonRolloutTriggered = "RolloutTriggered"

	// ReasonUpdateRejected (Warning) means a desired change was not made
	// because the API server cannot make it, such as shrinking a
	// PersistentVolumeClaim.
	ReasonUpdateRejected = "UpdateRejected"

	// ReasonCreateFailed (Warning) means creating a child failed.
	ReasonCreateFailed = "CreateFailed"
	// ReasonUpdateFailed (Warning) means updating, patching or applying a child failed.
	ReasonUpdateFailed = "UpdateFailed"
	// ReasonDeleteFailed (Warning) means deleting a child failed.
	ReasonDeleteFailed = "DeleteFailed"
	// ReasonPruneFailed (Warning) means deleting a child that is no longer desired failed.
	ReasonPruneFailed = "PruneFailed"
)

// Event actions: the verb of the write.
const (
	ActionCreate = "Create"
	ActionUpdate = "Update"
	ActionPatch  = "Patch"
	ActionApply  = "Apply"
	ActionDelete = "Delete"
)
