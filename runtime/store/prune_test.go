package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// managedKinds is what a production operator passes to WithKinds: the kinds
// its controller Owns.
func managedKinds() store.Option {
	return store.WithKinds(&corev1.ConfigMap{}, &appsv1.Deployment{}, &corev1.Service{},
		&policyv1.PodDisruptionBudget{}, &corev1.ServiceAccount{})
}

// pass runs one reconcile pass: a new Store (stores live for one pass), every
// desired object recorded, then Reconcile.
func (e *env) pass(owner *testv1.Cluster, c client.Client, desired []client.Object, opts ...store.Option) (store.Result, error) {
	e.t.Helper()
	st, err := store.New(owner, c, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range desired {
		if err := st.Record(o); err != nil {
			e.t.Fatal(err)
		}
	}
	return st.Reconcile(e.t.Context())
}

func (e *env) mustPass(owner *testv1.Cluster, c client.Client, desired []client.Object, opts ...store.Option) store.Result {
	e.t.Helper()
	res, err := e.pass(owner, c, desired, opts...)
	if err != nil {
		e.t.Fatalf("pass: %v", err)
	}
	return res
}

// ids returns the inventory entries of objs, sorted.
func (e *env) ids(objs ...client.Object) []string {
	e.t.Helper()
	var out []string
	for _, o := range objs {
		id, err := store.IDOf(o, testScheme)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

func idStrings(ids []store.ID) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.String())
	}
	slices.Sort(out)
	return out
}

func TestPruneRemovedNodeType(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	e.create(broker...)
	e.create(historical...)
	ec := e.eventClient(e.c)

	res := e.mustPass(cr, ec, append(slices.Clone(broker), historical...), managedKinds())
	if len(res.Pruned) != 0 {
		t.Fatalf("first pass pruned %v; everything was desired", res.Pruned)
	}
	want := e.ids(append(slices.Clone(broker), historical...)...)
	if got := e.reread(cr).Status.Inventory; !slices.Equal(got, want) {
		t.Fatalf("persisted inventory\n got %q\nwant %q", got, want)
	}

	// The user removes the historical node type from the CR.
	cr = e.reread(cr)
	res = e.mustPass(cr, ec, broker, managedKinds())

	e.requireGone(historical...)
	e.requireExists(broker...)
	if got, want := idStrings(res.Pruned), e.ids(historical...); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("persisted inventory after the prune\n got %q\nwant %q", got, want)
	}
	for _, o := range historical {
		ev := e.waitEvent(cr, "Pruned", o.GetName())
		if ev.Type != corev1.EventTypeNormal || ev.Action != "Delete" {
			t.Errorf("Pruned event about %s: type %q action %q, want Normal/Delete", o.GetName(), ev.Type, ev.Action)
		}
	}
}

// A restarted operator knows nothing but what the owner's status says. Kinds
// that only the removed node type used (a ServiceAccount, a StatefulSet-less
// PDB) are not desired at all any more and not in WithKinds: only the
// persisted inventory leads the store to them.
func TestPruneAfterRestartFindsWholeKindsFromInventory(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")[:2] // ConfigMap and Deployment only
	sa := e.own(cr, "historical", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "historical"}})
	pdb := e.nodeType(cr, "historical")[4]
	e.create(broker...)
	e.create(sa, pdb)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, []client.Object{broker[0], broker[1], sa, pdb})

	// "Restart": a fresh owner from the API server and a fresh Store, no
	// WithKinds, nothing carried over in memory.
	restarted := e.reread(cr)
	res := e.mustPass(restarted, ec, broker)

	e.requireGone(sa, pdb)
	e.requireExists(broker...)
	if got, want := idStrings(res.Pruned), e.ids(sa, pdb); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("inventory\n got %q\nwant %q", got, want)
	}
}

// When the inventory is lost as well (status wiped), WithKinds is what still
// finds a kind that is no longer desired.
func TestWholeKindFoundThroughWithKindsWhenInventoryLost(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	cm := e.nodeType(cr, "broker")[0]
	sa := e.own(cr, "historical", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "historical"}})
	e.create(cm, sa)
	ec := e.eventClient(e.c)

	// No inventory and no WithKinds: nothing leads to ServiceAccounts.
	res := e.mustPass(e.reread(cr), ec, []client.Object{cm})
	e.requireExists(sa)
	if len(res.Pruned) != 0 {
		t.Fatalf("pruned %v without any lead to the kind", res.Pruned)
	}

	res = e.mustPass(e.reread(cr), ec, []client.Object{cm}, store.WithKinds(&corev1.ServiceAccount{}))
	e.requireGone(sa)
	if got, want := idStrings(res.Pruned), e.ids(sa); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}
}

func TestNoPruneWhenPassFailed(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	e.create(broker...)
	e.create(historical...)
	ec := e.eventClient(e.c)
	all := append(slices.Clone(broker), historical...)
	e.mustPass(cr, ec, all, managedKinds())

	t.Run("applying an object failed", func(t *testing.T) {
		st, err := store.New(e.reread(cr), ec, managedKinds())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range broker {
			if err := st.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		st.Fail(errors.New("apply StatefulSet historical: admission webhook said no"))
		res, err := st.Reconcile(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != "PassFailed" || len(res.Pruned) != 0 {
			t.Errorf("Result = %+v, want Skipped=PassFailed and nothing pruned", res)
		}
		e.requireExists(all...)
		if got, want := e.reread(cr).Status.Inventory, e.ids(all...); !slices.Equal(got, want) {
			t.Errorf("a failed pass must keep the inventory\n got %q\nwant %q", got, want)
		}
	})

	t.Run("recording an object failed", func(t *testing.T) {
		st, err := store.New(e.reread(cr), ec, managedKinds())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range broker {
			if err := st.Record(o); err != nil {
				t.Fatal(err)
			}
		}
		foreign := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "elsewhere"}}
		if err := st.Record(foreign); err == nil {
			t.Fatal("Record accepted an object outside the owner's namespace")
		}
		res, err := st.Reconcile(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if res.Skipped != "PassFailed" || len(res.Pruned) != 0 {
			t.Errorf("Result = %+v, want Skipped=PassFailed and nothing pruned", res)
		}
		e.requireExists(all...)
	})

	t.Run("the next good pass prunes", func(t *testing.T) {
		e.mustPass(e.reread(cr), ec, broker, managedKinds())
		e.requireGone(historical...)
		e.requireExists(broker...)
	})
}

// Objects that look like the owner's children but are not controlled by it
// survive, even when they are not desired, carry the owner label, and are
// named in a hand-edited inventory.
func TestNeverDeletesLookAlikes(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	other := e.owner("other")
	broker := e.nodeType(cr, "broker")
	e.create(broker...)

	ownerLabel := keys.OwnerLabels(cr.UID)
	noRef := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "historical", Namespace: e.ns, Labels: ownerLabel}}
	otherController := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "historical", Namespace: e.ns, Labels: ownerLabel},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if err := controllerutil.SetControllerReference(other, otherController, testScheme); err != nil {
		t.Fatal(err)
	}
	notController := e.nodeType(cr, "historical")[1].(*appsv1.Deployment)
	notController.OwnerReferences[0].Controller = nil
	otherLabel := e.nodeType(cr, "historical")[4]
	otherLabel.SetLabels(keys.OwnerLabels(other.UID))
	noLabel := e.own(cr, "historical", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "historical"}})
	noLabel.SetLabels(nil)
	lookAlikes := []client.Object{noRef, otherController, notController, otherLabel, noLabel}
	e.create(lookAlikes...)

	// Someone edits the owner's inventory to name them all.
	cr = e.reread(cr)
	cr.Status.Inventory = e.ids(lookAlikes...)
	if err := e.c.Status().Update(t.Context(), cr); err != nil {
		t.Fatal(err)
	}

	res := e.mustPass(e.reread(cr), e.eventClient(e.c), broker, managedKinds())
	e.requireExists(lookAlikes...)
	e.requireExists(broker...)
	if len(res.Pruned)+len(res.Failed) != 0 {
		t.Errorf("Result touched look-alikes: pruned %v, failed %v", res.Pruned, res.Failed)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("look-alikes must leave the inventory\n got %q\nwant %q", got, want)
	}
	for _, r := range e.eventReasons(cr) {
		if strings.HasPrefix(r, "Prune") {
			t.Errorf("unexpected event %s", r)
		}
	}
}

func TestSameNameInTwoKindsDoesNotCollide(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	objs := e.nodeType(cr, "web")[:3] // ConfigMap, Deployment and Service, all named "web"
	e.create(objs...)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, objs)
	if got := len(e.reread(cr).Status.Inventory); got != 3 {
		t.Fatalf("inventory has %d entries for three objects named alike", got)
	}

	svc := objs[2]
	res := e.mustPass(e.reread(cr), ec, []client.Object{svc})
	e.requireExists(svc)
	e.requireGone(objs[0], objs[1])
	if got, want := idStrings(res.Pruned), e.ids(objs[0], objs[1]); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}
}

func TestPVCKeptUnlessOptedIn(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	cm := e.nodeType(cr, "historical")[0]
	pvc := e.own(cr, "historical", &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "segment-cache-historical-0"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	})
	e.create(cm, pvc)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, []client.Object{cm, pvc})

	res := e.mustPass(e.reread(cr), ec, []client.Object{cm})
	e.requireExists(pvc)
	if got, want := idStrings(res.Kept), e.ids(pvc); !slices.Equal(got, want) {
		t.Errorf("Result.Kept\n got %q\nwant %q", got, want)
	}
	if len(res.Pruned) != 0 {
		t.Errorf("pruned %v by default", res.Pruned)
	}
	if got, want := e.reread(cr).Status.Inventory, e.ids(cm); !slices.Equal(got, want) {
		t.Errorf("a kept claim leaves the inventory\n got %q\nwant %q", got, want)
	}

	// Kept once: a later default pass that lists claims does not report it again.
	res = e.mustPass(e.reread(cr), ec, []client.Object{cm}, store.WithKinds(&corev1.PersistentVolumeClaim{}))
	e.requireExists(pvc)
	if len(res.Kept)+len(res.Pruned) != 0 {
		t.Errorf("second default pass: kept %v pruned %v, want neither", res.Kept, res.Pruned)
	}

	res = e.mustPass(e.reread(cr), ec, []client.Object{cm},
		store.WithKinds(&corev1.PersistentVolumeClaim{}), store.WithPVCPruning(true))
	e.requireGone(pvc) // the pvc-protection finalizer may hold it while terminating
	if got, want := idStrings(res.Pruned), e.ids(pvc); !slices.Equal(got, want) {
		t.Errorf("opted in: Result.Pruned\n got %q\nwant %q", got, want)
	}
}

// While the owner is being deleted the garbage collector removes its
// children; the store stays out of its way.
func TestNoPruneWhileOwnerIsDeleted(t *testing.T) {
	e := newEnv(t)
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "druid", Namespace: e.ns, Finalizers: []string{"test.opbuilder.io/hold"}}}
	e.create(cr)
	cr = e.reread(cr)
	historical := e.nodeType(cr, "historical")
	e.create(historical...)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, historical)
	if err := e.c.Delete(t.Context(), cr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // t.Context is done by now
		ctx := context.Background()
		cur := &testv1.Cluster{}
		if err := e.c.Get(ctx, client.ObjectKeyFromObject(cr), cur); err != nil {
			t.Error(err)
			return
		}
		cur.Finalizers = nil
		if err := e.c.Update(ctx, cur); err != nil {
			t.Error(err)
		}
	})

	res := e.mustPass(e.reread(cr), ec, nil, managedKinds())
	if res.Skipped != "OwnerDeleting" || len(res.Pruned) != 0 {
		t.Errorf("Result = %+v, want Skipped=OwnerDeleting and nothing pruned", res)
	}
	e.requireExists(historical...)
}

// staleReader lists through a client but answers with an older copy of the
// objects in stale (by UID), as a cache that has not yet seen their latest
// change does.
type staleReader struct {
	client.Reader
	stale map[types.UID]client.Object
}

func (r staleReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := r.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for i, item := range items {
		if obj, ok := item.(client.Object); ok && r.stale[obj.GetUID()] != nil {
			items[i] = r.stale[obj.GetUID()].DeepCopyObject()
		}
	}
	return meta.SetList(list, items)
}

// TestStaleCacheNeverDeletesAReleasedObject: a user takes a ConfigMap of a
// node type over by removing its owner reference, a moment before the node
// type is removed, and the store reads a cache that still shows the
// reference. Rule 8's resourceVersion precondition keeps the user's object;
// the node type's other children are pruned.
func TestStaleCacheNeverDeletesAReleasedObject(t *testing.T) {
	e := newEnv(t)
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	e.create(broker...)
	e.create(historical...)
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, append(slices.Clone(broker), historical...), managedKinds())

	released := historical[0].(*corev1.ConfigMap)
	stale := released.DeepCopy()
	if err := e.c.Get(t.Context(), client.ObjectKeyFromObject(released), stale); err != nil {
		t.Fatal(err)
	}
	mine := stale.DeepCopy()
	mine.OwnerReferences = nil
	if err := e.c.Update(t.Context(), mine); err != nil {
		t.Fatal(err)
	}

	reader := staleReader{Reader: e.c, stale: map[types.UID]client.Object{stale.UID: stale}}
	res := e.mustPass(e.reread(cr), ec, broker, managedKinds(), store.WithReader(reader))
	e.requireExists(released)
	e.requireGone(historical[1:]...)
	var cm corev1.ConfigMap
	if err := e.c.Get(t.Context(), client.ObjectKeyFromObject(released), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.ResourceVersion != mine.ResourceVersion {
		t.Errorf("the released ConfigMap was written: resourceVersion %s, want %s", cm.ResourceVersion, mine.ResourceVersion)
	}
	if slices.Contains(idStrings(res.Pruned), e.ids(released)[0]) {
		t.Errorf("Result.Pruned names the released ConfigMap: %v", res.Pruned)
	}

	// The next pass reads the object as it is now: not the owner's, so it
	// is left alone and leaves the inventory.
	e.mustPass(e.reread(cr), ec, broker, managedKinds())
	e.requireExists(released)
	if got, want := e.reread(cr).Status.Inventory, e.ids(broker...); !slices.Equal(got, want) {
		t.Errorf("inventory\n got %q\nwant %q", got, want)
	}
}
