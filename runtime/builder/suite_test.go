package builder_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// The suite shares one control plane with kube-controller-manager (for
// ReplicaSets, ControllerRevisions, StatefulSet pods and PVCs, and garbage
// collection); every test works in a namespace of its own.
var (
	cluster *testcluster.Cluster
	scheme  = testenv.Scheme()
	// broadcaster sends recorded events to the API server.
	broadcaster events.EventBroadcaster
)

const fieldOwner = "builder-test"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	cluster, err = testcluster.Start(ctx,
		testcluster.WithControllerManager(),
		testcluster.WithCRDs(filepath.Join("..", "internal", "testapi", "crd")),
		testcluster.WithScheme(scheme))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	evCfg := rest.CopyConfig(cluster.Config)
	evCfg.QPS, evCfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(evCfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	broadcaster = events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer broadcaster.Shutdown()
	return m.Run()
}

// env is one test's namespace, owner and counting client.
type env struct {
	t       testing.TB
	ctx     context.Context
	ns      string
	owner   *testv1.Cluster
	counter *testcluster.RequestCounter
	// cl is an uncached client whose requests counter counts.
	cl client.Client
	// admin is an uncached client that is not counted, for test set-up and
	// for acting as another user.
	admin client.Client
	rec   *testenv.Recorder
	// exp are the Expectations the passes of e.builder share, as a
	// controller's passes do (runtime/orchestrate). The first pass after
	// any change compares in full; later ones use what exp remembers.
	exp *builder.Expectations
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{t: t, ctx: ctx, admin: cluster.Client, counter: testcluster.NewRequestCounter(), exp: builder.NewExpectations()}
	e.ns = "t-" + rand.String(8)
	if err := e.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.admin.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}})
	})
	e.owner = &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: e.ns}}
	if err := e.admin.Create(ctx, e.owner); err != nil {
		t.Fatal(err)
	}
	var err error
	e.cl, err = client.New(e.counter.Wrap(cluster.Config), client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	e.rec = &testenv.Recorder{Next: broadcaster.NewRecorder(scheme, fieldOwner)}
	return e
}

// builder returns a Builder for e's owner, without desired objects, sharing
// e.exp.
func (e *env) builder() *builder.Builder {
	e.t.Helper()
	return e.builderWith(e.exp)
}

// builderWith returns a Builder for e's owner with the desired objects that
// shares exp (none when nil).
func (e *env) builderWith(exp *builder.Expectations, objs ...client.Object) *builder.Builder {
	e.t.Helper()
	b, err := builder.New(
		builder.WithClient(e.cl),
		builder.WithOwner(e.owner),
		builder.WithRecorder(e.rec),
		builder.WithFieldOwner(fieldOwner),
		builder.WithApp("demo-app"),
		builder.WithComponent("broker"),
		builder.WithObjects(objs...),
		builder.WithExpectations(exp),
	)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// reconcileAll runs one pass over objs, sharing e.exp, and returns the
// results.
func (e *env) reconcileAll(objs ...client.Object) []builder.Result {
	e.t.Helper()
	return e.reconcileAllWith(e.exp, objs...)
}

// reconcileAllWith runs one pass over objs, sharing exp, and returns the
// results.
func (e *env) reconcileAllWith(exp *builder.Expectations, objs ...client.Object) []builder.Result {
	e.t.Helper()
	res, err := e.builderWith(exp, objs...).ReconcileAll(e.ctx)
	if err != nil {
		e.t.Fatalf("ReconcileAll: %v", err)
	}
	return res
}

// expectNoWrites runs a pass sharing e.exp and fails when it wrote anything
// or recorded an event.
func (e *env) expectNoWrites(objs ...client.Object) {
	e.t.Helper()
	e.expectNoWritesWith(e.exp, objs...)
}

// expectNoWritesWith runs a pass sharing exp and fails when it wrote
// anything or recorded an event.
func (e *env) expectNoWritesWith(exp *builder.Expectations, objs ...client.Object) {
	e.t.Helper()
	e.counter.Reset()
	e.rec.Take()
	for _, r := range e.reconcileAllWith(exp, objs...) {
		if r.Operation != builder.OperationUnchanged {
			e.t.Errorf("%T %s: operation %s, want Unchanged", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	if n := e.counter.Writes(); n != 0 {
		e.t.Errorf("steady-state reconcile made %d write requests: %v", n, e.counter.WriteRequests())
	}
	if evs := e.rec.Take(); len(evs) != 0 {
		e.t.Errorf("steady-state reconcile recorded events: %+v", evs)
	}
}

// get reads obj from the API server.
func (e *env) get(obj client.Object) {
	e.t.Helper()
	if err := e.admin.Get(e.ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		e.t.Fatalf("get %T %s: %v", obj, obj.GetName(), err)
	}
}

// edit changes obj (read afresh) with mutate as field manager manager,
// retrying on conflicts with the controllers that update it too.
func (e *env) edit(obj client.Object, manager string, mutate func()) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := e.admin.Get(e.ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		mutate()
		return e.admin.Update(e.ctx, obj, client.FieldOwner(manager))
	})
	if err != nil {
		e.t.Fatalf("edit %T %s: %v", obj, obj.GetName(), err)
	}
}

// eventually polls cond for up to two minutes.
func (e *env) eventually(what string, cond func(ctx context.Context) (bool, error)) {
	e.t.Helper()
	if err := wait.PollUntilContextTimeout(e.ctx, 200*time.Millisecond, 2*time.Minute, true, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// apiEvents lists the events.k8s.io/v1 Events in e's namespace.
func (e *env) apiEvents() []eventsv1.Event {
	e.t.Helper()
	var l eventsv1.EventList
	if err := e.admin.List(e.ctx, &l, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	return l.Items
}

// reasons returns the reasons of evs about the related object name.
func reasons(evs []testenv.Event, related string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Related != nil && ev.Related.Name == related {
			out = append(out, ev.Reason)
		}
	}
	return out
}

func joined(s []string) string { return strings.Join(s, ",") }
