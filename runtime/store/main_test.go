package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/internal/testapi/crd"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// The control plane is shared by every test of the package and started on
// first use, so the unit tests run without the binaries.
var (
	testScheme = testenv.Scheme()
	shared     = testenv.NewShared(func() ([]testcluster.Option, error) {
		return []testcluster.Option{testcluster.WithCRDs(crd.Dir()), testcluster.WithScheme(testScheme)}, nil
	})
)

func TestMain(m *testing.M) {
	os.Exit(shared.Main(m))
}

func cluster(t *testing.T) *testcluster.Cluster {
	t.Helper()
	return shared.Cluster(t)
}

// env is one test's corner of the shared cluster: its own namespace, an
// owner, and an event recorder.
type env struct {
	t        *testing.T
	c        client.Client // uncached admin client
	ns       string
	recorder events.EventRecorder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tc := cluster(t)
	ns := testenv.Namespace(t, tc.Client, "store-")
	cs, err := kubernetes.NewForConfig(tc.Config)
	if err != nil {
		t.Fatal(err)
	}
	b := events.NewBroadcaster(&events.EventSinkImpl{Interface: cs.EventsV1()})
	stop := make(chan struct{})
	b.StartRecordingToSink(stop)
	t.Cleanup(func() { close(stop); b.Shutdown() })
	return &env{t: t, c: tc.Client, ns: ns, recorder: b.NewRecorder(testScheme, "store-test")}
}

// owner creates a test Cluster and returns it as read back from the API
// server, with its UID.
func (e *env) owner(name string) *testv1.Cluster {
	e.t.Helper()
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns}}
	if err := e.c.Create(e.t.Context(), cr); err != nil {
		e.t.Fatal(err)
	}
	return e.reread(cr)
}

// reread returns a fresh copy of the owner from the API server, as a
// restarted operator would see it.
func (e *env) reread(cr *testv1.Cluster) *testv1.Cluster {
	e.t.Helper()
	out := &testv1.Cluster{}
	if err := e.c.Get(e.t.Context(), client.ObjectKeyFromObject(cr), out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// eventClient wraps c so deletes record events on owner.
func (e *env) eventClient(c client.Client) client.Client {
	e.t.Helper()
	ec, err := eventclient.New(c, e.recorder)
	if err != nil {
		e.t.Fatal(err)
	}
	return ec
}

// own makes obj a child of owner the way runtime/builder does: owner label,
// standard labels and a controller owner reference.
func (e *env) own(owner *testv1.Cluster, component string, obj client.Object) client.Object {
	e.t.Helper()
	obj.SetNamespace(e.ns)
	obj.SetLabels(keys.Merge(obj.GetLabels(),
		keys.StandardLabels("test", owner.Name, component, "store-test"),
		keys.OwnerLabels(owner.UID)))
	if err := controllerutil.SetControllerReference(owner, obj, testScheme); err != nil {
		e.t.Fatal(err)
	}
	return obj
}

// create creates every object.
func (e *env) create(objs ...client.Object) {
	e.t.Helper()
	for _, o := range objs {
		if err := e.c.Create(e.t.Context(), o); err != nil {
			e.t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

// nodeType returns what a node type of a data system consists of: its
// ConfigMap, workload, client and headless Services and PDB, owned by owner.
func (e *env) nodeType(owner *testv1.Cluster, name string) []client.Object {
	sel := map[string]string{"node-type": name}
	return []client.Object{
		e.own(owner, name, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"runtime.properties": "x=1"}}),
		e.own(owner, name, &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: sel},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: sel},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.invalid/druid:1"}}},
				},
			},
		}),
		e.own(owner, name, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Port: 8080}}},
		}),
		e.own(owner, name, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-headless"},
			Spec:       corev1.ServiceSpec{Selector: sel, ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 8080}}},
		}),
		e.own(owner, name, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: policyv1.PodDisruptionBudgetSpec{
				Selector:       &metav1.LabelSelector{MatchLabels: sel},
				MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			},
		}),
	}
}

// gone reports whether obj no longer exists or is being deleted.
func (e *env) gone(obj client.Object) bool {
	e.t.Helper()
	cur := obj.DeepCopyObject().(client.Object)
	err := e.c.Get(e.t.Context(), client.ObjectKeyFromObject(obj), cur)
	if apierrors.IsNotFound(err) {
		return true
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return cur.GetDeletionTimestamp() != nil
}

// requireGone fails unless every object is deleted (or being deleted).
func (e *env) requireGone(objs ...client.Object) {
	e.t.Helper()
	for _, o := range objs {
		if !e.gone(o) {
			e.t.Errorf("%T %s still exists; it should have been pruned", o, o.GetName())
		}
	}
}

// requireExists fails unless every object exists and is not being deleted.
func (e *env) requireExists(objs ...client.Object) {
	e.t.Helper()
	for _, o := range objs {
		if e.gone(o) {
			e.t.Errorf("%T %s was deleted; it must survive", o, o.GetName())
		}
	}
}

// waitEvent waits until an events.k8s.io/v1 Event with reason, about owner
// and related to an object named related, exists, and returns it.
func (e *env) waitEvent(owner client.Object, reason, related string) eventsv1.Event {
	e.t.Helper()
	var found eventsv1.Event
	err := wait.PollUntilContextTimeout(e.t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var list eventsv1.EventList
		if err := e.c.List(ctx, &list, client.InNamespace(e.ns)); err != nil {
			return false, err
		}
		for _, ev := range list.Items {
			if ev.Reason == reason && ev.Regarding.UID == owner.GetUID() && ev.Related != nil && ev.Related.Name == related {
				found = ev
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("no %s event about %s: %v", reason, related, err)
	}
	return found
}

// eventReasons returns the reasons of all events about owner so far.
func (e *env) eventReasons(owner client.Object) []string {
	e.t.Helper()
	var list eventsv1.EventList
	if err := e.c.List(e.t.Context(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.Regarding.UID == owner.GetUID() {
			out = append(out, ev.Reason+":"+ev.Related.Name)
		}
	}
	return out
}
