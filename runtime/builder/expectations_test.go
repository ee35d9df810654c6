package builder

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func appliedConfigMap(name, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", ResourceVersion: rv}}
}

func cmKey(name string) expectationKey {
	return expectationKey{kind: "ConfigMap", namespace: "ns", name: name}
}

func TestExpectationsRule(t *testing.T) {
	e := NewExpectations()
	e.expect(cmKey("a"), "10", "h1", appliedConfigMap("a", "11"))

	// The cache still shows the object from before the apply: skip, with
	// the applied object, as long as the desired state is the one applied.
	got := e.awaiting(cmKey("a"), "10", "h1")
	if got == nil || got.GetResourceVersion() != "11" {
		t.Fatalf("stale cache, same hash: %v, want the applied object", got)
	}
	if e.awaiting(cmKey("a"), "10", "h2") != nil {
		t.Error("stale cache, another desired state: skipped, want compared")
	}
	if e.Len() != 1 {
		t.Errorf("a different desired state dropped the entry; %d left", e.Len())
	}
	// Once the cache shows any other resourceVersion, the entry is gone.
	for _, seen := range []string{"11", "12"} {
		e.expect(cmKey("a"), "10", "h1", appliedConfigMap("a", "11"))
		if e.awaiting(cmKey("a"), seen, "h1") != nil {
			t.Errorf("cache at %s: skipped, want compared", seen)
		}
		if e.Len() != 0 {
			t.Errorf("cache at %s: %d entries kept, want 0", seen, e.Len())
		}
	}
	// An apply that changed nothing, or a create, leaves nothing to wait for.
	e.expect(cmKey("a"), "10", "h1", appliedConfigMap("a", "10"))
	e.expect(cmKey("b"), "", "h1", appliedConfigMap("b", "3"))
	if e.Len() != 0 {
		t.Errorf("no-op apply and create kept %d entries", e.Len())
	}
	// The returned object is a copy.
	e.expect(cmKey("a"), "10", "h1", appliedConfigMap("a", "11"))
	e.awaiting(cmKey("a"), "10", "h1").SetResourceVersion("changed")
	if got := e.awaiting(cmKey("a"), "10", "h1"); got.GetResourceVersion() != "11" {
		t.Errorf("the remembered object was modified through a returned copy: %s", got.GetResourceVersion())
	}
	e.Forget(schema.GroupKind{Kind: "ConfigMap"}, client.ObjectKey{Namespace: "ns", Name: "a"})
	if e.Len() != 0 {
		t.Error("Forget kept the entry")
	}
}

func TestExpectationsExpire(t *testing.T) {
	now := time.Unix(1000, 0)
	e := NewExpectations()
	e.now = func() time.Time { return now }
	e.expect(cmKey("old"), "1", "h", appliedConfigMap("old", "2"))
	now = now.Add(expectationTTL + time.Second)
	if e.awaiting(cmKey("old"), "1", "h") != nil {
		t.Error("an expired expectation still skips the write")
	}
	// Expired entries of objects never read again are swept by later
	// applies, so memory stays bounded.
	e.expect(cmKey("gone"), "1", "h", appliedConfigMap("gone", "2"))
	now = now.Add(expectationTTL + time.Second)
	e.expect(cmKey("new"), "5", "h", appliedConfigMap("new", "6"))
	if n := e.Len(); n != 1 {
		t.Errorf("%d entries after the sweep, want 1", n)
	}
}

func TestNilExpectationsDoNothing(t *testing.T) {
	var e *Expectations
	e.expect(cmKey("a"), "1", "h", appliedConfigMap("a", "2"))
	if e.awaiting(cmKey("a"), "1", "h") != nil || e.Len() != 0 {
		t.Error("nil Expectations remembered an apply")
	}
	e.Forget(schema.GroupKind{Kind: "ConfigMap"}, client.ObjectKey{Namespace: "ns", Name: "a"})
	e.forget(cmKey("a"))
}

// A create is trusted while the cache does not show the object, for the
// desired state it created and for createdTTL at most; once the cache shows
// the object at all, the normal comparison applies.
func TestExpectationsTrustACreateUntilTheCacheShowsIt(t *testing.T) {
	now := time.Unix(1000, 0)
	e := NewExpectations()
	e.now = func() time.Time { return now }
	e.expectCreated(cmKey("a"), "h1", appliedConfigMap("a", "7"))
	if got := e.awaitingCreate(cmKey("a"), "h1"); got == nil || got.GetResourceVersion() != "7" {
		t.Fatalf("cache without the object, same hash: %v, want the created object", got)
	}
	if e.awaitingCreate(cmKey("a"), "h2") != nil {
		t.Error("cache without the object, another desired state: trusted, want created again")
	}
	// The cache shows it: the entry goes, whatever resourceVersion.
	if e.awaiting(cmKey("a"), "7", "h1") != nil || e.Len() != 0 {
		t.Errorf("cache shows the created object: skipped or kept (%d entries), want compared", e.Len())
	}
	if e.awaitingCreate(cmKey("a"), "h1") != nil {
		t.Error("a create the cache showed is still trusted")
	}
	// Past createdTTL the create is no longer trusted.
	e.expectCreated(cmKey("b"), "h1", appliedConfigMap("b", "9"))
	now = now.Add(createdTTL + time.Second)
	if e.awaitingCreate(cmKey("b"), "h1") != nil || e.Len() != 0 {
		t.Errorf("a create older than createdTTL is still trusted (%d entries)", e.Len())
	}
	// An update's entry is not a create's.
	e.expect(cmKey("c"), "3", "h1", appliedConfigMap("c", "4"))
	if e.awaitingCreate(cmKey("c"), "h1") != nil {
		t.Error("an update's expectation was taken for a create")
	}
}
