package builder_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// staleClient reads like an informer cache that has not seen the writes made
// since freeze: Get answers from a snapshot of the objects taken then, while
// writes go to the API server. thaw makes it read through again, as a cache
// that caught up.
type staleClient struct {
	client.Client
	mu       sync.Mutex
	snapshot map[string]client.Object
}

func snapshotKey(obj client.Object, key client.ObjectKey) string {
	return fmt.Sprintf("%T/%s/%s", obj, key.Namespace, key.Name)
}

// freeze snapshots objs (read now from the API server).
func (c *staleClient) freeze(ctx context.Context, t *testing.T, objs ...client.Object) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshot = map[string]client.Object{}
	for _, o := range objs {
		cur := o.DeepCopyObject().(client.Object)
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(o), cur); err != nil {
			t.Fatalf("snapshot %T %s: %v", o, o.GetName(), err)
		}
		c.snapshot[snapshotKey(cur, client.ObjectKeyFromObject(o))] = cur
	}
}

func (c *staleClient) thaw() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snapshot = nil
}

func (c *staleClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	stale, ok := c.snapshot[snapshotKey(obj, key)]
	c.mu.Unlock()
	if !ok {
		return c.Client.Get(ctx, key, obj, opts...)
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(stale.DeepCopyObject()).Elem())
	return nil
}

// staleRace is one test's objects for the stale-cache race.
type staleRace struct {
	e     *env
	stale *staleClient
	exp   *builder.Expectations
}

func (r *staleRace) pass(logLevel string) []builder.Result {
	r.e.t.Helper()
	opts := []builder.Option{
		builder.WithClient(r.stale), builder.WithOwner(r.e.owner), builder.WithRecorder(r.e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
		builder.WithObjects(desiredSet("nginx:1.27", ptr.To[int32](2), logLevel)...),
	}
	if r.exp != nil {
		opts = append(opts, builder.WithExpectations(r.exp))
	}
	b, err := builder.New(opts...)
	if err != nil {
		r.e.t.Fatal(err)
	}
	res, err := b.ReconcileAll(r.e.ctx)
	if err != nil {
		r.e.t.Fatalf("ReconcileAll: %v", err)
	}
	return res
}

// patches returns how many PATCH requests were made to the Deployment "web"
// and the ConfigMap "config" since the counter's last reset.
func (r *staleRace) patches() (workload, config int) {
	snap := r.e.counter.Snapshot()
	return snap["PATCH /apis/apps/v1/namespaces/"+r.e.ns+"/deployments/web"],
		snap["PATCH /api/v1/namespaces/"+r.e.ns+"/configmaps/config"]
}

// newStaleRace creates the desired set and freezes the "cache" right after,
// so the passes that follow read the objects as they were before their own
// writes.
func newStaleRace(t *testing.T, exp *builder.Expectations) *staleRace {
	t.Helper()
	e := newEnv(t)
	r := &staleRace{e: e, stale: &staleClient{Client: e.cl}, exp: exp}
	r.pass("info")
	r.stale.freeze(e.ctx, t, withNamespace(e.ns, desiredSet("nginx:1.27", nil, "info")...)...)
	e.counter.Reset()
	e.rec.Take()
	return r
}

func withNamespace(ns string, objs ...client.Object) []client.Object {
	for _, o := range objs {
		o.SetNamespace(ns)
	}
	return objs
}

// TestStaleCacheRepeatsApplyWithoutExpectations reproduces the race the
// Expectations remove: a config change is applied, and the pass that its
// ConfigMap's watch event triggers reads the Deployment from a cache that has
// not seen the write yet, so it applies it again (the API server changes
// nothing, but it is one more PATCH and one more event).
func TestStaleCacheRepeatsApplyWithoutExpectations(t *testing.T) {
	r := newStaleRace(t, nil)
	r.pass("debug")
	r.pass("debug")
	workload, config := r.patches()
	events := reasons(r.e.rec.Take(), "web")
	t.Logf("without expectations: %d Deployment PATCHes, %d ConfigMap PATCHes, Deployment events %v for one change", workload, config, events)
	if workload != 2 || config != 2 {
		t.Errorf("the race is not reproduced: %d Deployment and %d ConfigMap PATCHes, want 2 and 2", workload, config)
	}
	// The repeated apply is even reported as a second rollout, because the
	// resourceVersion it returns differs from the stale one it was given.
	if got := joined(events); got != eventclient.ReasonRolloutTriggered+","+eventclient.ReasonRolloutTriggered {
		t.Errorf("events about the Deployment: %q, want RolloutTriggered twice", got)
	}
}

func TestExpectationsSkipTheRepeatedApply(t *testing.T) {
	exp := builder.NewExpectations()
	r := newStaleRace(t, exp)
	e := r.e

	// The change: one apply of the ConfigMap, one of the Deployment, which
	// rolls it.
	first := r.pass("debug")
	dep := resultFor(t, first, "web")
	if dep.Operation != builder.OperationUpdated || !dep.RolloutTriggered {
		t.Fatalf("config change: Deployment %s, want Updated with a rollout", summary(dep))
	}
	appliedRV := dep.Object.GetResourceVersion()

	// The pass the ConfigMap's watch event triggers, with the cache still
	// behind: nothing is written, the result carries the applied object.
	second := r.pass("debug")
	for _, res := range second {
		if res.Operation != builder.OperationUnchanged {
			t.Errorf("stale pass: %T %s: %s, want Unchanged", res.Object, res.Object.GetName(), summary(res))
		}
	}
	if rv := resultFor(t, second, "web").Object.GetResourceVersion(); rv != appliedRV {
		t.Errorf("stale pass: Deployment result has resourceVersion %s, want the applied %s", rv, appliedRV)
	}
	workload, config := r.patches()
	t.Logf("with expectations: %d Deployment PATCHes, %d ConfigMap PATCHes for one change", workload, config)
	if workload != 1 || config != 1 {
		t.Errorf("%d Deployment and %d ConfigMap PATCHes for one change, want exactly 1 and 1: %v", workload, config, e.counter.WriteRequests())
	}
	if n := e.counter.Writes(); n != 2 {
		t.Errorf("%d write requests, want 2: %v", n, e.counter.WriteRequests())
	}
	if got := joined(reasons(e.rec.Take(), "web")); got != eventclient.ReasonRolloutTriggered {
		t.Errorf("events about the Deployment: %q, want one RolloutTriggered", got)
	}
	if n := exp.Len(); n != 2 {
		t.Errorf("%d expectations, want 2 (the ConfigMap and the Deployment)", n)
	}

	// Another change while the cache is still behind is not what was
	// applied: it is applied.
	e.counter.Reset()
	third := r.pass("warn")
	if op := resultFor(t, third, "web").Operation; op != builder.OperationUpdated {
		t.Errorf("new change on a stale cache: Deployment %s, want Updated", op)
	}
	if workload, config := r.patches(); workload != 1 || config != 1 {
		t.Errorf("new change on a stale cache: %d Deployment and %d ConfigMap PATCHes, want 1 and 1", workload, config)
	}

	// A hand edit made while the cache is behind is reverted once the cache
	// has caught up: the object read is then newer than the apply.
	live := &appsv1.Deployment{}
	live.Name, live.Namespace = "web", e.ns
	e.edit(live, "kubectl-edit", func() { live.Spec.Template.Spec.Containers[0].Image = "nginx:hacked" })
	e.counter.Reset()
	r.pass("warn")
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("stale pass after the hand edit made %d writes: %v", n, e.counter.WriteRequests())
	}
	r.stale.thaw()
	reverted := r.pass("warn")
	if op := resultFor(t, reverted, "web").Operation; op != builder.OperationUpdated {
		t.Errorf("caught-up pass after the hand edit: Deployment %s, want Updated", op)
	}
	e.get(live)
	if img := live.Spec.Template.Spec.Containers[0].Image; img != "nginx:1.27" {
		t.Errorf("image %q not reverted", img)
	}

	// Caught up: steady state, and nothing is remembered any more.
	e.counter.Reset()
	for _, res := range r.pass("warn") {
		if res.Operation != builder.OperationUnchanged {
			t.Errorf("caught up: %T %s: %s, want Unchanged", res.Object, res.Object.GetName(), summary(res))
		}
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("caught up: %d writes: %v", n, e.counter.WriteRequests())
	}
	if n := exp.Len(); n != 0 {
		t.Errorf("caught up: %d expectations kept, want 0", n)
	}
}

// TestPlanHonoursExpectations checks that Plan and Reconcile share the
// expectation rule: on a stale cache, a desired state already applied is
// planned as Unchanged and reconciling it writes nothing.
func TestPlanHonoursExpectations(t *testing.T) {
	exp := builder.NewExpectations()
	r := newStaleRace(t, exp)
	r.pass("debug")
	r.e.counter.Reset()
	b, err := builder.New(
		builder.WithClient(r.stale), builder.WithOwner(r.e.owner), builder.WithRecorder(r.e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
		builder.WithObjects(desiredSet("nginx:1.27", ptr.To[int32](2), "debug")...),
		builder.WithExpectations(exp),
	)
	if err != nil {
		t.Fatal(err)
	}
	p, err := b.Plan(r.e.ctx, deployment("nginx:1.27", ptr.To[int32](2)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Operation != builder.OperationUnchanged {
		t.Errorf("stale cache, change already applied: planned %s, want Unchanged", p.Operation)
	}
	res, err := b.ReconcileDeployment(r.e.ctx, deployment("nginx:1.27", ptr.To[int32](2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Operation != builder.OperationUnchanged {
		t.Errorf("planned Unchanged, reconciled %s", summary(res))
	}
	if n := r.e.counter.Writes(); n != 0 {
		t.Errorf("planned Unchanged, %d writes: %v", n, r.e.counter.WriteRequests())
	}
}

// unseenClient reads like an informer cache that has not seen any create
// yet: every Get answers NotFound until catchUp.
type unseenClient struct {
	client.Client
	mu     sync.Mutex
	caught bool
}

func (c *unseenClient) catchUp() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.caught = true
}

func (c *unseenClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	caught := c.caught
	c.mu.Unlock()
	if !caught {
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// TestExpectationsTrustTheirCreateUntilTheCacheShowsIt is the pass that the
// watch event of a create triggers before the cache holds the new objects
// (informers of different kinds deliver at different times). With an API
// reader the Builder would read every object back from the API server to
// learn that the name is its own; it takes its own creates as they were
// returned instead: no request at all, every child Unchanged, and a requeue
// asked in case an object was deleted before the cache saw it.
func TestExpectationsTrustTheirCreateUntilTheCacheShowsIt(t *testing.T) {
	e := newEnv(t)
	cache := &unseenClient{Client: e.cl}
	pass := func() []builder.Result {
		t.Helper()
		b, err := builder.New(
			builder.WithClient(cache), builder.WithAPIReader(e.cl), builder.WithOwner(e.owner), builder.WithRecorder(e.rec),
			builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
			builder.WithObjects(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...),
			builder.WithExpectations(e.exp),
		)
		if err != nil {
			t.Fatal(err)
		}
		res, err := b.ReconcileAll(e.ctx)
		if err != nil {
			t.Fatalf("ReconcileAll: %v", err)
		}
		return res
	}
	created := map[string]string{}
	for _, r := range pass() {
		if r.Operation != builder.OperationCreated {
			t.Fatalf("first pass: %s, want Created", summary(r))
		}
		created[r.Object.GetName()] = r.Object.GetResourceVersion()
	}

	e.counter.Reset()
	e.rec.Take()
	for _, r := range pass() {
		if r.Operation != builder.OperationUnchanged || !r.Requeue || r.Object.GetResourceVersion() != created[r.Object.GetName()] {
			t.Errorf("pass before the cache shows the creates: %s (requeue %v, resourceVersion %s), want Unchanged, requeued, as created (%s)",
				summary(r), r.Requeue, r.Object.GetResourceVersion(), created[r.Object.GetName()])
		}
	}
	if reqs := e.counter.Snapshot(); len(reqs) != 0 {
		t.Errorf("pass before the cache shows the creates made requests %v, want none", reqs)
	}
	if evs := e.rec.Take(); len(evs) != 0 {
		t.Errorf("pass before the cache shows the creates recorded %d events, want none", len(evs))
	}

	cache.catchUp()
	e.counter.Reset()
	for _, r := range pass() {
		if r.Operation != builder.OperationUnchanged || r.Requeue {
			t.Errorf("pass once the cache shows the creates: %s (requeue %v), want Unchanged and no requeue", summary(r), r.Requeue)
		}
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("pass once the cache shows the creates made %d writes: %v", n, e.counter.WriteRequests())
	}
}
