package eventclient_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

var (
	cluster     *testcluster.Cluster
	scheme      = testenv.Scheme()
	broadcaster events.EventBroadcaster
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	cluster, err = testcluster.Start(ctx,
		testcluster.WithCRDs(filepath.Join("..", "internal", "testapi", "crd")),
		testcluster.WithScheme(scheme))
	if err != nil {
		return fail(err)
	}
	defer func() { _ = cluster.Stop() }()
	cfg := rest.CopyConfig(cluster.Config)
	cfg.QPS, cfg.Burst = 200, 400
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fail(err)
	}
	broadcaster = events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fail(err)
	}
	defer broadcaster.Shutdown()
	return m.Run()
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	ns    string
	owner *testv1.Cluster
	rec   *testenv.Recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context(), ns: "ec-" + rand.String(8), rec: &testenv.Recorder{Next: broadcaster.NewRecorder(scheme, "eventclient-test")}}
	if err := cluster.Client.Create(f.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: f.ns}}); err != nil {
		t.Fatal(err)
	}
	f.owner = &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: f.ns}}
	if err := cluster.Client.Create(f.ctx, f.owner); err != nil {
		t.Fatal(err)
	}
	return f
}

// expect fails unless exactly the given (type, reason, action) events were
// recorded since the last call, all regarding the owner.
func (f *fixture) expect(what string, want ...string) {
	f.t.Helper()
	var got []string
	for _, ev := range f.rec.Take() {
		got = append(got, ev.Type+" "+ev.Reason+" "+ev.Action)
		if ev.Regarding == nil || ev.Regarding.UID != f.owner.UID || ev.Regarding.Kind != "Cluster" || ev.Regarding.Namespace != f.ns {
			f.t.Errorf("%s: regarding %+v, want the Cluster", what, ev.Regarding)
		}
		if ev.Related == nil || ev.Related.Kind == "" || ev.Related.Name == "" {
			f.t.Errorf("%s: related %+v, want the child", what, ev.Related)
		}
		if strings.Contains(ev.Note, "leak-marker") {
			f.t.Errorf("%s: note %q shows ConfigMap contents", what, ev.Note)
		}
	}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		f.t.Errorf("%s: events %q, want %q", what, got, want)
	}
}

func (f *fixture) ownedConfigMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: testv1.GroupVersion.String(), Kind: "Cluster", Name: f.owner.Name, UID: f.owner.UID, Controller: ptr.To(true),
		}}},
		Data: data,
	}
}

func TestEveryWriteRecordsItsOutcomeOnTheOwner(t *testing.T) {
	f := newFixture(t)
	// No WithOwner: the owner is found through the controller reference.
	c, err := eventclient.New(cluster.Client, f.rec)
	if err != nil {
		t.Fatal(err)
	}
	cm := f.ownedConfigMap("cm", map[string]string{"k": "leak-marker-1"})
	if err := c.Create(f.ctx, cm); err != nil {
		t.Fatal(err)
	}
	f.expect("create", "Normal Created Create")

	if err := c.Update(f.ctx, cm); err != nil {
		t.Fatal(err)
	}
	f.expect("update without a change")

	cm.Data["k"] = "leak-marker-2"
	if err := c.Update(f.ctx, cm); err != nil {
		t.Fatal(err)
	}
	f.expect("update", "Normal Updated Update")

	stale := cm.DeepCopy()
	stale.ResourceVersion = "1"
	stale.Data["k"] = "leak-marker-3"
	if err := c.Update(f.ctx, stale); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v, want a conflict", err)
	}
	f.expect("conflict: retried by the caller, no warning")

	base := cm.DeepCopy()
	cm.Data["k2"] = "leak-marker-4"
	if err := c.Patch(f.ctx, cm, client.MergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	f.expect("merge patch", "Normal Updated Patch")

	if err := c.Patch(f.ctx, cm, client.MergeFrom(cm.DeepCopy())); err != nil {
		t.Fatal(err)
	}
	f.expect("empty merge patch")

	if err := c.Delete(f.ctx, cm, eventclient.Prune); err != nil {
		t.Fatal(err)
	}
	f.expect("prune", "Normal Pruned Delete")
	if err := c.Delete(f.ctx, cm); !apierrors.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
	f.expect("delete of a missing object")

	invalid := f.ownedConfigMap("bad", map[string]string{"bad key!": "leak-marker-5"})
	if err := c.Create(f.ctx, invalid); !apierrors.IsInvalid(err) {
		t.Fatalf("invalid create: %v", err)
	}
	f.expect("invalid create", "Warning CreateFailed Create")

	if err := c.Create(f.ctx, invalid.DeepCopy(), client.DryRunAll); err == nil {
		t.Fatal("invalid dry-run create succeeded")
	}
	f.expect("dry run")

	// Not owned by anyone: nothing to record on.
	if err := c.Create(f.ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: f.ns}}); err != nil {
		t.Fatal(err)
	}
	f.expect("unowned object")
}

func TestServerSideApply(t *testing.T) {
	f := newFixture(t)
	c, err := eventclient.New(cluster.Client, f.rec, eventclient.WithOwner(f.owner))
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(v string) *corev1ac.ConfigMapApplyConfiguration {
		return corev1ac.ConfigMap("cm", f.ns).WithData(map[string]string{"k": v})
	}
	// Without Before, the client reads the object first.
	if err := c.Apply(f.ctx, cfg("leak-marker-1"), client.FieldOwner("test")); err != nil {
		t.Fatal(err)
	}
	f.expect("apply that creates", "Normal Created Apply")
	if err := c.Apply(f.ctx, cfg("leak-marker-1"), client.FieldOwner("test")); err != nil {
		t.Fatal(err)
	}
	f.expect("apply without a change")
	if err := c.Apply(f.ctx, cfg("leak-marker-2"), client.FieldOwner("test"), eventclient.Rollout); err != nil {
		t.Fatal(err)
	}
	f.expect("apply with the rollout intent", "Normal RolloutTriggered Apply")

	// With Before, no read is needed.
	live := &corev1.ConfigMap{}
	if err := cluster.Client.Get(f.ctx, types.NamespacedName{Namespace: f.ns, Name: "cm"}, live); err != nil {
		t.Fatal(err)
	}
	if err := c.Apply(f.ctx, cfg("leak-marker-3"), client.FieldOwner("test"), eventclient.Before(live)); err != nil {
		t.Fatal(err)
	}
	f.expect("apply with Before", "Normal Updated Apply")

	// Patch with client.Apply is still supported.
	u := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "cm2", Namespace: f.ns}, Data: map[string]string{"k": "v"}}
	if err := c.Patch(f.ctx, u, client.Apply, client.FieldOwner("test")); err != nil { //nolint:staticcheck // the deprecated form must keep working
		t.Fatal(err)
	}
	f.expect("apply patch that creates", "Normal Created Apply")

	if err := c.Delete(f.ctx, live, eventclient.Recreate, eventclient.Detail("selector changed")); err != nil {
		t.Fatal(err)
	}
	evs := f.rec.Take()
	if len(evs) != 1 || evs[0].Reason != eventclient.ReasonRecreated || !strings.Contains(evs[0].Note, "selector changed") {
		t.Errorf("recreate delete: %+v", evs)
	}

	// The events reached the API server as events.k8s.io/v1 Events.
	var found *eventsv1.Event
	err = wait.PollUntilContextTimeout(f.ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var l eventsv1.EventList
		if err := cluster.Client.List(ctx, &l, client.InNamespace(f.ns)); err != nil {
			return false, err
		}
		for i := range l.Items {
			if l.Items[i].Reason == eventclient.ReasonRolloutTriggered {
				found = &l.Items[i]
			}
		}
		return found != nil, nil
	})
	if err != nil {
		t.Fatalf("RolloutTriggered event not in the API server: %v", err)
	}
	if found.Regarding.UID != f.owner.UID || found.Related == nil || found.Related.Name != "cm" || found.Action != eventclient.ActionApply ||
		found.Type != corev1.EventTypeNormal || strings.Contains(found.Note, "leak-marker") {
		t.Errorf("event %+v", found)
	}
}

func TestNewNeedsClientAndRecorder(t *testing.T) {
	if _, err := eventclient.New(nil, &testenv.Recorder{}); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := eventclient.New(cluster.Client, nil); err == nil {
		t.Error("nil recorder accepted")
	}
}

// TestFailedPruneIsAWarning uses an interceptor to make the API refuse a
// delete; the real API server would need RBAC set up for that.
func TestFailedPruneIsAWarning(t *testing.T) {
	f := newFixture(t)
	refusing := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).Build(), interceptor.Funcs{
		Delete: func(context.Context, client.WithWatch, client.Object, ...client.DeleteOption) error {
			return apierrors.NewForbidden(corev1.Resource("secrets"), "s", errors.New("leak-marker in a message"))
		},
	})
	c, err := eventclient.New(refusing, f.rec)
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: f.ownedConfigMap("s", nil).ObjectMeta}
	if err := c.Delete(f.ctx, s, eventclient.Prune); !apierrors.IsForbidden(err) {
		t.Fatalf("err = %v, want the Forbidden error unchanged", err)
	}
	evs := f.rec.Take()
	if len(evs) != 1 || evs[0].Type != corev1.EventTypeWarning || evs[0].Reason != eventclient.ReasonPruneFailed {
		t.Fatalf("events %+v, want one PruneFailed warning", evs)
	}
	if strings.Contains(evs[0].Note, "leak-marker") || !strings.Contains(evs[0].Note, "Forbidden") {
		t.Errorf("note %q: want the reason without the Secret-related message", evs[0].Note)
	}
}
