package orchestrate_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// autoscaled wraps a node type's build so that each group's StatefulSet also
// has a HorizontalPodAutoscaler, with minReplicas at the group's replicas:
// left in place, it would scale a draining StatefulSet back up.
func autoscaled(nt orchestrate.NodeType[*testv1.Cluster]) orchestrate.NodeType[*testv1.Cluster] {
	build := nt.Build
	nt.Build = func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		for i := range groups {
			for _, obj := range groups[i].Objects {
				sts, ok := obj.(*appsv1.StatefulSet)
				if !ok {
					continue
				}
				groups[i].Objects = append(groups[i].Objects, &autoscalingv2.HorizontalPodAutoscaler{
					ObjectMeta: metav1.ObjectMeta{Name: sts.Name},
					Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
						ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name},
						MinReplicas:    sts.Spec.Replicas,
						MaxReplicas:    ptr.Deref(sts.Spec.Replicas, 1) + 1,
					},
				})
				break
			}
		}
		return groups, err
	}
	return nt
}

// children returns the CR's children, "Kind/name" to UID, of every kind the
// test operator owns.
func (e *env) children() map[string]types.UID {
	e.t.Helper()
	out := map[string]types.UID{}
	for _, list := range []client.ObjectList{
		&appsv1.StatefulSetList{}, &appsv1.DeploymentList{}, &corev1.ConfigMapList{}, &corev1.SecretList{},
		&corev1.ServiceList{}, &policyv1.PodDisruptionBudgetList{}, &autoscalingv2.HorizontalPodAutoscalerList{},
	} {
		if err := e.c.List(e.ctx(), list, client.InNamespace(e.ns), client.HasLabels{keys.LabelOwnerUID}); err != nil {
			e.t.Fatal(err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, it := range items {
			obj := it.(client.Object)
			out[e.id(obj)] = obj.GetUID()
		}
	}
	return out
}

// id names a child as children does.
func (e *env) id(obj client.Object) string {
	e.t.Helper()
	gvk, err := apiutil.GVKForObject(obj, testScheme)
	if err != nil {
		e.t.Fatal(err)
	}
	return gvk.Kind + "/" + obj.GetName()
}

// requireKept fails unless each of objs exists, is the object it was
// (same UID as in before), is not being deleted and is still controlled by
// the CR.
func (e *env) requireKept(during string, before map[string]types.UID, objs ...client.Object) {
	e.t.Helper()
	var cr testv1.Cluster
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName}, &cr); err != nil {
		e.t.Fatal(err)
	}
	for _, obj := range objs {
		id := e.id(obj)
		err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(obj), obj)
		switch {
		case apierrors.IsNotFound(err):
			e.t.Errorf("%s: %s is gone, want it kept while the group's pods drain", during, id)
		case err != nil:
			e.t.Fatal(err)
		case obj.GetUID() != before[id]:
			e.t.Errorf("%s: %s was replaced (UID %s, was %s)", during, id, obj.GetUID(), before[id])
		case obj.GetDeletionTimestamp() != nil:
			e.t.Errorf("%s: %s is being deleted", during, id)
		case !metav1.IsControlledBy(obj, &cr):
			e.t.Errorf("%s: %s is no longer controlled by the CR: %v", during, id, obj.GetOwnerReferences())
		}
	}
}

// gone reports whether obj no longer exists.
func (e *env) gone(obj client.Object) error {
	err := e.c.Get(e.ctx(), client.ObjectKeyFromObject(obj), obj)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	return fmt.Errorf("%T %s still exists", obj, obj.GetName())
}

// Removing a group of a node type with a BeforeRemove hook keeps its Service
// and PodDisruptionBudget while its pods drain, so clients still reach the
// pods that serve and the budget still protects them; its autoscaler goes
// at once, so it cannot scale the drain back up. Everything of the group
// goes once its last pod is gone, and nothing else.
func TestBeforeRemoveKeepsARemovedGroupsObjectsUntilItsLastPod(t *testing.T) {
	gate := newAppGate()
	nts := hookedNodeTypes("a", gate)
	nts[0] = autoscaled(nts[0])
	e := newEnvWith(t, orchestrate.Config{OwnedKinds: []client.Object{&autoscalingv2.HorizontalPodAutoscaler{}}}, nts)
	e.createCluster(spec())
	e.waitFor("Ready", ready)
	cold := crName + "-a-cold"
	before := e.children()
	for _, kind := range []string{"StatefulSet", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"} {
		if _, ok := before[kind+"/"+cold]; !ok {
			t.Fatalf("group cold has no %s %s before its removal; children: %v", kind, cold, slices.Sorted(maps.Keys(before)))
		}
	}
	service := func() client.Object {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: cold}}
	}
	pdb := func() client.Object {
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: cold}}
	}

	gate.set(gate.keep, cold+"-1", true)
	e.update(func(cr *testv1.Cluster) { cr.Spec.NodeTypes[0].Groups = []string{"hot"} })
	e.waitFor("cold's removal to wait on pod 1", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "a", orchestrate.ConditionProgressing)
		return cond != nil && cond.Reason == orchestrate.ReasonRemovingPods && strings.Contains(cond.Message, cold+"-1")
	})
	e.eventually("the autoscaler of cold to go at once", func() error {
		return e.gone(&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: cold}})
	})
	e.poke()
	if sts := e.statefulSet(cold); ptr.Deref(sts.Spec.Replicas, 0) != 2 || len(e.podRevisions(sts)) != 2 {
		t.Fatalf("cold has %d replicas and pods %v while pod 1 may not go, want 2 and 2",
			ptr.Deref(sts.Spec.Replicas, 0), e.podRevisions(sts))
	}
	e.requireKept("while both pods of cold wait", before, service(), pdb())

	gate.set(gate.keep, cold+"-0", true)
	gate.set(gate.keep, cold+"-1", false)
	e.waitFor("cold's removal to wait on pod 0", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "a", orchestrate.ConditionProgressing)
		return cond != nil && cond.Reason == orchestrate.ReasonRemovingPods && strings.Contains(cond.Message, cold+"-0") &&
			len(e.podRevisions(e.statefulSet(cold))) == 1
	})
	e.poke()
	if sts := e.statefulSet(cold); ptr.Deref(sts.Spec.Replicas, 0) != 1 {
		t.Errorf("cold has %d replicas once pod 1 went, want 1: something scaled the drain back up", ptr.Deref(sts.Spec.Replicas, 0))
	}
	e.requireKept("while the last pod of cold waits", before, service(), pdb())

	gate.set(gate.keep, cold+"-0", false)
	e.waitFor("Ready without cold", func(cr *testv1.Cluster) bool {
		return ready(cr) && e.workloadGone(cold)
	})
	e.eventually("cold's Service and PodDisruptionBudget to be pruned with its StatefulSet", func() error {
		if err := e.gone(service()); err != nil {
			return err
		}
		return e.gone(pdb())
	})
	if got, want := gate.removed(), []string{cold + "-1", cold + "-0"}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v", got, want)
	}
	after := e.children()
	for id, uid := range before {
		if strings.HasSuffix(id, "/"+cold) {
			continue
		}
		if after[id] != uid {
			t.Errorf("%s is gone or replaced (UID %q, was %q); only group cold's children were to go", id, after[id], uid)
		}
	}
}
