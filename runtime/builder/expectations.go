package builder

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// expectationTTL bounds how long an expectation is kept when the cache never
// shows the object again (its owner was deleted, the object was removed by
// someone else, the informer is disconnected). After it the normal
// comparison applies, which at worst costs one apply the API server answers
// without a change.
const expectationTTL = 5 * time.Minute

// Expectations remembers the applies the Builders sharing it made, so that a
// pass reading from a cache that has not yet seen such an apply does not
// repeat it. This is the "expectations" technique of controller-runtime based
// operators: the informer cache lags behind the writes a controller makes,
// and the watch event of the write triggers another reconcile anyway.
//
// For every object it keeps the resourceVersion the Builder read before
// its last apply, the resourceVersion the apply returned, the applied-hash
// it applied and the object as the apply returned it. A Builder skips the
// write (OperationUnchanged) when the object it reads still has the
// resourceVersion from before the apply and the desired applied-hash is the
// one applied. Once the object read has any other resourceVersion (the cache
// caught up, or someone changed the object since), the entry is dropped and
// the normal comparison applies, so drift is still reverted.
// resourceVersions are compared for equality only: they are opaque.
// A create is remembered too, for a shorter time (createdTTL): a pass that
// does not find the object in the cache then takes it as created instead
// of creating it again.
//
// Entries are dropped once the cache caught up, when the Builder deletes the
// object, on Forget, and after five minutes in any case, so memory stays
// bounded by the writes of the last few minutes.
//
// Expectations also remember the last comparison of every child, which is
// what makes a steady-state pass cheap: for each child, a copy of the
// prepared desired object with its applied-hash, and the UID and
// resourceVersion of the live object a full comparison last found to need
// no apply. A pass whose desired object equals the remembered one reuses its
// hash instead of converting and hashing it again, and when the live object
// read still has that UID and resourceVersion it is OperationUnchanged
// without converting and comparing the live object. Any write to the object,
// a hand edit included, changes its resourceVersion, so drift is compared
// in full and reverted as before. These entries are dropped on Forget and
// once no pass has used them for fifteen minutes, so memory is bounded by
// the children reconciled in the last quarter of an hour (about the size of
// their desired objects; the informer cache holds the live ones anyway).
// Whether each child kind is namespaced is remembered too.
//
// Create one per controller (an Orchestrator of runtime/orchestrate does) and
// pass it to the Builder of every pass with WithExpectations. It is safe for
// concurrent use.
type Expectations struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[expectationKey]expectation
	// checked remembers the last comparisons (see checked).
	checked map[expectationKey]checked
	// lastSweep is when checked was last swept.
	lastSweep time.Time
	// namespaced remembers, per kind, whether it is namespaced.
	namespaced map[schema.GroupVersionKind]bool
	// taken remembers the children whose create-only apply found their
	// name taken (see decideAbsent), so that later passes read the object
	// that has it instead of sending the create again.
	taken map[expectationKey]bool
}

type expectationKey struct {
	group, kind, namespace, name string
}

type expectation struct {
	// before is the resourceVersion of the object read before the apply,
	// empty for a create.
	before string
	// after is the resourceVersion the apply returned.
	after string
	// hash is the applied-hash that was applied.
	hash string
	// applied is the object as the apply returned it.
	applied client.Object
	// at is when the apply was made.
	at time.Time
}

// NewExpectations returns empty Expectations.
func NewExpectations() *Expectations {
	return &Expectations{
		now: time.Now, entries: map[expectationKey]expectation{}, checked: map[expectationKey]checked{},
		namespaced: map[schema.GroupVersionKind]bool{}, taken: map[expectationKey]bool{},
	}
}

// Forget drops what is remembered about the object of kind gk named key, its
// last comparison included, for example after it was pruned.
func (e *Expectations) Forget(gk schema.GroupKind, key client.ObjectKey) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := expectationKey{group: gk.Group, kind: gk.Kind, namespace: key.Namespace, name: key.Name}
	delete(e.entries, k)
	delete(e.checked, k)
	delete(e.taken, k)
}

// Len returns how many objects have an apply the cache has not been seen to
// catch up with.
func (e *Expectations) Len() int {
	if e == nil {
		return 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.entries)
}

// expect remembers that the object k, read with resourceVersion before, was
// applied with hash and the apply returned applied. An apply that did not
// change the resourceVersion leaves nothing to wait for.
func (e *Expectations) expect(k expectationKey, before, hash string, applied client.Object) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	for key, x := range e.entries {
		if now.Sub(x.at) > expectationTTL {
			delete(e.entries, key)
		}
	}
	after := applied.GetResourceVersion()
	if before == "" || after == "" || after == before {
		delete(e.entries, k)
		return
	}
	cp, _ := applied.DeepCopyObject().(client.Object)
	e.entries[k] = expectation{before: before, after: after, hash: hash, applied: cp, at: now}
}

// createdTTL bounds how long a create is trusted while the cache does not
// show the object. The cache normally shows it within milliseconds; should
// the object have been deleted before the cache saw it, the entry would hide
// its absence, so a pass that trusts it asks to run again after createdTTL
// (Result.Requeue), when the create is made again if the object is gone.
const createdTTL = 10 * time.Second

// expectCreated remembers that the object k did not exist and was created
// with hash, and that the create returned applied.
func (e *Expectations) expectCreated(k expectationKey, hash string, applied client.Object) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cp, _ := applied.DeepCopyObject().(client.Object)
	e.entries[k] = expectation{after: applied.GetResourceVersion(), hash: hash, applied: cp, at: e.now()}
}

// awaitingCreate returns a copy of the object as this Builder's create of k
// returned it, when the cache does not show the object yet, the create
// applied hash and is younger than createdTTL. Otherwise it returns nil.
// Once the cache shows the object, awaiting drops the entry (the
// resourceVersion seen is not the empty one from before the create).
func (e *Expectations) awaitingCreate(k expectationKey, hash string) client.Object {
	return e.lookup(k, "", hash, createdTTL)
}

// awaiting returns a copy of the object as the last apply of k returned it
// when the object read, with resourceVersion seen, predates that apply and
// the apply applied hash: the write is then already made and must not be
// repeated. Otherwise it returns nil and drops the entry unless the cache
// still predates the apply (a different desired state is then applied
// anew, which replaces the entry).
func (e *Expectations) awaiting(k expectationKey, seen, hash string) client.Object {
	return e.lookup(k, seen, hash, expectationTTL)
}

// lookup is awaiting and awaitingCreate: the entry of k is dropped unless
// the object read still has the resourceVersion seen from before the write
// ("" for none) and the write is younger than ttl.
func (e *Expectations) lookup(k expectationKey, seen, hash string, ttl time.Duration) client.Object {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.entries[k]
	if !ok {
		return nil
	}
	if seen != x.before || e.now().Sub(x.at) > ttl {
		// The cache caught up with the apply (seen == x.after) or moved
		// past it: the object read is current enough to compare with.
		delete(e.entries, k)
		return nil
	}
	if hash != x.hash {
		return nil
	}
	cp, _ := x.applied.DeepCopyObject().(client.Object)
	return cp
}

// forget drops the entry of k.
func (e *Expectations) forget(k expectationKey) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.entries, k)
}

// setTaken remembers whether the name of child k is taken by an object the
// client does not hold.
func (e *Expectations) setTaken(k expectationKey, taken bool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if taken {
		e.taken[k] = true
	} else {
		delete(e.taken, k)
	}
}

// isTaken reports whether a create-only apply of child k found its name
// taken, and no read since found the name free.
func (e *Expectations) isTaken(k expectationKey) bool {
	if e == nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.taken[k]
}
