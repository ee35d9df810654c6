package builder_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Values that must never show up in an event.
const (
	secretValue = "s3cr3t-value"
	configValue = "a=1"
)

func TestEventsOnChangeOnlyAndWithoutContents(t *testing.T) {
	e := newEnv(t)
	objs := allKinds()
	e.reconcileAll(objs...)
	evs := e.rec.Take()
	if len(evs) != len(objs) {
		t.Errorf("%d events for creating %d objects", len(evs), len(objs))
	}
	for _, ev := range evs {
		if ev.Type != corev1.EventTypeNormal || ev.Reason != eventclient.ReasonCreated || ev.Action != eventclient.ActionApply {
			t.Errorf("event %+v: want Normal Created Apply", ev)
		}
		if ev.Regarding == nil || ev.Regarding.Kind != "Cluster" || ev.Regarding.Name != "demo" || ev.Regarding.UID != e.owner.UID {
			t.Errorf("event regarding %+v, want the Cluster demo", ev.Regarding)
		}
		if ev.Related == nil || ev.Related.Kind == "" || ev.Related.Name == "" || ev.Related.Namespace != e.ns {
			t.Errorf("event related %+v, want the child", ev.Related)
		}
	}

	// What reached the API server: events.k8s.io/v1 Events on the Cluster.
	var created []string
	e.eventually("the Created events in the API server", func(context.Context) (bool, error) {
		created = created[:0]
		for _, ev := range e.apiEvents() {
			if ev.Reason == eventclient.ReasonCreated && ev.Regarding.Kind == "Cluster" && ev.Related != nil {
				created = append(created, ev.Related.Kind+"/"+ev.Related.Name)
			}
		}
		return len(created) == len(objs), nil
	})
	for _, ev := range e.apiEvents() {
		if ev.Regarding.Kind != "Cluster" {
			continue // events of the control plane's own controllers
		}
		if strings.Contains(ev.Note, secretValue) || strings.Contains(ev.Note, configValue) {
			t.Errorf("event note %q shows the contents of a ConfigMap or Secret", ev.Note)
		}
		if ev.Action == "" || ev.ReportingController != fieldOwner {
			t.Errorf("event %s: action %q, reporting controller %q", ev.Name, ev.Action, ev.ReportingController)
		}
	}

	// No change, no event; covered for every kind by expectNoWrites.
	e.expectNoWrites(allKinds()...)
}

func TestFailureIsReturnedWarnedWithoutContentsAndFailsThePass(t *testing.T) {
	e := newEnv(t)
	st := &fakeStore{}
	b, err := builder.New(
		builder.WithClient(e.cl), builder.WithOwner(e.owner), builder.WithRecorder(e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithStore(st),
		builder.WithObjects(
			configMap("broken", map[string]string{"bad key!": "leak-marker-value"}),
			configMap("config", map[string]string{"log.level": "info"}),
			deployment("nginx:1.27", ptr.To[int32](1)),
		),
	)
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.ReconcileAll(e.ctx)
	if err == nil {
		t.Fatal("an invalid ConfigMap did not fail the pass")
	}
	if !strings.Contains(err.Error(), "ConfigMap") || !strings.Contains(err.Error(), "broken") {
		t.Errorf("error %q does not name the object", err)
	}
	// The other ConfigMap of the tier was applied; the workload tier was
	// skipped.
	if len(res) != 1 || res[0].Object.GetName() != "config" {
		t.Errorf("results %d, want only the valid ConfigMap", len(res))
	}
	if st.failed == nil {
		t.Error("the store's pass was not marked failed")
	}
	if got := len(st.recorded); got != 3 {
		t.Errorf("store recorded %d objects, want all 3 desired", got)
	}
	evs := e.rec.Take()
	var warned bool
	for _, ev := range evs {
		if ev.Type == corev1.EventTypeWarning {
			warned = warned || (ev.Reason == eventclient.ReasonCreateFailed && ev.Related.Name == "broken")
			if strings.Contains(ev.Note, "leak-marker-value") || strings.Contains(ev.Note, "bad key") {
				t.Errorf("warning note %q shows ConfigMap contents", ev.Note)
			}
		}
	}
	if !warned {
		t.Errorf("no CreateFailed warning about the broken ConfigMap in %+v", evs)
	}
	if err := b.ReconcileStore(e.ctx); err != nil {
		t.Fatal(err)
	}
	// The store decides not to prune; it must know the pass failed by then.
	if !st.failedAtPrune {
		t.Error("Prune was called without the store knowing the pass failed")
	}
}

func TestOwnershipRules(t *testing.T) {
	e := newEnv(t)
	// A child in another namespace is refused.
	other := configMap("elsewhere", nil)
	other.Namespace = "default"
	if _, err := e.builder().ReconcileConfigMap(e.ctx, other); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("cross-namespace child: err %v", err)
	}
	// An object controlled by someone else is never taken over.
	foreignOwner := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: e.ns}}
	if err := e.admin.Create(e.ctx, foreignOwner); err != nil {
		t.Fatal(err)
	}
	taken := configMap("taken", map[string]string{"k": "theirs"})
	taken.Namespace = e.ns
	taken.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: testv1.GroupVersion.String(), Kind: "Cluster", Name: "other", UID: foreignOwner.UID, Controller: ptr.To(true),
	}}
	if err := e.admin.Create(e.ctx, taken); err != nil {
		t.Fatal(err)
	}
	e.edit(taken, "someone", func() { taken.Annotations = map[string]string{keys.AnnotationAdopt: e.owner.Name} })
	before := taken.ResourceVersion
	e.counter.Reset()
	e.rec.Take()
	res, err := e.builder().ReconcileConfigMap(e.ctx, configMap("taken", map[string]string{"k": "ours"}))
	if err != nil || res.Operation != builder.OperationRefused || res.Reason != builder.ReasonControlledByOther || !res.Requeue {
		t.Errorf("controlled by another owner, even with the adopt annotation: %+v, %v; want Refused, %s, requeue", res, err, builder.ReasonControlledByOther)
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("refusal made %d write requests: %v", n, e.counter.WriteRequests())
	}
	if evs := e.rec.Take(); len(evs) != 1 || evs[0].Type != corev1.EventTypeWarning || evs[0].Reason != builder.ReasonControlledByOther ||
		!strings.Contains(evs[0].Note, "controlled by Cluster other") || !strings.Contains(evs[0].Note, "ConfigMap "+e.ns+"/taken") {
		t.Errorf("refusal events: %+v, want one %s Warning naming the object and its owner", evs, builder.ReasonControlledByOther)
	}
	e.get(taken)
	if taken.Data["k"] != "theirs" || taken.ResourceVersion != before {
		t.Error("the other owner's object was changed")
	}
	// A cluster-scoped kind cannot be a child.
	_, err = e.builder().ReconcileObject(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x-" + e.ns}})
	if err == nil || !strings.Contains(err.Error(), "cluster-scoped") {
		t.Errorf("cluster-scoped child: err %v", err)
	}
}

// fakeStore records what the Builder tells a store.
type fakeStore struct {
	mu            sync.Mutex
	recorded      []client.Object
	failed        error
	failedAtPrune bool
}

func (s *fakeStore) Record(obj client.Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recorded = append(s.recorded, obj)
	return nil
}

func (s *fakeStore) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = errors.Join(s.failed, err)
}

func (s *fakeStore) Prune(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failedAtPrune = s.failed != nil
	return nil
}
