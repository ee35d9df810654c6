package orchestrate_test

import (
	"fmt"
	"maps"
	"testing"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestRestartOnRequest: a new restart token on the CR restarts every
// workload exactly once, in deployment order, each node type after the one
// before is rolled out again; a token for one node type restarts only it;
// and removing the tokens restarts nothing.
func TestRestartOnRequest(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchWorkloads()
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	e.requireSteady()

	base, revisions := h.generations(), e.revisionCounts()
	e.setAnnotation(keys.AnnotationRestart, "t1")
	e.waitForRollouts("every workload to restart", h, base, workloadNames())
	h.requireOrderedRollout(t, workloadNames(), base)
	e.requireOneNewRevision(revisions)
	e.requireNoConflicts("the restart")
	for _, name := range workloadNames() {
		tmpl, err := e.podTemplate(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.Annotations[keys.AnnotationRestarted]; got != "t1" {
			t.Errorf("%s: pod template annotation %s=%q, want t1", name, keys.AnnotationRestarted, got)
		}
	}
	e.requireSteady()

	// One node type only.
	base, revisions = h.generations(), e.revisionCounts()
	e.setAnnotation(keys.AnnotationRestart+".b", "x")
	e.waitForRollouts("b to restart", h, base, []string{"db-b"})
	e.requireSteady()
	after := e.revisionCounts()
	for _, name := range workloadNames() {
		want := revisions[name]
		if name == "db-b" {
			want++
		}
		if after[name] != want {
			t.Errorf("%s: %d revisions after restarting b, want %d", name, after[name], want)
		}
	}

	// Taking the requests back restarts nothing.
	revisions = e.revisionCounts()
	e.setAnnotation(keys.AnnotationRestart, "")
	e.setAnnotation(keys.AnnotationRestart+".b", "")
	e.requireSteady()
	if after := e.revisionCounts(); !maps.Equal(after, revisions) {
		t.Errorf("revisions %v after the restart annotations were removed, want %v", after, revisions)
	}
}

// An ordered restart's progress is kept on the workloads, not in the
// operator's memory: an operator stopped once the first workload has taken
// the restart, and started anew, restarts the others in the deployment order
// and none of them twice.
func TestRestartOnRequestSurvivesAnOperatorRestart(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	h := e.watchWorkloads()
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	names := workloadNames()
	first, last := names[0], names[len(names)-1]
	base, revisions := h.generations(), e.revisionCounts()

	e.setAnnotation(keys.AnnotationRestart, "t1")
	e.eventually(first+" to take the restart", func() error {
		if _, ok := h.specChange(first, base[first]); !ok {
			return fmt.Errorf("%s not restarted yet", first)
		}
		return nil
	})
	e.stop()
	if _, ok := h.specChange(last, base[last]); ok {
		t.Fatalf("%s restarted before the operator was stopped: the restart was not cut in the middle", last)
	}
	e.stop = e.start(orchestrate.Config{}, nodeTypes(), nil)

	e.waitForRollouts("every workload to restart", h, base, names)
	h.requireOrderedRollout(t, names, base)
	e.requireOneNewRevision(revisions)
	e.requireSteady()
}

// setAnnotation sets (or, with an empty value, removes) an annotation of the
// test Cluster.
func (e *env) setAnnotation(key, value string) {
	e.t.Helper()
	e.update(func(cr *testv1.Cluster) {
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		if value == "" {
			delete(cr.Annotations, key)
			return
		}
		cr.Annotations[key] = value
	})
}

// waitForRollouts waits until the Cluster is ready and each workload of
// names was rolled out at one generation past base.
func (e *env) waitForRollouts(what string, h *history, base map[string]int64, names []string) {
	e.t.Helper()
	e.waitFor(what, func(cr *testv1.Cluster) bool {
		if !ready(cr) {
			return false
		}
		for _, name := range names {
			if !h.rolledOutAt(name, base[name]+1) {
				return false
			}
		}
		return true
	})
}
