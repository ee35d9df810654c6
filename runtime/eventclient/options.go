package eventclient

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Option configures a Client.
type Option func(*Client)

// WithOwner makes owner the regarding object of every event the Client
// records, instead of the controller owner reference of the child. Use it when
// one Client serves exactly one custom resource, or when children carry no
// owner reference.
func WithOwner(owner client.Object) Option {
	return func(c *Client) { c.owner = owner }
}

// Intent marks why a write is made, so the event carries the right reason. An
// Intent is accepted as a delete, update, patch or apply option; other clients
// ignore it.
type Intent int

const (
	// Prune marks a delete as pruning an object that is no longer desired:
	// reason ReasonPruned, or ReasonPruneFailed on failure.
	Prune Intent = iota + 1
	// Recreate marks a delete as the first half of re-creating an object whose
	// immutable fields changed: reason ReasonRecreated.
	Recreate
	// Rollout marks an update, patch or apply as rolling a workload: reason
	// ReasonRolloutTriggered when the object changed.
	Rollout
)

// String returns the name of the intent.
func (i Intent) String() string {
	switch i {
	case Prune:
		return "Prune"
	case Recreate:
		return "Recreate"
	case Rollout:
		return "Rollout"
	default:
		return "Unknown"
	}
}

// ApplyToDelete implements client.DeleteOption; it changes no request option.
func (Intent) ApplyToDelete(*client.DeleteOptions) {}

// ApplyToUpdate implements client.UpdateOption; it changes no request option.
func (Intent) ApplyToUpdate(*client.UpdateOptions) {}

// ApplyToPatch implements client.PatchOption; it changes no request option.
func (Intent) ApplyToPatch(*client.PatchOptions) {}

// ApplyToApply implements client.ApplyOption; it changes no request option.
func (Intent) ApplyToApply(*client.ApplyOptions) {}

// BeforeOption carries the caller's last read of an object; see Before.
type BeforeOption struct {
	obj client.Object
}

// Before tells the Client what the object looked like before a patch or
// apply: the caller's last read, or nil when the object did not exist. The
// Client then records ReasonCreated for a nil previous object, nothing when
// the resourceVersion did not change, and ReasonUpdated otherwise, without a
// read of its own.
func Before(obj client.Object) BeforeOption {
	return BeforeOption{obj: obj}
}

// ApplyToPatch implements client.PatchOption; it changes no request option.
func (BeforeOption) ApplyToPatch(*client.PatchOptions) {}

// ApplyToApply implements client.ApplyOption; it changes no request option.
func (BeforeOption) ApplyToApply(*client.ApplyOptions) {}

// DetailOption adds a sentence to the note of the event a write records; see
// Detail.
type DetailOption string

// Detail adds text to the note of the event the write records, for example
// why an object is recreated. It must not contain the contents of ConfigMaps
// or Secrets.
func Detail(text string) DetailOption { return DetailOption(text) }

// ApplyToCreate implements client.CreateOption; it changes no request option.
func (DetailOption) ApplyToCreate(*client.CreateOptions) {}

// ApplyToDelete implements client.DeleteOption; it changes no request option.
func (DetailOption) ApplyToDelete(*client.DeleteOptions) {}

// ApplyToUpdate implements client.UpdateOption; it changes no request option.
func (DetailOption) ApplyToUpdate(*client.UpdateOptions) {}

// ApplyToPatch implements client.PatchOption; it changes no request option.
func (DetailOption) ApplyToPatch(*client.PatchOptions) {}

// ApplyToApply implements client.ApplyOption; it changes no request option.
func (DetailOption) ApplyToApply(*client.ApplyOptions) {}

// callInfo is what the Client learns from the per-call options.
type callInfo struct {
	intent    Intent
	before    client.Object
	hasBefore bool
	detail    string
}

func scan[T any](opts []T) callInfo {
	var ci callInfo
	for _, o := range opts {
		switch v := any(o).(type) {
		case Intent:
			ci.intent = v
		case BeforeOption:
			ci.before, ci.hasBefore = v.obj, true
		case DetailOption:
			ci.detail = string(v)
		case *BeforeOption:
			if v != nil {
				ci.before, ci.hasBefore = v.obj, true
			}
		}
	}
	return ci
}
