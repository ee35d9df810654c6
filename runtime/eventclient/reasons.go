package eventclient

// Event reasons. The Normal reasons name the outcome of a successful write;
// the Warning reasons name the write that failed.
const (
	// ReasonCreated: a child was created.
	ReasonCreated = "Created"
	// ReasonUpdated: a child was changed.
	ReasonUpdated = "Updated"
	// ReasonDeleted: a child was deleted.
	ReasonDeleted = "Deleted"
	// ReasonPruned: a child that is no longer desired was deleted.
	ReasonPruned = "Pruned"
	// ReasonRecreated: a child was deleted to be created again, because a
	// field that cannot be updated (such as a StatefulSet's selector) changed.
	ReasonRecreated = "Recreated"
	// ReasonRolloutTriggered: a workload was changed in a way that rolls its
	// pods, such as a new config hash on its pod template.
	ReasonRolloutTriggered = "RolloutTriggered"

	// ReasonCreateFailed (Warning): creating a child failed.
	ReasonCreateFailed = "CreateFailed"
	// ReasonUpdateFailed (Warning): updating, patching or applying a child failed.
	ReasonUpdateFailed = "UpdateFailed"
	// ReasonDeleteFailed (Warning): deleting a child failed.
	ReasonDeleteFailed = "DeleteFailed"
	// ReasonPruneFailed (Warning): deleting a child that is no longer desired failed.
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
