package orchestrate

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/status"
)

func cachedCopy(rv string, observed int64) *testv1.Cluster {
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "uid-1", ResourceVersion: rv}}
	cr.Status.ObservedGeneration = observed
	return cr
}

func TestStatusMemoCatchesUpAChainOfOwnWrites(t *testing.T) {
	m := newStatusMemo()
	// Pass 1 read version 10 and wrote status 1, getting version 11; pass 2
	// started from version 11 and wrote status 2, getting version 12.
	m.written("uid-1", "10", "11", &status.ClusterStatus{ObservedGeneration: 1})
	m.written("uid-1", "11", "12", &status.ClusterStatus{ObservedGeneration: 2})

	for _, stale := range []string{"10", "11"} {
		cr := cachedCopy(stale, 0)
		if !m.catchUp(cr) {
			t.Fatalf("a copy at version %s, superseded by our own writes, was not caught up", stale)
		}
		if cr.ResourceVersion != "12" || cr.Status.ObservedGeneration != 2 {
			t.Errorf("copy at %s caught up to version %s, observedGeneration %d; want 12 and 2", stale, cr.ResourceVersion, cr.Status.ObservedGeneration)
		}
	}

	// The cache caught up: the copy is used as it is, and the entry goes.
	cr := cachedCopy("12", 2)
	if m.catchUp(cr) {
		t.Error("a copy at the last written version was changed")
	}
	if cr := cachedCopy("11", 0); m.catchUp(cr) {
		t.Error("the entry survived the cache catching up")
	}
}

func TestStatusMemoLeavesOtherVersionsAlone(t *testing.T) {
	m := newStatusMemo()
	m.written("uid-1", "10", "11", &status.ClusterStatus{ObservedGeneration: 1})
	// Someone else changed the CR after our write: version 13 is unknown.
	cr := cachedCopy("13", 7)
	if m.catchUp(cr) || cr.ResourceVersion != "13" || cr.Status.ObservedGeneration != 7 {
		t.Errorf("a copy at a version the memo did not supersede was changed: %s, %d", cr.ResourceVersion, cr.Status.ObservedGeneration)
	}
	// Another CR is never touched.
	other := cachedCopy("10", 0)
	other.UID = "uid-2"
	if m.catchUp(other) {
		t.Error("a CR with another UID was caught up")
	}
}

func TestStatusMemoStartsAFreshChainAfterAnotherWriter(t *testing.T) {
	m := newStatusMemo()
	m.written("uid-1", "10", "11", &status.ClusterStatus{ObservedGeneration: 1})
	// A conflict made writeStatus re-read version 14 and write on top of it.
	m.written("uid-1", "14", "15", &status.ClusterStatus{ObservedGeneration: 3})
	if m.catchUp(cachedCopy("10", 0)) {
		t.Error("version 10 was caught up to 15, but someone else wrote between 11 and 14")
	}
	m.written("uid-1", "14", "15", &status.ClusterStatus{ObservedGeneration: 3})
	if cr := cachedCopy("14", 0); !m.catchUp(cr) || cr.ResourceVersion != "15" {
		t.Errorf("version 14 was not caught up to 15: %s", cr.ResourceVersion)
	}
}

func TestStatusMemoExpiresAndForgets(t *testing.T) {
	m := newStatusMemo()
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	m.written("uid-1", "10", "11", &status.ClusterStatus{})
	now = now.Add(statusMemoTTL + time.Second)
	if m.catchUp(cachedCopy("10", 0)) {
		t.Error("an expired entry was used")
	}

	m.written("uid-1", "10", "11", &status.ClusterStatus{})
	m.forget("uid-1")
	if m.catchUp(cachedCopy("10", 0)) {
		t.Error("a forgotten entry was used")
	}

	// Entries of CRs never read again are swept.
	m.written("uid-gone", "1", "2", &status.ClusterStatus{})
	now = now.Add(2*statusMemoTTL + time.Second)
	m.written("uid-1", "10", "11", &status.ClusterStatus{})
	if _, ok := m.entries["uid-gone"]; ok {
		t.Error("the entry of a CR not written for two TTLs was not swept")
	}
}

func TestStatusMemoBoundsTheChain(t *testing.T) {
	m := newStatusMemo()
	for i := range 3 * maxSuperseded {
		m.written("uid-1", string(rune('a'+i)), string(rune('a'+i+1)), &status.ClusterStatus{})
	}
	if got := len(m.entries["uid-1"].superseded); got != maxSuperseded {
		t.Errorf("the chain holds %d versions, want at most %d", got, maxSuperseded)
	}
}

func TestStatusMemoCopiesTheStatus(t *testing.T) {
	m := newStatusMemo()
	st := &status.ClusterStatus{Inventory: []string{"a"}}
	m.written("uid-1", "10", "11", st)
	st.Inventory[0] = "changed by the caller"
	cr := cachedCopy("10", 0)
	m.catchUp(cr)
	cr.Status.Inventory[0] = "changed by the pass"
	again := cachedCopy("10", 0)
	m.catchUp(again)
	if again.Status.Inventory[0] != "a" {
		t.Errorf("the remembered status was changed through a caller's copy: %q", again.Status.Inventory[0])
	}
}
