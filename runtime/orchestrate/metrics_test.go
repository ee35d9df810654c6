package orchestrate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// metric returns the value of the sample of metric name in the manager's
// metrics registry whose labels include labels and the env's namespace: a
// gauge's or counter's value, a histogram's count. found is false when
// there is no such sample.
func (e *env) metric(name string, labels map[string]string) (value float64, found bool) {
	e.t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if !hasLabels(m, labels, e.ns) {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string, ns string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	if got["namespace"] != ns || got["kind"] != "Cluster" || got["name"] != crName {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// states returns the state each node type's opbuilder_node_type_state says
// it is in, "<node type>=<state>", for the node types given.
func (e *env) states(nodeTypes ...string) []string {
	e.t.Helper()
	var out []string
	for _, nt := range nodeTypes {
		var in []string
		for _, s := range []string{"blocked", "waiting", "rolling", "unavailable", "ready"} {
			v, ok := e.metric("opbuilder_node_type_state", map[string]string{"node_type": nt, "state": s})
			if !ok {
				e.t.Fatalf("no opbuilder_node_type_state sample for node type %s, state %s", nt, s)
			}
			if v == 1 {
				in = append(in, s)
			}
		}
		out = append(out, nt+"="+strings.Join(in, "+"))
	}
	return out
}

// requireMetric fails unless the sample of name with labels is want. A
// counter that was never incremented has no sample, which counts as 0.
func (e *env) requireMetric(name string, labels map[string]string, want float64) {
	e.t.Helper()
	got, ok := e.metric(name, labels)
	if !ok && strings.HasSuffix(name, "_total") {
		ok = true
	}
	if !ok || got != want {
		e.t.Errorf("%s%v = %v (present: %v), want %v", name, labels, got, ok, want)
	}
}

// The metrics endpoint serves what each node type is doing, how long its
// rollouts took, the pods waiting on a hook and the hook errors, and what
// was pruned; a node type the CR no longer runs, and a deleted CR, leave
// no series behind.
func TestMetricsOfTheDomain(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("c", gate))
	e.createCluster(spec())
	e.waitFor("Ready", ready)
	if got, want := e.states("a", "b", "c"), []string{"a=ready", "b=ready", "c=ready"}; !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	for _, nt := range []string{"a", "b", "c"} {
		e.requireMetric("opbuilder_rollout_duration_seconds", map[string]string{"node_type": nt}, 1)
	}
	e.requireMetric("opbuilder_hook_waiting_pods", map[string]string{"node_type": "c", "hook": "healthy"}, 0)

	// c's rollout waits on its health gate at pod c-1: blocked, one pod
	// waiting, and the node types before it ready.
	c := crName + "-c"
	gate.set(gate.unhealthy, c+"-1", true)
	e.update(changeConfig("c"))
	e.waitFor("c to wait on pod c-1's health", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
		return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == orchestrate.ReasonWaitingForHook
	})
	e.poke()
	if got, want := e.states("a", "b", "c"), []string{"a=ready", "b=ready", "c=blocked"}; !slices.Equal(got, want) {
		t.Errorf("while c waits on its gate, states %v, want %v", got, want)
	}
	e.requireMetric("opbuilder_hook_waiting_pods", map[string]string{"node_type": "c", "hook": "healthy"}, 1)
	e.requireMetric("opbuilder_hook_errors_total", map[string]string{"node_type": "c", "hook": "healthy"}, 0)

	// The gate fails instead: one error, however often it is asked.
	gate.mu.Lock()
	gate.fail = errors.New("connection refused")
	gate.mu.Unlock()
	e.waitFor("c's gate to fail", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
		return cond != nil && cond.Reason == orchestrate.ReasonHookFailed
	})
	e.poke()
	e.poke()
	e.requireMetric("opbuilder_hook_errors_total", map[string]string{"node_type": "c", "hook": "healthy"}, 1)

	gate.mu.Lock()
	gate.fail = nil
	gate.mu.Unlock()
	gate.set(gate.unhealthy, c+"-1", false)
	e.waitFor("Ready once the gate opens", ready)
	e.poke()
	if got, want := e.states("c"), []string{"c=ready"}; !slices.Equal(got, want) {
		t.Errorf("after the rollout, states %v, want %v", got, want)
	}
	e.requireMetric("opbuilder_hook_waiting_pods", map[string]string{"node_type": "c", "hook": "healthy"}, 0)
	e.requireMetric("opbuilder_rollout_duration_seconds", map[string]string{"node_type": "c"}, 2)
	e.requireMetric("opbuilder_rollout_duration_seconds", map[string]string{"node_type": "a"}, 1)

	// Node type b is removed: its Deployment is pruned, and its series go.
	e.update(func(cr *testv1.Cluster) {
		cr.Spec.Order = []string{"a", "c"}
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == "b" })
	})
	e.waitFor("Ready without b", ready)
	e.poke()
	e.requireMetric("opbuilder_pruned_objects_total", map[string]string{"resource": "Deployment"}, 1)
	for _, name := range []string{"opbuilder_node_type_state", "opbuilder_rollout_duration_seconds", "opbuilder_hook_waiting_pods"} {
		if _, ok := e.metric(name, map[string]string{"node_type": "b"}); ok {
			t.Errorf("%s still has a series for the removed node type b", name)
		}
	}

	// The CR is deleted: none of its series is left.
	var cr testv1.Cluster
	cr.Name, cr.Namespace = crName, e.ns
	if err := e.c.Delete(e.ctx(), &cr); err != nil {
		t.Fatal(err)
	}
	e.eventually("the CR's series to go", func() error {
		for _, name := range []string{"opbuilder_node_type_state", "opbuilder_rollout_duration_seconds",
			"opbuilder_hook_waiting_pods", "opbuilder_hook_errors_total", "opbuilder_pruned_objects_total"} {
			if _, ok := e.metric(name, nil); ok {
				return fmt.Errorf("%s still has a series of the deleted CR", name)
			}
		}
		return nil
	})
}

// eventually polls check until it returns nil, and fails with its last
// error on timeout.
func (e *env) eventually(what string, check func() error) {
	e.t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(e.ctx(), 100*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, last)
	}
}
