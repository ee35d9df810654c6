package orchestrate_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// withStorage is nodeTypes with a data volume of *size on c's StatefulSet,
// of storage class class.
func withStorage(class string, size *atomic.Value) []orchestrate.NodeType[*testv1.Cluster] {
	nts := nodeTypes()
	build := nts[2].Build
	nts[2].Build = func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		for _, g := range groups {
			for _, obj := range g.Objects {
				if sts, ok := obj.(*appsv1.StatefulSet); ok {
					sts.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
						ObjectMeta: metav1.ObjectMeta{Name: "data"},
						Spec: corev1.PersistentVolumeClaimSpec{
							AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
							StorageClassName: ptr.To(class),
							Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
								corev1.ResourceStorage: resource.MustParse(size.Load().(string)),
							}},
						},
					}}
				}
			}
		}
		return groups, err
	}
	return nts
}

// TestGrownStorageIsReportedUntilTheClaimsHaveIt grows c's data volume: the
// claims get the new request, c says StorageResizing and the CR is not Ready
// until their capacity reaches it (set here by hand: no storage driver runs),
// and c's pods are kept.
func TestGrownStorageIsReportedUntilTheClaimsHaveIt(t *testing.T) {
	class := "expandable-" + rand.String(6)
	var size atomic.Value
	size.Store("1Gi")
	e := newEnvWith(t, orchestrate.Config{}, withStorage(class, &size))
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: "example.com/none", AllowVolumeExpansion: ptr.To(true)}
	objs := []client.Object{sc}
	for i := range 2 {
		objs = append(objs, &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", class, i)},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName:              class,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp/" + class}},
				ClaimRef:                      &corev1.ObjectReference{Namespace: e.ns, Name: fmt.Sprintf("data-%s-c-%d", crName, i)},
			},
		})
	}
	for _, o := range objs {
		if err := e.c.Create(e.ctx(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.c.Delete(context.Background(), o) })
	}
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	claims := func() []corev1.PersistentVolumeClaim {
		t.Helper()
		var list corev1.PersistentVolumeClaimList
		if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	if n := len(claims()); n != 2 {
		t.Fatalf("%d claims, want 2", n)
	}
	var pods corev1.PodList
	if err := e.c.List(e.ctx(), &pods, client.InNamespace(e.ns), client.MatchingLabels{"app.kubernetes.io/component": "c"}); err != nil {
		t.Fatal(err)
	}

	size.Store("2Gi")
	e.poke()
	cr := e.waitFor("c resizing", func(cr *testv1.Cluster) bool {
		return meta.IsStatusConditionTrue(nodeTypeConditions(cr, "c"), orchestrate.ConditionStorageResizing)
	})
	if r := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady); r == nil || r.Status != metav1.ConditionFalse || r.Reason != orchestrate.ReasonStorageResizing {
		t.Errorf("Ready while resizing: %+v, want False with %s", r, orchestrate.ReasonStorageResizing)
	}
	// Grow them as a storage driver's resizer would: the volume first (the
	// volume controller would otherwise set the claim's capacity back from
	// it), then the claim's status.
	for _, claim := range claims() {
		if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
			t.Errorf("claim %s requests %s, want 2Gi", claim.Name, got.String())
		}
		grown := corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}
		var pv corev1.PersistentVolume
		if err := e.c.Get(e.ctx(), client.ObjectKey{Name: claim.Spec.VolumeName}, &pv); err != nil {
			t.Fatal(err)
		}
		pv.Spec.Capacity = grown
		if err := e.c.Update(e.ctx(), &pv); err != nil {
			t.Fatal(err)
		}
		claim.Status.Capacity = grown
		if err := e.c.Status().Update(e.ctx(), &claim); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("ready once the claims have grown", func(cr *testv1.Cluster) bool {
		return ready(cr) && meta.FindStatusCondition(nodeTypeConditions(cr, "c"), orchestrate.ConditionStorageResizing) == nil
	})
	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName + "-c"}, &sts); err != nil {
		t.Fatal(err)
	}
	if got := sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("c's template requests %s, want 2Gi", got.String())
	}
	for _, p := range pods.Items {
		var now corev1.Pod
		if err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(&p), &now); err != nil || now.UID != p.UID {
			t.Errorf("pod %s was replaced (%v): the resize must keep c's pods", p.Name, err)
		}
	}
	e.requireSteady()
}

// TestStatusInheritedFromAnEarlierStatefulSetStillCountsAsRolledOut: a
// StatefulSet recreated under its name can be left with its predecessor's
// status, whose observedGeneration is ahead of its own generation, and which
// its controller never lowers while the pods stay as they are. When the
// revision that status names has the live pod template, the node type is
// still rolled out and the CR Ready.
func TestStatusInheritedFromAnEarlierStatefulSetStillCountsAsRolledOut(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)

	key := client.ObjectKey{Namespace: e.ns, Name: crName + "-c"}
	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), key, &sts); err != nil {
		t.Fatal(err)
	}
	// What the controller's retried status write of a deleted predecessor
	// leaves behind.
	sts.Status.ObservedGeneration = sts.Generation + 1
	if err := e.c.Status().Update(e.ctx(), &sts); err != nil {
		t.Fatal(err)
	}
	// Passes of one CR run one after the other: once the second has seen its
	// poke, the first one's status is written.
	e.poke()
	e.poke()
	var cr testv1.Cluster
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName}, &cr); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Get(e.ctx(), key, &sts); err != nil {
		t.Fatal(err)
	}
	if sts.Status.ObservedGeneration <= sts.Generation {
		t.Skipf("the StatefulSet controller rewrote the status (observedGeneration %d, generation %d): nothing inherited to judge", sts.Status.ObservedGeneration, sts.Generation)
	}
	if !ready(&cr) {
		t.Errorf("not Ready with c's inherited status that describes its pods:\n%s", describeStatus(&cr))
	}
	e.requireSteady()
}
