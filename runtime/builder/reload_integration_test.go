package builder_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// reloadSet is podConfig and the Deployment web, with the ConfigMap's
// reload annotation set to reload and its keys to the given values.
func reloadSet(reload, properties, logLevel string) []client.Object {
	objs := podConfig()
	cm := objs[0].(*corev1.ConfigMap)
	cm.Annotations = map[string]string{keys.AnnotationReload: reload}
	cm.Data["runtime.properties"], cm.Data["log.level"] = properties, logLevel
	return append(objs, deployment("nginx:1.27", ptr.To[int32](1)))
}

// TestReloadableKeyRestartsNoPod: a change of a key the application reloads
// (runtime.properties, a file in the pods' volume) updates the ConfigMap and
// rolls nothing; a change of another key (log.level, an env var) rolls the
// Deployment once; and declaring the env-read key reloadable is refused.
func TestReloadableKeyRestartsNoPod(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(reloadSet("runtime.properties", "a=1\n", "info")...)
	if n := len(e.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets after the create, want 1", n)
	}

	e.counter.Reset()
	res := e.reconcileAll(reloadSet("runtime.properties", "a=2\n", "info")...)
	if op := resultFor(t, res, "config").Operation; op != builder.OperationUpdated {
		t.Errorf("ConfigMap: %s, want Updated", op)
	}
	if op := resultFor(t, res, "web").Operation; op != builder.OperationUnchanged {
		t.Errorf("Deployment: %s after a reloadable key changed, want Unchanged", op)
	}
	for _, w := range e.counter.WriteRequests() {
		if strings.Contains(w, "/deployments/") {
			t.Errorf("a reloadable key's change wrote the Deployment: %s", w)
		}
	}
	if n := len(e.replicaSets()); n != 1 {
		t.Errorf("%d ReplicaSets after a reloadable key changed, want 1", n)
	}

	res = e.reconcileAll(reloadSet("runtime.properties", "a=2\n", "debug")...)
	if r := resultFor(t, res, "web"); r.Operation != builder.OperationUpdated || !r.RolloutTriggered {
		t.Errorf("Deployment: %s (rollout %v) after log.level changed, want an Updated rollout", r.Operation, r.RolloutTriggered)
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Errorf("%d ReplicaSets after log.level changed, want 2", n)
	}

	// log.level reaches the pods as an env var, which never refreshes.
	_, err := e.builderWith(e.exp, reloadSet("log.level", "a=2\n", "warn")...).ReconcileAll(e.ctx)
	if err == nil || !strings.Contains(err.Error(), "through env LOG_LEVEL") {
		t.Fatalf("ReconcileAll with an env-read key declared reloadable: %v, want an error naming env LOG_LEVEL", err)
	}
	if n := len(e.replicaSets()); n != 2 {
		t.Errorf("%d ReplicaSets after the refused change, want 2", n)
	}
}
