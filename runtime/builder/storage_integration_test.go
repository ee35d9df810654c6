package builder_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// storageEnv is a StatefulSet "db" with one replica whose claim data-db-0
// binds to a pre-created volume of a StorageClass that allows expansion or
// not: enough for kube-apiserver to accept or refuse a resize (no
// provisioner runs, so capacity never grows by itself).
type storageEnv struct {
	*env
	class string
}

func newStorageEnv(t *testing.T, expandable bool) *storageEnv {
	e := newEnv(t)
	return &storageEnv{env: e, class: e.volumeFor("data-db-0", expandable)}
}

// volumeFor makes a StorageClass of its own for e's namespace, which allows
// volume expansion or not, and a 10Gi volume of that class bound in advance
// to the claim named claim, and returns the class's name. Only a bound claim
// of an expandable class may grow; no provisioner runs.
func (e *env) volumeFor(claim string, expandable bool) string {
	e.t.Helper()
	sc := &storagev1.StorageClass{
		ObjectMeta:           metav1.ObjectMeta{Name: "class-" + e.ns},
		Provisioner:          "example.com/none",
		AllowVolumeExpansion: ptr.To(expandable),
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-" + e.ns},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName:              sc.Name,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + e.ns}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: e.ns, Name: claim},
		},
	}
	for _, o := range []client.Object{sc, pv} {
		if err := e.admin.Create(e.ctx, o); err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { _ = e.admin.Delete(context.Background(), o) })
	}
	return sc.Name
}

// objects are the desired objects: the StatefulSet with storage, and the
// ConfigMap and Secret its pods consume. The StatefulSet's result is the
// last of a pass.
func (e *storageEnv) objects(storage string) []client.Object {
	sts := statefulSet(storage)
	sts.Spec.Replicas = ptr.To[int32](1)
	sts.Spec.VolumeClaimTemplates[0].Spec.StorageClassName = ptr.To(e.class)
	return []client.Object{
		configMap("config", map[string]string{"runtime.properties": "a=1\n"}),
		secret(map[string]string{"PASSWORD": "s3cr3t-value"}),
		sts,
	}
}

// reconcileStatefulSet runs one pass and returns the StatefulSet's result.
func (e *storageEnv) reconcileStatefulSet(storage string) builder.Result {
	e.t.Helper()
	res := e.reconcileAll(e.objects(storage)...)
	return res[len(res)-1]
}

// install reconciles the StatefulSet with storage and waits for its claim to
// bind.
func (e *storageEnv) install(storage string) (*appsv1.StatefulSet, *corev1.PersistentVolumeClaim) {
	e.t.Helper()
	e.reconcileAll(e.objects(storage)...)
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-db-0", Namespace: e.ns}}
	e.eventually("the claim to bind", func(ctx context.Context) (bool, error) {
		err := e.admin.Get(ctx, client.ObjectKeyFromObject(claim), claim)
		return err == nil && claim.Status.Phase == corev1.ClaimBound, nil
	})
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: e.ns}}
	e.get(sts)
	return sts, claim
}

func storageOf(c *corev1.PersistentVolumeClaim) resource.Quantity {
	return c.Spec.Resources.Requests[corev1.ResourceStorage]
}

// TestStatefulSetStorageGrowsItsClaims: storage rule 1. A bigger template
// grows the existing claim, then recreates the StatefulSet with the bigger
// template; the claim is kept, and the next pass writes nothing.
func TestStatefulSetStorageGrowsItsClaims(t *testing.T) {
	e := newStorageEnv(t, true)
	sts, claim := e.install("1Gi")
	oldUID, claimUID := sts.UID, claim.UID

	e.rec.Take()
	e.reconcileUntilSettled(e.objects("2Gi")...)
	e.get(claim)
	if got := storageOf(claim); got.Cmp(resource.MustParse("2Gi")) != 0 || claim.UID != claimUID {
		t.Errorf("claim data-db-0: request %s (uid kept %t), want 2Gi on the same claim", got.String(), claim.UID == claimUID)
	}
	e.get(sts)
	if got := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; sts.UID == oldUID || got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("StatefulSet: recreated %t, template storage %s; want recreated with 2Gi", sts.UID != oldUID, got.String())
	}
	var updated, recreated bool
	for _, ev := range e.rec.Take() {
		updated = updated || (ev.Reason == eventclient.ReasonUpdated && strings.Contains(ev.Note, "data-db-0"))
		recreated = recreated || ev.Reason == eventclient.ReasonRecreated
	}
	if !updated || !recreated {
		t.Errorf("events: claim Updated %t, StatefulSet Recreated %t; want both", updated, recreated)
	}
	e.expectNoWrites(e.objects("2Gi")...)
}

// TestStatefulSetStorageNeverShrinks: storage rule 2. A smaller template is
// refused: nothing is written, one Warning per desired state.
func TestStatefulSetStorageNeverShrinks(t *testing.T) {
	e := newStorageEnv(t, true)
	sts, claim := e.install("2Gi")
	for i := range 2 {
		e.counter.Reset()
		e.rec.Take()
		res := e.reconcileStatefulSet("1Gi")
		if res.Operation != builder.OperationBlocked || res.Reason != builder.ReasonUpdateRejected || !strings.Contains(res.Message, "shrink") {
			t.Errorf("pass %d: %s, want Blocked: cannot shrink", i, summary(res))
		}
		if n := e.counter.Writes(); n != 0 {
			t.Errorf("pass %d: %d writes, want none: %v", i, n, e.counter.WriteRequests())
		}
		if evs, want := e.rec.Take(), 1-i; len(evs) != want {
			t.Errorf("pass %d: events %+v, want %d Warning", i, evs, want)
		}
	}
	uid := sts.UID
	e.get(sts)
	e.get(claim)
	if got := storageOf(claim); sts.UID != uid || got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("after a refused shrink: StatefulSet recreated %t, claim %s; want neither changed", sts.UID != uid, got.String())
	}
}

// TestStatefulSetStorageOfAClassThatCannotExpand: storage rule 3. The API
// server refuses the claim's resize: the StatefulSet is blocked with its
// template unchanged, after one failed patch and one Warning, and later
// passes write nothing.
func TestStatefulSetStorageOfAClassThatCannotExpand(t *testing.T) {
	e := newStorageEnv(t, false)
	sts, claim := e.install("1Gi")

	e.counter.Reset()
	e.rec.Take()
	res := e.reconcileStatefulSet("2Gi")
	if res.Operation != builder.OperationBlocked || res.Reason != builder.ReasonStorageResizeRefused {
		t.Fatalf("grow on a class that cannot expand: %s, want Blocked with %s", summary(res), builder.ReasonStorageResizeRefused)
	}
	if w := e.counter.WriteRequests(); len(w) != 1 || !strings.Contains(w[0], "PATCH") || !strings.Contains(w[0], "data-db-0") {
		t.Errorf("writes %v, want the one refused PATCH of the claim", w)
	}
	var warnings int
	for _, ev := range e.rec.Take() {
		if ev.Type == corev1.EventTypeWarning {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d Warnings, want 1", warnings)
	}

	for i := range 2 {
		e.counter.Reset()
		e.rec.Take()
		if res := e.reconcileStatefulSet("2Gi"); res.Operation != builder.OperationBlocked {
			t.Errorf("pass %d: %s, want still Blocked", i, summary(res))
		}
		if n := e.counter.Writes(); n != 0 {
			t.Errorf("pass %d: %d writes, want none: %v", i, n, e.counter.WriteRequests())
		}
		if evs := e.rec.Take(); len(evs) != 0 {
			t.Errorf("pass %d: events %+v, want none", i, evs)
		}
	}
	uid := sts.UID
	e.get(sts)
	e.get(claim)
	if got := storageOf(claim); sts.UID != uid || got.Cmp(resource.MustParse("1Gi")) != 0 {
		t.Errorf("StatefulSet recreated %t, claim %s; want neither changed", sts.UID != uid, got.String())
	}
}
