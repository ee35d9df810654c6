package orchestrate

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

func TestIgnoreStatusOnlyUpdates(t *testing.T) {
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db-b", Generation: 3, Labels: map[string]string{"a": "1"}},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "db-b-config"}, Data: map[string]string{"level": "1"}}
	change := func(obj client.Object, mutate func(client.Object)) crevent.UpdateEvent {
		n := obj.DeepCopyObject().(client.Object)
		mutate(n)
		return crevent.UpdateEvent{ObjectOld: obj, ObjectNew: n}
	}
	now := metav1.Now()
	cases := []struct {
		name string
		ev   crevent.UpdateEvent
		want bool
	}{
		{"PDB status only", change(pdb, func(o client.Object) {
			o.(*policyv1.PodDisruptionBudget).Status.CurrentHealthy = 2
			o.SetResourceVersion("99")
		}), false},
		{"PDB spec (generation)", change(pdb, func(o client.Object) { o.SetGeneration(4) }), true},
		{"PDB labels", change(pdb, func(o client.Object) { o.SetLabels(map[string]string{"a": "2"}) }), true},
		{"PDB annotations", change(pdb, func(o client.Object) { o.SetAnnotations(map[string]string{"x": "y"}) }), true},
		{"PDB owner references", change(pdb, func(o client.Object) { o.SetOwnerReferences(nil) }), false},
		{"PDB owner references removed", change(withOwner(pdb), func(o client.Object) { o.SetOwnerReferences(nil) }), true},
		{"PDB finalizers", change(pdb, func(o client.Object) { o.SetFinalizers([]string{"x"}) }), true},
		{"PDB deletion", change(pdb, func(o client.Object) { o.SetDeletionTimestamp(&now) }), true},
		{"ConfigMap data (no generation)", change(cm, func(o client.Object) { o.(*corev1.ConfigMap).Data["level"] = "2" }), true},
	}
	p := ignoreStatusOnlyUpdates()
	for _, c := range cases {
		if got := p.Update(c.ev); got != c.want {
			t.Errorf("%s: passes = %v, want %v", c.name, got, c.want)
		}
	}
	if !p.Create(crevent.CreateEvent{Object: pdb}) || !p.Delete(crevent.DeleteEvent{Object: pdb}) {
		t.Error("creates and deletes must pass")
	}
}

func withOwner(obj client.Object) client.Object {
	o := obj.DeepCopyObject().(client.Object)
	o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "u", Controller: ptr.To(true)}})
	return o
}

// TestIgnoreUnreadWorkloadUpdates changes one status field of a rolled-out
// Deployment and StatefulSet at a time, and checks the rule the predicate
// rests on: an update it drops changes neither the rollout rules' verdict
// (kstatus's included) nor anything the CR's status reports. It also checks
// that it drops the bookkeeping it is for, and nothing of a hooked node type.
func TestIgnoreUnreadWorkloadUpdates(t *testing.T) {
	o := &Orchestrator[*testv1.Cluster]{nodeTypes: []NodeType[*testv1.Cluster]{
		{Name: "b"},
		{Name: "h", Hooks: Hooks[*testv1.Cluster]{Healthy: func(context.Context, *testv1.Cluster, *corev1.Pod) (Verdict, error) {
			return Verdict{}, nil
		}}},
	}}
	p := o.ignoreUnreadWorkloadUpdates()
	label := func(obj client.Object, nodeType string) client.Object {
		obj.SetLabels(map[string]string{keys.LabelComponent: nodeType})
		return obj
	}
	later := metav1.NewTime(time.Now().Add(time.Minute))
	deployment := []struct {
		field  string
		mutate func(*appsv1.DeploymentStatus)
	}{
		{"observedGeneration", func(s *appsv1.DeploymentStatus) { s.ObservedGeneration-- }},
		{"replicas", func(s *appsv1.DeploymentStatus) { s.Replicas++ }},
		{"updatedReplicas", func(s *appsv1.DeploymentStatus) { s.UpdatedReplicas-- }},
		{"readyReplicas", func(s *appsv1.DeploymentStatus) { s.ReadyReplicas-- }},
		{"availableReplicas", func(s *appsv1.DeploymentStatus) { s.AvailableReplicas-- }},
		{"unavailableReplicas", func(s *appsv1.DeploymentStatus) { s.UnavailableReplicas++ }},
		{"terminatingReplicas", func(s *appsv1.DeploymentStatus) { s.TerminatingReplicas = ptr.To[int32](1) }},
		{"collisionCount", func(s *appsv1.DeploymentStatus) { s.CollisionCount = ptr.To[int32](1) }},
		{"a condition's lastUpdateTime", func(s *appsv1.DeploymentStatus) { s.Conditions[1].LastUpdateTime = later }},
		{"Progressing's reason", func(s *appsv1.DeploymentStatus) { s.Conditions[1].Reason = "ProgressDeadlineExceeded" }},
		{"Available's status", func(s *appsv1.DeploymentStatus) { s.Conditions[0].Status = corev1.ConditionFalse }},
		{"a ReplicaFailure", func(s *appsv1.DeploymentStatus) {
			s.Conditions = append(s.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Message: "quota"})
		}},
	}
	dropped := map[string]bool{}
	for _, c := range deployment {
		old := rolledOutDeployment()
		n := old.DeepCopy()
		c.mutate(&n.Status)
		n.ResourceVersion = "2"
		passes := p.Update(crevent.UpdateEvent{ObjectOld: label(old, "b"), ObjectNew: label(n, "b")})
		if !passes && judged(t, old) != judged(t, n) {
			t.Errorf("Deployment %s: the update is dropped, but it changes the verdict from %s to %s", c.field, judged(t, old), judged(t, n))
		}
		if !p.Update(crevent.UpdateEvent{ObjectOld: label(old.DeepCopy(), "h"), ObjectNew: label(n.DeepCopy(), "h")}) {
			t.Errorf("Deployment %s of a hooked node type: dropped, want every update to pass", c.field)
		}
		dropped[c.field] = !passes
	}
	sts := []struct {
		field  string
		mutate func(*appsv1.StatefulSetStatus)
	}{
		{"observedGeneration", func(s *appsv1.StatefulSetStatus) { s.ObservedGeneration-- }},
		{"replicas", func(s *appsv1.StatefulSetStatus) { s.Replicas++ }},
		{"readyReplicas", func(s *appsv1.StatefulSetStatus) { s.ReadyReplicas-- }},
		{"currentReplicas", func(s *appsv1.StatefulSetStatus) { s.CurrentReplicas-- }},
		{"updatedReplicas", func(s *appsv1.StatefulSetStatus) { s.UpdatedReplicas-- }},
		{"availableReplicas", func(s *appsv1.StatefulSetStatus) { s.AvailableReplicas-- }},
		{"currentRevision", func(s *appsv1.StatefulSetStatus) { s.CurrentRevision = "r1" }},
		{"updateRevision", func(s *appsv1.StatefulSetStatus) { s.UpdateRevision = "r3" }},
		{"collisionCount", func(s *appsv1.StatefulSetStatus) { s.CollisionCount = ptr.To[int32](1) }},
	}
	for _, c := range sts {
		old := rolledOutStatefulSet()
		n := old.DeepCopy()
		c.mutate(&n.Status)
		if !p.Update(crevent.UpdateEvent{ObjectOld: label(old, "b"), ObjectNew: label(n, "b")}) && judged(t, old) != judged(t, n) {
			t.Errorf("StatefulSet %s: the update is dropped, but it changes the verdict from %s to %s", c.field, judged(t, old), judged(t, n))
		}
	}
	for _, field := range []string{"terminatingReplicas", "a condition's lastUpdateTime"} {
		if !dropped[field] {
			t.Errorf("Deployment %s alone: the update passes, want it dropped", field)
		}
	}
	unlabelled := rolledOutDeployment()
	n := unlabelled.DeepCopy()
	n.Status.TerminatingReplicas = ptr.To[int32](1)
	if !p.Update(crevent.UpdateEvent{ObjectOld: unlabelled, ObjectNew: n}) {
		t.Error("a workload whose component names no node type: dropped, want every update to pass")
	}
}

// judged is everything a pass reads of a workload's status: the rollout
// rules' verdict, kstatus's and the counts the CR's status reports.
func judged(t *testing.T, obj client.Object) string {
	t.Helper()
	ro, err := workloadRollout(obj)
	if err != nil {
		t.Fatal(err)
	}
	kind := "Deployment"
	if _, ok := obj.(*appsv1.StatefulSet); ok {
		kind = "StatefulSet"
	}
	ks, err := computeKStatus(obj, appsv1.SchemeGroupVersion.String(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v kstatus %s %s", ro, ks.Status, ks.Message)
}
