package builder_test

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// reconcileUntilSettled reconciles objs until no result is Recreating (the
// owner's Owns watch would trigger these passes in a controller).
func (e *env) reconcileUntilSettled(objs ...client.Object) []builder.Result {
	e.t.Helper()
	var all []builder.Result
	e.eventually("the recreate to finish", func(context.Context) (bool, error) {
		res := e.reconcileAll(objs...)
		all = append(all, res...)
		for _, r := range res {
			if r.Operation == builder.OperationRecreating {
				return false, nil
			}
		}
		return true, nil
	})
	return all
}

func TestStatefulSetImmutableChangeRecreatesWithOrphan(t *testing.T) {
	e := newEnv(t)
	// tier labels the claims the StatefulSet makes from now on, a change of
	// volumeClaimTemplates other than a storage request.
	objs := func(tier string) []client.Object {
		sts := statefulSet("1Gi")
		if tier != "" {
			sts.Spec.VolumeClaimTemplates[0].Labels = map[string]string{"tier": tier}
		}
		return []client.Object{
			configMap("config", map[string]string{"runtime.properties": "a=1\n", "log.level": "info"}),
			secret(map[string]string{"PASSWORD": "s3cr3t-value"}),
			sts,
		}
	}
	e.reconcileAll(objs("")...)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: e.ns}}
	e.get(sts)
	oldUID := sts.UID
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-0", Namespace: e.ns}}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-db-0", Namespace: e.ns}}
	e.eventually("the StatefulSet's first pod and claim", func(ctx context.Context) (bool, error) {
		return e.admin.Get(ctx, client.ObjectKeyFromObject(pod), pod) == nil &&
			e.admin.Get(ctx, client.ObjectKeyFromObject(claim), claim) == nil, nil
	})
	podUID, claimUID := pod.UID, claim.UID

	// volumeClaimTemplates cannot be updated: a change recreates.
	e.rec.Take()
	res := e.reconcileUntilSettled(objs("hot")...)
	var recreated bool
	for _, r := range res {
		if r.Object != nil && r.Object.GetName() == "db" {
			t.Logf("StatefulSet: %s", summary(r))
		}
		if r.Object != nil && r.Object.GetName() == "db" && (r.Operation == builder.OperationRecreated || r.Operation == builder.OperationCreated) {
			recreated = true
		}
	}
	if !recreated {
		t.Fatalf("no recreate in %d results", len(res))
	}
	e.get(sts)
	if sts.UID == oldUID {
		t.Fatal("the StatefulSet was not recreated")
	}
	if got := sts.Spec.VolumeClaimTemplates[0].Labels["tier"]; got != "hot" {
		t.Errorf("new volumeClaimTemplate labels %v, want tier=hot", sts.Spec.VolumeClaimTemplates[0].Labels)
	}
	if got := reasons(e.rec.Take(), "db"); len(got) == 0 || got[0] != eventclient.ReasonRecreated {
		t.Errorf("events about the StatefulSet: %v, want Recreated first", got)
	}
	// The pod and the claim survived, and the new StatefulSet adopts the pod.
	e.eventually("the new StatefulSet to adopt the pod", func(ctx context.Context) (bool, error) {
		if err := e.admin.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		ref := metav1.GetControllerOf(pod)
		return ref != nil && ref.UID == sts.UID, nil
	})
	if pod.UID != podUID {
		t.Error("the pod was replaced, want it kept")
	}
	e.get(claim)
	if claim.UID != claimUID || claim.DeletionTimestamp != nil {
		t.Error("the claim was deleted, want it kept")
	}
	e.expectNoWrites(objs("hot")...)
}

func TestDeploymentSelectorChangeRecreates(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(append(podConfig(), deployment("nginx:1.27", ptr.To[int32](1)))...)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.get(dep)
	oldUID := dep.UID
	var oldRS appsv1.ReplicaSet
	e.eventually("the Deployment's ReplicaSet", func(ctx context.Context) (bool, error) {
		var list appsv1.ReplicaSetList
		if err := e.admin.List(ctx, &list, client.InNamespace(e.ns)); err != nil || len(list.Items) == 0 {
			return false, err
		}
		oldRS = list.Items[0]
		return true, nil
	})

	changed := deployment("nginx:1.27", ptr.To[int32](1))
	changed.Spec.Selector.MatchLabels = map[string]string{"app": "web-v2"}
	changed.Spec.Template.Labels = map[string]string{"app": "web-v2"}
	e.rec.Take()
	e.reconcileUntilSettled(changed)
	e.get(dep)
	if dep.UID == oldUID || dep.Spec.Selector.MatchLabels["app"] != "web-v2" {
		t.Fatalf("Deployment not recreated with the new selector: uid changed %t, selector %v", dep.UID != oldUID, dep.Spec.Selector)
	}
	if got := reasons(e.rec.Take(), "web"); len(got) == 0 || got[0] != eventclient.ReasonRecreated {
		t.Errorf("events about the Deployment: %v, want Recreated first", got)
	}
	// The new selector does not match the old ReplicaSet's pods, so no
	// Deployment could adopt it: it goes with the old Deployment instead of
	// running on, stranded, behind the Services.
	e.eventually("the old ReplicaSet to go", func(ctx context.Context) (bool, error) {
		err := e.admin.Get(ctx, client.ObjectKeyFromObject(&oldRS), &appsv1.ReplicaSet{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	e.expectNoWrites(changed)
}

// TestStatefulSetSelectorChangeThatStrandsPodsIsBlocked: a new StatefulSet
// whose selector does not match the old pods could neither adopt them nor
// create its own pods (same names), so the change is refused, with nothing
// written.
func TestStatefulSetSelectorChangeThatStrandsPodsIsBlocked(t *testing.T) {
	e := newEnv(t)
	objs := func(app string) []client.Object {
		sts := statefulSet("1Gi")
		if app != "" {
			sts.Spec.Selector.MatchLabels = map[string]string{"app": app}
			sts.Spec.Template.Labels = map[string]string{"app": app}
		}
		return append(podConfig(), sts)
	}
	e.reconcileAll(objs("")...)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: e.ns}}
	e.get(sts)
	e.counter.Reset()
	res := e.reconcileAll(objs("db-v2")...)
	if last := res[len(res)-1]; last.Operation != builder.OperationBlocked || !strings.Contains(last.Message, "selector") {
		t.Errorf("selector change: %s, want Blocked naming the selector", summary(last))
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("%d writes, want none: %v", n, e.counter.WriteRequests())
	}
	uid := sts.UID
	e.get(sts)
	if sts.UID != uid || sts.DeletionTimestamp != nil {
		t.Error("the StatefulSet was deleted or recreated")
	}
}

func TestPersistentVolumeClaimGrowsButNeverShrinks(t *testing.T) {
	e := newEnv(t)
	class := e.volumeFor("data", true)
	desired := func(storage string) *corev1.PersistentVolumeClaim {
		c := pvc("data", storage)
		c.Spec.StorageClassName = ptr.To(class)
		return c
	}
	e.reconcileAll(desired("1Gi"))
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: e.ns}}
	e.eventually("the claim to bind", func(ctx context.Context) (bool, error) {
		err := e.admin.Get(ctx, client.ObjectKeyFromObject(claim), claim)
		return err == nil && claim.Status.Phase == corev1.ClaimBound, err
	})
	e.expectNoWrites(desired("1Gi"))

	// Growing is applied.
	res := e.reconcileAll(desired("2Gi"))
	if res[0].Operation != builder.OperationUpdated {
		t.Fatalf("grow: %s, want Updated", summary(res[0]))
	}
	e.get(claim)
	if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Fatalf("storage request %s, want 2Gi", got.String())
	}
	e.expectNoWrites(desired("2Gi"))

	// Shrinking and changing the access modes are refused without an error
	// and without a write, every time, with one Warning per desired state:
	// the same refusal again records none.
	shrunk := desired("1Gi")
	modes := desired("2Gi")
	modes.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	for i, d := range []*corev1.PersistentVolumeClaim{shrunk, shrunk, modes} {
		e.counter.Reset()
		e.rec.Take()
		r, err := e.builder().ReconcilePersistentVolumeClaim(e.ctx, d)
		if err != nil {
			t.Fatalf("refused change returned an error: %v", err)
		}
		if r.Operation != builder.OperationBlocked || r.Message == "" || r.Reason != builder.ReasonUpdateRejected {
			t.Errorf("refused change: %s, want Blocked with a message and reason %s", summary(r), builder.ReasonUpdateRejected)
		}
		if n := e.counter.Writes(); n != 0 {
			t.Errorf("refused change made %d writes: %v", n, e.counter.WriteRequests())
		}
		evs := e.rec.Take()
		wantEvents := 1
		if i == 1 {
			wantEvents = 0
		}
		if len(evs) != wantEvents || (wantEvents == 1 && (evs[0].Type != corev1.EventTypeWarning || evs[0].Reason != builder.ReasonUpdateRejected)) {
			t.Errorf("refused change %d recorded %+v, want %d UpdateRejected Warning", i, evs, wantEvents)
		}
	}
	e.get(claim)
	if got := claim.Spec.Resources.Requests[corev1.ResourceStorage]; got.Cmp(resource.MustParse("2Gi")) != 0 {
		t.Errorf("storage request %s, want 2Gi kept", got.String())
	}
}
