package builder_test

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// objectKey names a desired object by Go type and name: several kinds share
// a name in allKinds.
func objectKey(obj client.Object) string {
	return fmt.Sprintf("%T/%s", obj, obj.GetName())
}

// plan plans every object of objs with a Builder desiring objs (and a store),
// and fails when planning wrote anything, recorded an event or touched the
// store.
func (e *env) plan(objs ...client.Object) map[string]builder.Plan {
	e.t.Helper()
	st := &fakeStore{}
	b, err := builder.New(
		builder.WithClient(e.cl), builder.WithOwner(e.owner), builder.WithRecorder(e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
		builder.WithStore(st), builder.WithObjects(objs...),
	)
	if err != nil {
		e.t.Fatal(err)
	}
	e.counter.Reset()
	e.rec.Take()
	plans := map[string]builder.Plan{}
	for _, o := range objs {
		p, err := b.Plan(e.ctx, o)
		if err != nil {
			e.t.Fatalf("Plan %s: %v", objectKey(o), err)
		}
		plans[objectKey(o)] = p
	}
	if n := e.counter.Writes(); n != 0 {
		e.t.Errorf("Plan made %d write requests: %v", n, e.counter.WriteRequests())
	}
	if evs := e.rec.Take(); len(evs) != 0 {
		e.t.Errorf("Plan recorded events: %+v", evs)
	}
	if len(st.recorded) != 0 || st.failed != nil {
		e.t.Errorf("Plan touched the store: %d recorded, failed %v", len(st.recorded), st.failed)
	}
	return plans
}

// planThenReconcile plans objs, reconciles them and fails unless every
// result is what was planned, and the pass made exactly one apply (PATCH)
// per object planned as Created or Updated and no other write.
func (e *env) planThenReconcile(objs ...client.Object) map[string]builder.Plan {
	e.t.Helper()
	plans := e.plan(objs...)
	want := 0
	for _, p := range plans {
		switch p.Operation {
		case builder.OperationCreated, builder.OperationUpdated:
			want++
		case builder.OperationUnchanged, builder.OperationBlocked:
		default:
			e.t.Fatalf("planThenReconcile handles no %s plan", p.Operation)
		}
	}
	e.counter.Reset()
	res := e.reconcileAll(objs...)
	if len(res) != len(objs) {
		e.t.Fatalf("%d results for %d objects", len(res), len(objs))
	}
	for _, r := range res {
		k := objectKey(r.Object)
		p, ok := plans[k]
		if !ok {
			e.t.Fatalf("result for %s, which was not planned", k)
		}
		if r.Operation != p.Operation {
			e.t.Errorf("%s: planned %s, reconciled %s", k, p.Operation, summary(r))
		}
		if r.RolloutTriggered != p.RolloutTriggered {
			e.t.Errorf("%s: planned RolloutTriggered %t, reconciled %t", k, p.RolloutTriggered, r.RolloutTriggered)
		}
		if r.Changed() != p.Changes() {
			e.t.Errorf("%s: Plan.Changes %t, Result.Changed %t", k, p.Changes(), r.Changed())
		}
	}
	if got := e.counter.Count("PATCH"); got != want {
		e.t.Errorf("reconcile made %d PATCH requests, %d planned: %v", got, want, e.counter.WriteRequests())
	}
	if got := e.counter.Writes(); got != want {
		e.t.Errorf("reconcile made %d write requests, %d planned applies: %v", got, want, e.counter.WriteRequests())
	}
	return plans
}

// operations returns the planned operation of every object, by objectKey.
func operations(plans map[string]builder.Plan) map[string]builder.Operation {
	out := make(map[string]builder.Operation, len(plans))
	for k, p := range plans {
		out[k] = p.Operation
	}
	return out
}

func TestPlanAgreesWithReconcile(t *testing.T) {
	e := newEnv(t)

	// Nothing exists: every object is planned and then reconciled as Created.
	for k, op := range operations(e.planThenReconcile(allKinds()...)) {
		if op != builder.OperationCreated {
			t.Errorf("first pass: %s planned %s, want Created", k, op)
		}
	}

	// Steady state: Unchanged everywhere, and the pass writes nothing.
	for k, op := range operations(e.planThenReconcile(allKinds()...)) {
		if op != builder.OperationUnchanged {
			t.Errorf("steady state: %s planned %s, want Unchanged", k, op)
		}
	}

	// A desired change (a config value, which also rolls both workloads, and
	// a Service port) and a hand edit (a NetworkPolicy port) are planned as
	// Updated and written; everything else is Unchanged and not written.
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: e.ns}}
	e.edit(np, "kubectl-edit", func() { np.Spec.Ingress[0].Ports[0].Port = ptr.To(intstr.FromInt32(9999)) })
	changed := allKinds()
	changed[0].(*corev1.ConfigMap).Data["log.level"] = "debug"
	changed[3].(*corev1.Service).Spec.Ports[0].Port = 81
	plans := e.planThenReconcile(changed...)
	wantUpdated := map[string]bool{
		objectKey(changed[0]): true, // the ConfigMap
		objectKey(changed[3]): true, // the Service
		objectKey(changed[5]): true, // the Deployment (config hash)
		objectKey(changed[6]): true, // the StatefulSet (config hash)
		objectKey(np):         true, // the drifted NetworkPolicy
	}
	for k, p := range plans {
		want := builder.OperationUnchanged
		if wantUpdated[k] {
			want = builder.OperationUpdated
		}
		if p.Operation != want {
			t.Errorf("change: %s planned %s, want %s", k, p.Operation, want)
		}
		if p.Live == nil {
			t.Errorf("change: %s planned without the live object", k)
		}
	}
	for _, w := range []client.Object{changed[5], changed[6]} {
		if !plans[objectKey(w)].RolloutTriggered {
			t.Errorf("%s: the config change is not planned as a rollout", objectKey(w))
		}
	}
	e.expectNoWrites(changed...)

	// A change that cannot be made (shrinking a claim) is planned as Blocked
	// without an event; reconciling it records the Warning and writes
	// nothing.
	shrunk := allKinds()
	shrunk[0].(*corev1.ConfigMap).Data["log.level"] = "debug"
	shrunk[3].(*corev1.Service).Spec.Ports[0].Port = 81
	shrunk[7].(*corev1.PersistentVolumeClaim).Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("512Mi")
	plans = e.planThenReconcile(shrunk...)
	if op := plans[objectKey(shrunk[7])].Operation; op != builder.OperationBlocked {
		t.Errorf("shrunk claim planned %s, want Blocked", op)
	}
	if evs := e.rec.Take(); len(evs) != 1 || evs[0].Reason != builder.ReasonUpdateRejected {
		t.Errorf("reconciling the shrunk claim recorded %+v, want one UpdateRejected Warning", evs)
	}
}

func TestPlanRecreateAgreesWithReconcile(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(append(podConfig(), deployment("nginx:1.27", ptr.To[int32](1)))...)
	changed := deployment("nginx:1.27", ptr.To[int32](1))
	changed.Spec.Selector.MatchLabels = map[string]string{"app": "web-v2"}
	changed.Spec.Template.Labels = map[string]string{"app": "web-v2"}

	p := e.plan(changed)[objectKey(changed)]
	if p.Operation != builder.OperationRecreated || p.Message == "" || !p.Changes() {
		t.Fatalf("selector change planned %s (%q), want Recreated with a reason", p.Operation, p.Message)
	}
	// Plan deleted nothing: the old Deployment is still there, not deleting.
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.get(dep)
	if dep.DeletionTimestamp != nil || dep.UID != p.Live.GetUID() {
		t.Fatal("Plan touched the Deployment it planned to recreate")
	}

	e.counter.Reset()
	r, err := e.builder().ReconcileDeployment(e.ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if r.Operation != builder.OperationRecreated && r.Operation != builder.OperationRecreating {
		t.Errorf("planned Recreated, reconciled %s", summary(r))
	}
	if n := e.counter.Count("DELETE"); n != 1 {
		t.Errorf("planned Recreated, reconcile made %d DELETE requests: %v", n, e.counter.WriteRequests())
	}
	e.reconcileUntilSettled(changed)
	if op := e.plan(changed)[objectKey(changed)].Operation; op != builder.OperationUnchanged {
		t.Errorf("after the recreate: planned %s, want Unchanged", op)
	}
	e.expectNoWrites(changed)
}

func TestPlanReportsErrorsWithoutWriting(t *testing.T) {
	e := newEnv(t)
	b := e.builder()
	if _, err := b.Plan(e.ctx, nil); err == nil {
		t.Error("Plan(nil) succeeded")
	}
	other := configMap("elsewhere", nil)
	other.Namespace = "default"
	if _, err := b.Plan(e.ctx, other); err == nil {
		t.Error("Plan of a child in another namespace succeeded")
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("Plan made %d write requests: %v", n, e.counter.WriteRequests())
	}
}
