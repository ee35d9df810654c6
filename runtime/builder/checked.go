package builder

import (
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// checkedTTL bounds how long Expectations remember a comparison no pass has
// used since. A child not reconciled for that long (its owner is quiet or was
// deleted) is compared in full again on its next pass.
const checkedTTL = 15 * time.Minute

// checkedSweep is how often remembering a comparison also drops the entries
// older than checkedTTL.
const checkedSweep = time.Minute

// checked is what Expectations remember about the last comparison of a child,
// so that a steady-state pass need not convert and compare it again.
//
// Converting a typed object to unstructured form, hashing it and comparing it
// with the live object is most of what a no-op reconcile costs, and the
// answer depends only on the desired object and the live one. The desired
// object is identified by value (a copy is kept and compared with
// reflect.DeepEqual, which never calls two different objects equal, so a
// match means the same apply content); the live one by its UID and
// resourceVersion, which the API server changes on every write, so a hand
// edit, another controller's write or a recreate all lead to a full
// comparison again.
type checked struct {
	// desired is a copy of the prepared desired object whose applied-hash
	// is hash; nil when only the live side is known.
	desired client.Object
	hash    string
	// uid and resourceVersion identify the live object found, by a full
	// comparison, to need no apply of hash; resourceVersion is "" when no
	// such object is known.
	uid             types.UID
	resourceVersion string
	// warned names the last Warning recorded for the child instead of a
	// write (a refusal, a hold or a block); see firstWarning.
	warned string
	// blocked explains why the API server refused a write needed to apply
	// hash, which is not tried again (see rememberBlocked); "" when none.
	blocked string
	// used is when a pass last used or refreshed the entry.
	used time.Time
}

// desiredHash returns the applied-hash remembered for k when the prepared
// desired object obj equals the one it was computed from.
func (e *Expectations) desiredHash(k expectationKey, obj client.Object) (string, bool) {
	if e == nil {
		return "", false
	}
	e.mu.Lock()
	c, ok := e.checked[k]
	e.mu.Unlock()
	// Entries are replaced, never modified, so c.desired can be compared
	// without the lock.
	if !ok || c.desired == nil || !reflect.DeepEqual(c.desired, obj) {
		return "", false
	}
	return c.hash, true
}

// rememberDesired records that the prepared desired object obj (a copy of
// it) has applied-hash hash. What is known about the
// live object is kept when the hash is the same.
func (e *Expectations) rememberDesired(k expectationKey, obj client.Object, hash string) {
	if e == nil {
		return
	}
	cp, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.sweepChecked(now)
	c := checked{desired: cp, hash: hash, used: now}
	if old, ok := e.checked[k]; ok && old.hash == hash {
		c.uid, c.resourceVersion, c.warned, c.blocked = old.uid, old.resourceVersion, old.warned, old.blocked
	}
	e.checked[k] = c
}

// unchanged reports whether live, read for k, is the object a full
// comparison already found to need no apply of hash.
func (e *Expectations) unchanged(k expectationKey, hash string, live client.Object) bool {
	if e == nil || live.GetResourceVersion() == "" {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.checked[k]
	if !ok || c.hash != hash || c.resourceVersion != live.GetResourceVersion() || c.uid != live.GetUID() {
		return false
	}
	c.used = e.now()
	e.checked[k] = c
	return true
}

// rememberUnchanged records that a full comparison found live, read for k,
// to need no apply of hash.
func (e *Expectations) rememberUnchanged(k expectationKey, hash string, live client.Object) {
	if e == nil || live.GetResourceVersion() == "" {
		return
	}
	e.updateChecked(k, hash, func(c *checked) { c.uid, c.resourceVersion = live.GetUID(), live.GetResourceVersion() })
}

// updateChecked applies set, under the lock, to k's entry for hash (a fresh
// one when the entry is for another desired state), and marks it used.
func (e *Expectations) updateChecked(k expectationKey, hash string, set func(*checked)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.sweepChecked(now)
	c := e.checked[k]
	if c.hash != hash {
		c = checked{hash: hash}
	}
	set(&c)
	c.used = now
	e.checked[k] = c
}

// sweepChecked drops the entries unused for checkedTTL, at most once every
// checkedSweep. Called with e.mu held, whenever an entry is added, so the
// number of entries never exceeds the children reconciled in the last
// checkedTTL plus checkedSweep.
func (e *Expectations) sweepChecked(now time.Time) {
	if now.Sub(e.lastSweep) < checkedSweep {
		return
	}
	e.lastSweep = now
	for k, c := range e.checked {
		if now.Sub(c.used) > checkedTTL {
			delete(e.checked, k)
		}
	}
}

// isNamespaced returns whether kind gvk is namespaced, when known.
func (e *Expectations) isNamespaced(gvk schema.GroupVersionKind) (namespaced, known bool) {
	if e == nil {
		return false, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	namespaced, known = e.namespaced[gvk]
	return namespaced, known
}

// rememberNamespaced records whether kind gvk is namespaced. The scope of a
// kind does not change while its definition exists, and the REST mapper
// behind the client caches it just as long; the map holds one entry per
// child kind.
func (e *Expectations) rememberNamespaced(gvk schema.GroupVersionKind, namespaced bool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.namespaced[gvk] = namespaced
}

// firstWarning reports whether the Warning that token names (what the
// Builder would not write, and why) is new for k: not the last one recorded.
// A pass that retries the same refusal or hold thus records it once. The
// token is remembered with k's comparison entry, so it is swept and forgotten
// with it.
func (e *Expectations) firstWarning(k expectationKey, token string) bool {
	if e == nil {
		return true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	e.sweepChecked(now)
	c := e.checked[k]
	c.used = now
	first := c.warned != token
	c.warned = token
	e.checked[k] = c
	return first
}

// rememberBlocked records that the API server refused a write that applying
// hash to k needs, for the reason why, so that later passes with the same
// desired state report the block without writing again.
func (e *Expectations) rememberBlocked(k expectationKey, hash, why string) {
	if e == nil {
		return
	}
	e.updateChecked(k, hash, func(c *checked) { c.blocked = why })
}

// blockedFor returns why applying hash to k was refused, if it was.
func (e *Expectations) blockedFor(k expectationKey, hash string) (string, bool) {
	if e == nil {
		return "", false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.checked[k]
	if !ok || c.hash != hash || c.blocked == "" {
		return "", false
	}
	c.used = e.now()
	e.checked[k] = c
	return c.blocked, true
}
