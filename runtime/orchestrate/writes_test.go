package orchestrate_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// configHashOf returns the config hash the status reports for a node type.
func configHashOf(cr *testv1.Cluster, nodeType string) string {
	for _, nt := range cr.GetClusterStatus().NodeTypes {
		if nt.Name == nodeType {
			return nt.ConfigHash
		}
	}
	return ""
}

// TestConfigChangeWritesOnce changes node type b's config several times and
// counts the operator's write requests to children per change: exactly one
// apply of b's ConfigMap and one of its Deployment, and none to any other
// child. The pass that the ConfigMap's watch event triggers can read the
// Deployment from a cache that has not seen the write yet; it must not apply
// it again. Whether that race happens here depends on timing (on a quiet
// machine it mostly does not); runtime/builder's stale-cache tests reproduce
// it deterministically.
func TestConfigChangeWritesOnce(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	cr := e.waitFor("the first install to be ready", ready)
	e.requireSteady()

	for i := 2; i <= 4; i++ {
		before := configHashOf(cr, "b")
		e.counter.Reset()
		e.update(func(cr *testv1.Cluster) {
			for j := range cr.Spec.NodeTypes {
				if cr.Spec.NodeTypes[j].Name == "b" {
					cr.Spec.NodeTypes[j].Config = map[string]string{"level": fmt.Sprint(i)}
				}
			}
		})
		cr = e.waitFor("b to roll out its new config", func(cr *testv1.Cluster) bool {
			return ready(cr) && configHashOf(cr, "b") != before
		})
		e.poke()
		e.requireNoConflicts(fmt.Sprintf("change %d", i))
		children := map[string]int{}
		for req, n := range e.counter.Snapshot() {
			if strings.HasPrefix(req, "GET ") || strings.Contains(req, "/apis/events.k8s.io/") ||
				strings.HasSuffix(req, "/clusters/"+crName) || strings.HasSuffix(req, "/clusters/"+crName+"/status") {
				continue
			}
			children[req] = n
		}
		prefix := "PATCH /apis/apps/v1/namespaces/" + e.ns
		want := map[string]int{
			prefix + "/deployments/" + crName + "-b":                                   1,
			"PATCH /api/v1/namespaces/" + e.ns + "/configmaps/" + crName + "-b-config": 1,
		}
		t.Logf("change %d: writes to children %v", i, children)
		if len(children) != len(want) {
			t.Errorf("change %d: writes to children %v, want exactly %v", i, children, want)
			continue
		}
		for req, n := range want {
			if children[req] != n {
				t.Errorf("change %d: %s x%d, want x%d (all writes to children: %v)", i, req, children[req], n, children)
			}
		}
	}
	e.requireSteady()
}

// requireNoConflicts fails the test if any request the operator made since
// the counter was last reset met a 409: a status patch based on a copy of the
// CR the cache had not yet updated with the operator's own previous write, a
// child write racing the cache, or an event created twice. Each is a wasted
// round trip the runtime is built to avoid.
func (e *env) requireNoConflicts(during string) {
	e.t.Helper()
	if got := e.counter.Responses(http.StatusConflict); len(got) != 0 {
		e.t.Errorf("during %s the operator's requests met 409 responses %v, want none", during, got)
	}
}

// statusPatches counts the operator's status patches of the CR since the
// counter was last reset.
func (e *env) statusPatches() int {
	n := 0
	for req, c := range e.counter.Snapshot() {
		if strings.HasPrefix(req, "PATCH ") && strings.HasSuffix(req, "/clusters/"+crName+"/status") {
			n += c
		}
	}
	return n
}

// A rollout writes the CR's status when the node type starts and when it
// completes, whatever its number of replicas: the ready count of each pod
// that comes up is no reason for a write of its own. Node type c runs a
// StatefulSet and b a Deployment, each at 6 replicas.
func TestStatusWritesDoNotGrowWithReplicas(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	s := withReplicas("b", 6)
	for i := range s.NodeTypes {
		if s.NodeTypes[i].Name == "c" {
			s.NodeTypes[i].Replicas = 6
		}
	}
	e.createCluster(s)
	e.waitFor("Ready", ready)
	e.requireSteady()
	for _, nt := range []string{"b", "c"} {
		e.counter.Reset()
		e.update(changeConfig(nt))
		e.waitFor(nt+" to roll out", func(cr *testv1.Cluster) bool { return ready(cr) && configHashOf(cr, nt) != "" })
		e.poke()
		e.requireNoConflicts("the rollout of " + nt)
		t.Logf("node type %s: %d status patches", nt, e.statusPatches())
		if n := e.statusPatches(); n > 2 {
			t.Errorf("node type %s: the rollout of 6 replicas made %d status patches, want at most 2", nt, n)
		}
	}
}
