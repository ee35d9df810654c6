package builder_test

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// TestAutoscalingTakesReplicasWithoutAScaleDown turns autoscaling on for a
// Deployment of 3 replicas the Builder created: its replicas stay 3 (not
// the API server's default of 1), the autoscaler's scale is left alone with
// no write, and turning autoscaling off takes the replicas back in one
// write, without a new ReplicaSet.
func TestAutoscalingTakesReplicasWithoutAScaleDown(t *testing.T) {
	e := newEnv(t)
	e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](3), "info")...)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.get(dep)
	if n := len(e.replicaSets()); n != 1 {
		t.Fatalf("%d ReplicaSets after the create, want 1", n)
	}

	// Autoscaling on: replicas are no longer desired.
	e.counter.Reset()
	e.rec.Take()
	e.reconcileAll(desiredSet("nginx:1.27", nil, "info")...)
	e.get(dep)
	if got := ptr.Deref(dep.Spec.Replicas, 0); got != 3 {
		t.Errorf("replicas %d after autoscaling was turned on, want 3: the field must not fall back to its default", got)
	}
	if w := e.counter.Writes(); w != 2 {
		t.Errorf("turning autoscaling on made %d writes, want 2 (hand over, then apply): %v", w, e.counter.WriteRequests())
	}
	if owned := replicasManagers(dep); len(owned) != 1 || owned[0] != fieldOwner+"-handover" {
		t.Errorf("spec.replicas is owned by %v, want only the hand-over manager", owned)
	}
	e.expectNoWrites(desiredSet("nginx:1.27", nil, "info")...)

	// The autoscaler scales: the Builder writes nothing.
	scaleAsHPA(e, dep, 5)
	e.expectNoWrites(desiredSet("nginx:1.27", nil, "info")...)
	e.get(dep)
	if got := ptr.Deref(dep.Spec.Replicas, 0); got != 5 {
		t.Errorf("replicas %d after the autoscaler scaled to 5", got)
	}

	// Autoscaling off: replicas are desired again and taken back.
	e.counter.Reset()
	res := e.reconcileAll(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
	e.get(dep)
	if got := ptr.Deref(dep.Spec.Replicas, 0); got != 2 {
		t.Errorf("replicas %d after autoscaling was turned off, want 2", got)
	}
	if w := e.counter.Writes(); w != 1 {
		t.Errorf("turning autoscaling off made %d writes, want 1: %v", w, e.counter.WriteRequests())
	}
	for _, r := range res {
		if _, ok := r.Object.(*appsv1.Deployment); ok && (r.Operation != builder.OperationUpdated || r.RolloutTriggered) {
			t.Errorf("Deployment: %s (rollout %v), want Updated without a rollout", r.Operation, r.RolloutTriggered)
		}
	}
	if owned := replicasManagers(dep); len(owned) != 1 || owned[0] != fieldOwner {
		t.Errorf("spec.replicas is owned by %v, want only %s", owned, fieldOwner)
	}
	if n := len(e.replicaSets()); n != 1 {
		t.Errorf("%d ReplicaSets, want the first one only: replicas are not the pod template", n)
	}
	e.expectNoWrites(desiredSet("nginx:1.27", ptr.To[int32](2), "info")...)
}

// A workload created without replicas is left to the API server's default
// and the autoscaler: no hand-over is needed, nothing is written again.
func TestAutoscaledFromTheStartNeedsNoHandOver(t *testing.T) {
	e := newEnv(t)
	e.counter.Reset()
	objs := desiredSet("nginx:1.27", nil, "info")
	e.reconcileAll(objs...)
	if w := e.counter.Writes(); w != len(objs) {
		t.Errorf("create pass made %d writes for %d objects: %v", w, len(objs), e.counter.WriteRequests())
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.get(dep)
	if owned := replicasManagers(dep); len(owned) != 0 {
		t.Errorf("spec.replicas is owned by %v, want nobody", owned)
	}
	scaleAsHPA(e, dep, 3)
	e.expectNoWrites(desiredSet("nginx:1.27", nil, "info")...)
}

// replicasManagers returns the field managers that own obj's spec.replicas.
func replicasManagers(obj metav1.Object) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		var fields struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if mf.FieldsV1 == nil || json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields) != nil {
			continue
		}
		if _, ok := fields.Spec["f:replicas"]; ok {
			out = append(out, mf.Manager)
		}
	}
	return out
}
