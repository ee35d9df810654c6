package store

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file is the one place that decides what the store may delete. Every
// rule is here, in the order it is applied; prune.go only acts on the
// verdicts. Change a rule here or nowhere.
//
// Rules for the pass as a whole (passVerdict):
//
//  1. Nothing is pruned while the owner is being deleted. The garbage
//     collector removes its children through their owner references; the
//     store would only race it.
//  2. Nothing is pruned in a pass that was marked failed (Fail, or a Record
//     that failed). The desired set of such a pass may be incomplete,
//     and an object missing from it is not evidence that it is unwanted.
//
// Rules for one object that is not desired in this pass (objectVerdict), all
// of which must allow the delete:
//
//  3. It lives in the owner's namespace. (Listing is namespaced already; this
//     is the belt to those braces.)
//  4. It carries the owner label (keys.LabelOwnerUID) with the owner's UID.
//  5. It has a controller owner reference whose UID is the owner's UID. A
//     look-alike with the same name or the same labels but no such
//     reference, or a reference to another controller, is never touched:
//     labels can be copied by anyone, a controller reference to this UID is
//     only set by the owner's operator.
//  6. It is not already being deleted.
//  7. It is not a PersistentVolumeClaim, unless the operator opted in with
//     WithPVCPruning: claims hold data that must outlive a removed node type.
//
// And for the delete itself (see deleteChild in prune.go):
//
//  8. The delete carries a UID and a resourceVersion precondition: the
//     object deleted is the very version rules 3 to 7 were applied to. An
//     object deleted and re-created under the same name after it was listed
//     survives, and so does one changed since, such as one whose owner
//     reference a user removed a moment before the store read a stale
//     cache. Its change brings another pass, which judges it afresh.
//  9. A failed delete keeps the object in the inventory; the next pass
//     retries it, and the event-recording client reports it with a Warning.

// passSkip says why a whole pass prunes nothing; "" means it may prune.
type passSkip string

const (
	skipNone          passSkip = ""
	skipOwnerDeleting passSkip = "OwnerDeleting"
	skipPassFailed    passSkip = "PassFailed"
)

// passVerdict applies rules 1 and 2.
func (s *Store) passVerdict() passSkip {
	if s.owner.GetDeletionTimestamp() != nil {
		return skipOwnerDeleting
	}
	if s.Failed() != nil {
		return skipPassFailed
	}
	return skipNone
}

// verdict is what the store does with one candidate that is not desired.
type verdict int

const (
	// verdictDelete: every rule allows the delete.
	verdictDelete verdict = iota
	// verdictNotOwned: rule 3, 4 or 5 forbids it. The object is not the
	// owner's; it is neither deleted nor kept in the inventory.
	verdictNotOwned
	// verdictTerminating: rule 6. Already on its way out; not tracked further.
	verdictTerminating
	// verdictKeepPVC: rule 7. The owner's, but kept by policy.
	verdictKeepPVC
)

// objectVerdict applies rules 3 to 7 to obj, whose ID is id.
func (s *Store) objectVerdict(id ID, obj metav1.Object) verdict {
	if obj.GetNamespace() != s.namespace { // rule 3
		return verdictNotOwned
	}
	if obj.GetLabels()[keys.LabelOwnerUID] != string(s.ownerUID) { // rule 4
		return verdictNotOwned
	}
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.UID != s.ownerUID { // rule 5
		return verdictNotOwned
	}
	if obj.GetDeletionTimestamp() != nil { // rule 6
		return verdictTerminating
	}
	if isPVC(id) && !s.prunePVCs { // rule 7
		return verdictKeepPVC
	}
	return verdictDelete
}

func isPVC(id ID) bool {
	return id.Group == "" && id.Kind == "PersistentVolumeClaim"
}
