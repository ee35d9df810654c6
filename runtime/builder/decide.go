package builder

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// decision is what reconciling a prepared object has to do, found by reading
// the live object and comparing, without writing anything. Reconcile carries
// it out; Plan reports it. Both go through decide, so they cannot disagree.
type decision struct {
	// op is the operation: Created (the object does not exist), Updated
	// (an apply is needed), Unchanged, Recreated (a field that cannot be
	// updated changed), Recreating (the old object is still being deleted)
	// Blocked (a change that cannot be made), Refused (the name is someone
	// else's) or Held (the pods need a ConfigMap or Secret that is missing).
	op Operation
	// live is the object as read (nil when it does not exist), or, when
	// the cache has not yet seen the Builder's own last apply of the same
	// desired state (see Expectations), the object as that apply returned
	// it.
	live client.Object
	// why explains Recreated, Recreating, Blocked, Refused and Held.
	why string
	// reason is the reason of Refused, Held and Blocked.
	reason string
	// warned is true when the Warning of Blocked was recorded when the
	// block was found, so none is recorded again.
	warned bool
	// replaceDependents is true with Recreated when the old object's pods
	// cannot be adopted by the new one, so they are deleted with it.
	replaceDependents bool
	// grow is the new storage request of each volumeClaimTemplate that
	// grows, with Recreated for a StatefulSet (see storage.go).
	grow map[string]resource.Quantity
	// adopt is true when live is an object the ownership rules let the
	// Builder adopt.
	adopt bool
	// refused is the object found with Refused; live is then nil.
	refused client.Object
	// rollout is true when the apply changes the config hash on a
	// workload's pod template.
	rollout bool
	// unseen is true with Unchanged when live is the object as this
	// Builder's create returned it, which the client has not shown yet.
	unseen bool
	// unasked is true with Created when the client does not have the
	// object and the API server was not asked whether the name is free:
	// the create-only apply finds out.
	unasked bool
}

// decide reads the live counterpart of p through the Builder's client (the
// cache in a controller) and finds out what reconciling p has to do. It makes
// no write and records no event.
func (b *Builder) decide(ctx context.Context, p *prepared) (decision, error) {
	d, err := b.decideChange(ctx, p)
	if err != nil {
		return decision{}, err
	}
	if held := holdForMissingConfig(p, d); held.op != OperationHeld || !d.unasked {
		return held, nil
	}
	// A held create is not sent, so it would not find out that its name is
	// taken: asking now reports a refusal with the hold, not once the hold
	// is lifted.
	live, err := b.newLike(p)
	if err != nil {
		return decision{}, err
	}
	if d, err = b.decideAsked(ctx, p, live); err != nil {
		return decision{}, err
	}
	return holdForMissingConfig(p, d), nil
}

// decideChange finds out what bringing the live object to p takes, before the
// missing-config rule may hold it.
func (b *Builder) decideChange(ctx context.Context, p *prepared) (decision, error) {
	live, err := b.newLike(p)
	if err != nil {
		return decision{}, err
	}
	switch err := b.client.Get(ctx, client.ObjectKeyFromObject(p.obj), live); {
	case apierrors.IsNotFound(err):
		return b.decideAbsent(ctx, p, live)
	case err != nil:
		return decision{}, fmt.Errorf("read: %w", err)
	}
	return b.decideLive(p, live)
}

// decideAbsent decides for p when the client does not have its object; live
// is an empty object of its kind.
func (b *Builder) decideAbsent(ctx context.Context, p *prepared, live client.Object) (decision, error) {
	if applied := b.cfg.expectations.awaitingCreate(p.key(), p.hash); applied != nil {
		// This Builder's own create, which the cache has not shown yet.
		// Unchanged writes nothing, so trusting it cannot touch an
		// object of someone else's.
		return decision{op: OperationUnchanged, live: applied, unseen: true}, nil
	}
	if b.cfg.apiReader != nil && !b.isTaken(p.key()) && !b.cfg.expectations.isTaken(p.key()) {
		// A scoped cache does not hold what others made, so the name
		// may be taken; the create is create-only (createOnlyVersion):
		// the API server refuses it for a name that is, without touching
		// the object, and only then is the object read. Reading first
		// would cost a request per child created, to find out what the
		// create finds out anyway.
		return decision{op: OperationCreated, unasked: true}, nil
	}
	return b.decideAsked(ctx, p, live)
}

// decideAsked decides for p when the client does not have its object, by
// what the API server (the API reader, when the Builder has one) has under
// its name; live is an empty object of its kind.
func (b *Builder) decideAsked(ctx context.Context, p *prepared, live client.Object) (decision, error) {
	found, err := b.readUncached(ctx, p, live)
	if err != nil {
		return decision{}, err
	}
	if !found {
		// Free (again, when a create found it taken before).
		b.setTaken(p.key(), false)
		return decision{op: OperationCreated}, nil
	}
	return b.decideLive(p, live)
}

// decideLive decides for p against its live object, as read.
func (b *Builder) decideLive(p *prepared, live client.Object) (decision, error) {
	o := b.ownershipOf(live)
	if o == refusedNameTaken || o == refusedControlledByOther {
		reason, why := b.refusal(p, live, o)
		// live is not the owner's: it is reported to nobody as the child.
		return decision{op: OperationRefused, reason: reason, why: why, refused: live}, nil
	}
	if live.GetDeletionTimestamp() != nil {
		return decision{op: OperationRecreating, live: live, why: "waiting for the old object to be deleted"}, nil
	}
	if applied := b.cfg.expectations.awaiting(p.key(), live.GetResourceVersion(), p.hash); applied != nil {
		// The cache still holds the object as it was before this
		// desired state was applied: the write is made, and its watch
		// event brings another pass once the cache has it.
		return decision{op: OperationUnchanged, live: applied}, nil
	}
	if b.cfg.expectations.unchanged(p.key(), p.hash, live) {
		// A full comparison of this very live object (same UID and
		// resourceVersion) with this desired state found nothing to
		// apply; neither has changed since.
		return decision{op: OperationUnchanged, live: live}, nil
	}
	if err := p.ensureContent(); err != nil {
		return decision{}, err
	}
	liveContent, err := toContent(live)
	if err != nil {
		return decision{}, err
	}
	if why, ok := b.cfg.expectations.blockedFor(p.key(), p.hash); ok {
		// The API server refused this desired state before (storage
		// rule 3): it is not written again until the desired state
		// changes.
		return decision{op: OperationBlocked, live: live, reason: ReasonStorageResizeRefused, why: why, warned: true}, nil
	}
	if d := immutableDecision(p, liveContent); d.op != "" {
		d.live = live
		return d, nil
	}
	if isSubset(withoutTypeMeta(p.content), liveContent) {
		b.cfg.expectations.rememberUnchanged(p.key(), p.hash, live)
		return decision{op: OperationUnchanged, live: live}, nil
	}
	return decision{op: OperationUpdated, live: live, adopt: o == adoptable, rollout: configHashChanges(p, live)}, nil
}

// configHashChanges reports whether applying p to live changes the config
// hash on the pod template, which rolls the workload's pods.
func configHashChanges(p *prepared, live client.Object) bool {
	return live != nil && p.configHash != "" && p.configHash != podTemplateAnnotation(live, configHashKey)
}

// isTaken reports whether a create-only apply of k found its name taken in
// this pass.
func (b *Builder) isTaken(k expectationKey) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.taken[k]
}

// setTaken records whether the name of k is taken, in this pass and in the
// Expectations the next passes share.
func (b *Builder) setTaken(k expectationKey, taken bool) {
	b.mu.Lock()
	if taken {
		if b.taken == nil {
			b.taken = map[expectationKey]bool{}
		}
		b.taken[k] = true
	} else {
		delete(b.taken, k)
	}
	b.mu.Unlock()
	b.cfg.expectations.setTaken(k, taken)
}
