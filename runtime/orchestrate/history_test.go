package orchestrate_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// history records every change of the namespace's Deployments and
// StatefulSets as the API server reports it through watches, so a test can
// replay the order in which workload specs changed and what state the other
// workloads were in at that moment.
//
// Events of the two watches are ordered by resourceVersion. The API treats
// resourceVersions as opaque; here they are etcd revisions of one etcd, which
// grow with every write to any object, so their order is the order of the
// writes. Only this test relies on that.
type history struct {
	mu  sync.Mutex
	obs []observation
}

type observation struct {
	rv         uint64
	name       string
	generation int64
	image      string
	// rolledOut is the test's own check, independent of the orchestrator's
	// code: the workload's controller observed the spec and every replica is
	// updated and ready (and, for a StatefulSet, the revisions converged).
	rolledOut bool
}

func (o observation) String() string {
	return fmt.Sprintf("rv %d %s gen %d image %s rolledOut %v", o.rv, o.name, o.generation, o.image, o.rolledOut)
}

// watchWorkloads starts recording. Call it before creating the CR.
func (e *env) watchWorkloads() *history {
	e.t.Helper()
	h := &history{}
	for _, list := range []client.ObjectList{&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}} {
		e.watchEvents(list, func(ev watch.Event) {
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				h.record(e.t, ev.Object)
			}
		})
	}
	return h
}

func (h *history) record(t *testing.T, obj any) {
	var o observation
	switch w := obj.(type) {
	case *appsv1.StatefulSet:
		want := ptr.Deref(w.Spec.Replicas, 1)
		s := w.Status
		o = observation{name: w.Name, generation: w.Generation, image: w.Spec.Template.Spec.Containers[0].Image,
			rolledOut: s.ObservedGeneration == w.Generation && s.Replicas == want && s.ReadyReplicas == want &&
				s.UpdatedReplicas == want && s.CurrentRevision == s.UpdateRevision}
		o.rv = parseRV(t, w.ResourceVersion)
	case *appsv1.Deployment:
		want := ptr.Deref(w.Spec.Replicas, 1)
		s := w.Status
		o = observation{name: w.Name, generation: w.Generation, image: w.Spec.Template.Spec.Containers[0].Image,
			rolledOut: s.ObservedGeneration == w.Generation && s.Replicas == want && s.ReadyReplicas == want &&
				s.UpdatedReplicas == want && s.AvailableReplicas == want}
		o.rv = parseRV(t, w.ResourceVersion)
	default:
		return
	}
	h.mu.Lock()
	h.obs = append(h.obs, o)
	h.mu.Unlock()
}

func parseRV(t *testing.T, rv string) uint64 {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		t.Errorf("resourceVersion %q is not an etcd revision: %v", rv, err)
	}
	return n
}

// sorted returns the observations ordered by resourceVersion.
func (h *history) sorted() []observation {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := slices.Clone(h.obs)
	slices.SortStableFunc(out, func(a, b observation) int {
		switch {
		case a.rv < b.rv:
			return -1
		case a.rv > b.rv:
			return 1
		}
		return 0
	})
	return out
}

// generations returns the latest generation seen of each workload.
func (h *history) generations() map[string]int64 {
	out := map[string]int64{}
	for _, o := range h.sorted() {
		out[o.name] = o.generation
	}
	return out
}

// specChange returns the first observation of name with a generation above
// base, that is, the write that changed its spec.
func (h *history) specChange(name string, base int64) (observation, bool) {
	for _, o := range h.sorted() {
		if o.name == name && o.generation > base {
			return o, true
		}
	}
	return observation{}, false
}

// rolledOutAt reports whether name was last seen rolled out at generation.
func (h *history) rolledOutAt(name string, generation int64) bool {
	var last observation
	for _, o := range h.sorted() {
		if o.name == name {
			last = o
		}
	}
	return last.generation == generation && last.rolledOut
}

// stateBefore returns the last observation of name written before rv.
func (h *history) stateBefore(name string, rv uint64) (observation, bool) {
	var last observation
	found := false
	for _, o := range h.sorted() {
		if o.rv >= rv {
			break
		}
		if o.name == name {
			last, found = o, true
		}
	}
	return last, found
}

// requireOrderedRollout asserts that the workloads, given in rollout order,
// each had their spec changed exactly once since base, in that order, and
// that none changed before the one before it was rolled out at its new spec.
func (h *history) requireOrderedRollout(t *testing.T, order []string, base map[string]int64) {
	t.Helper()
	var prev observation
	for i, name := range order {
		change, ok := h.specChange(name, base[name])
		if !ok {
			t.Fatalf("%s: its spec never changed after generation %d\n%s", name, base[name], h.dump())
		}
		if i > 0 {
			if change.rv <= prev.rv {
				t.Errorf("%s changed (rv %d) before %s (rv %d): want deployment order %v\n%s", name, change.rv, order[i-1], prev.rv, order, h.dump())
			}
			before, ok := h.stateBefore(order[i-1], change.rv)
			if !ok || before.generation <= base[order[i-1]] || !before.rolledOut {
				t.Errorf("%s changed (rv %d) while %s was not rolled out at its new spec (last seen: %v)\n%s", name, change.rv, order[i-1], before, h.dump())
			}
		}
		prev = change
	}
	final := h.generations()
	for _, name := range order {
		if got := final[name]; got != base[name]+1 {
			t.Errorf("%s: generation went from %d to %d, want exactly one spec change", name, base[name], got)
		}
	}
}

func (h *history) dump() string {
	var b strings.Builder
	b.WriteString("workload history:\n")
	for _, o := range h.sorted() {
		b.WriteString("  " + o.String() + "\n")
	}
	return b.String()
}
