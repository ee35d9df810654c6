package builder_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// remembered reports whether exp remembers a full comparison of every object
// of objs as the API server has it now, so that the next pass skips
// converting and comparing them.
func remembered(ctx context.Context, e *env, exp *builder.Expectations, objs []client.Object) (bool, error) {
	for _, o := range objs {
		o.SetNamespace(e.ns)
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil {
			return false, err
		}
		gvk, err := apiutil.GVKForObject(o, scheme)
		if err != nil {
			return false, err
		}
		if builder.CheckedResourceVersion(exp, gvk.GroupKind(), client.ObjectKeyFromObject(o)) != o.GetResourceVersion() {
			return false, nil
		}
	}
	return true, nil
}

// TestHandEditAfterARememberedComparisonIsReverted: once Expectations
// remember that the children need no apply, a pass skips the comparison;
// a hand edit made after such a pass is still found and reverted, a deleted
// child is created again and a desired change is applied.
func TestHandEditAfterARememberedComparisonIsReverted(t *testing.T) {
	e := newEnv(t)
	exp := builder.NewExpectations()
	desired := func(logLevel string) []client.Object {
		return desiredSet("nginx:1.27", ptr.To[int32](2), logLevel)
	}
	e.reconcileAllWith(exp, desired("info")...)
	// A full comparison finds nothing to do and is remembered …
	e.expectNoWritesWith(exp, desired("info")...)
	// … unless kube-controller-manager wrote the Deployment's status in
	// between; compare again until every child is remembered as it is.
	e.eventually("every child's comparison to be remembered", func(ctx context.Context) (bool, error) {
		e.expectNoWritesWith(exp, desired("info")...)
		return remembered(ctx, e, exp, desired("info"))
	})
	// The next pass skips every comparison, and writes nothing.
	e.expectNoWritesWith(exp, desired("info")...)

	// Someone edits the Deployment and the ConfigMap by hand.
	dep := &appsv1.Deployment{}
	dep.Name, dep.Namespace = "web", e.ns
	e.edit(dep, "kubectl-edit", func() {
		dep.Spec.Template.Spec.Containers[0].Image = "nginx:hacked"
		dep.Spec.Replicas = ptr.To[int32](7)
	})
	cm := &corev1.ConfigMap{}
	cm.Name, cm.Namespace = "config", e.ns
	e.edit(cm, "kubectl-edit", func() { cm.Data["log.level"] = "debug" })

	// Plan, sharing the same memory, sees the drift …
	plan, err := e.builderWith(exp, desired("info")...).Plan(e.ctx, deployment("nginx:1.27", ptr.To[int32](2)))
	if err != nil {
		t.Fatal(err)
	}
	if plan.Operation != builder.OperationUpdated {
		t.Errorf("plan after the hand edit: %s, want Updated", plan.Operation)
	}
	// … and the next pass reverts it.
	e.rec.Take()
	res := e.reconcileAllWith(exp, desired("info")...)
	for _, name := range []string{"web", "config"} {
		if op := resultFor(t, res, name).Operation; op != builder.OperationUpdated {
			t.Errorf("%s after the hand edit: %s, want Updated", name, op)
		}
	}
	if op := resultFor(t, res, "creds").Operation; op != builder.OperationUnchanged {
		t.Errorf("creds, not edited: %s, want Unchanged", op)
	}
	e.get(dep)
	if img := dep.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
		t.Errorf("image %q not reverted", img)
	}
	if r := ptr.Deref(dep.Spec.Replicas, 0); r != 2 {
		t.Errorf("replicas %d not reverted", r)
	}
	e.get(cm)
	if v := cm.Data["log.level"]; v != "info" {
		t.Errorf("config value %q not reverted", v)
	}
	evs := e.rec.Take()
	for _, name := range []string{"web", "config"} {
		if got := joined(reasons(evs, name)); got != eventclient.ReasonUpdated {
			t.Errorf("events about %s: %q, want Updated", name, got)
		}
	}

	// A child deleted by hand is created again.
	if err := e.admin.Delete(e.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: e.ns}}); err != nil {
		t.Fatal(err)
	}
	res = e.reconcileAllWith(exp, desired("info")...)
	if op := resultFor(t, res, "creds").Operation; op != builder.OperationCreated {
		t.Errorf("creds after it was deleted: %s, want Created", op)
	}

	// A desired change is applied, and rolls the Deployment.
	res = e.reconcileAllWith(exp, desired("warn")...)
	if op := resultFor(t, res, "config").Operation; op != builder.OperationUpdated {
		t.Errorf("config after a desired change: %s, want Updated", op)
	}
	if r := resultFor(t, res, "web"); r.Operation != builder.OperationUpdated || !r.RolloutTriggered {
		t.Errorf("web after a config change: %s, want Updated with a rollout", summary(r))
	}
	e.get(cm)
	if v := cm.Data["log.level"]; v != "warn" {
		t.Errorf("config value %q, want warn", v)
	}
	e.expectNoWritesWith(exp, desired("warn")...)
}
