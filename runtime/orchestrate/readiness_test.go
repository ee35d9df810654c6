package orchestrate

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

func rolledOutStatefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Generation: 3},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
				Annotations: map[string]string{keys.AnnotationConfigHash: "h1"},
			}},
		},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: 3, Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3,
			CurrentReplicas: 3, UpdatedReplicas: 3, CurrentRevision: "r2", UpdateRevision: "r2",
		},
	}
}

func rolledOutDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2,
			Conditions: []appsv1.DeploymentCondition{
				{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"},
				{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
			},
		},
	}
}

func TestStatefulSetRollout(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*appsv1.StatefulSet)
		wantDone    bool
		wantMessage string
	}{
		{name: "rolled out", mutate: func(*appsv1.StatefulSet) {}, wantDone: true},
		{name: "generation not observed", mutate: func(s *appsv1.StatefulSet) { s.Generation = 4 }, wantMessage: "not yet observed generation 4"},
		{name: "never reconciled", mutate: func(s *appsv1.StatefulSet) { s.Status = appsv1.StatefulSetStatus{} }, wantMessage: "not yet observed"},
		{name: "a replica not ready", mutate: func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 2 }, wantMessage: "2 of 3 replicas ready"},
		{name: "an extra replica terminating", mutate: func(s *appsv1.StatefulSet) { s.Status.Replicas = 4 }, wantMessage: "4 in total"},
		{name: "not every replica updated", mutate: func(s *appsv1.StatefulSet) {
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 2, "r3"
		}, wantMessage: "2 of 3 replicas updated"},
		{name: "revisions not converged", mutate: func(s *appsv1.StatefulSet) {
			s.Status.CurrentRevision = "r1"
		}, wantMessage: "current revision r1 is not yet the update revision r2"},
		{name: "partitioned rollout done for the replicas above the partition", mutate: func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)}
			s.Status.UpdatedReplicas, s.Status.CurrentRevision = 1, "r1"
		}, wantDone: true},
		{name: "OnDelete counts as rolled out once ready", mutate: func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
			s.Status.UpdatedReplicas, s.Status.CurrentRevision = 0, "r1"
		}, wantDone: true},
		{name: "OnDelete with an unready replica", mutate: func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
			s.Status.ReadyReplicas = 1
		}, wantMessage: "1 of 3 replicas ready"},
		{name: "scaled to zero", mutate: func(s *appsv1.StatefulSet) {
			s.Spec.Replicas = ptr.To[int32](0)
			s.Status = appsv1.StatefulSetStatus{ObservedGeneration: 3, CurrentRevision: "r2", UpdateRevision: "r2"}
		}, wantDone: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := rolledOutStatefulSet()
			tt.mutate(s)
			r, err := workloadRollout(s)
			if err != nil {
				t.Fatal(err)
			}
			if r.Done != tt.wantDone {
				t.Errorf("Done = %v, want %v (message %q)", r.Done, tt.wantDone, r.Message)
			}
			if !strings.Contains(r.Message, tt.wantMessage) {
				t.Errorf("Message = %q, want it to contain %q", r.Message, tt.wantMessage)
			}
			if r.ConfigHash != "h1" {
				t.Errorf("ConfigHash = %q, want the live pod template's h1", r.ConfigHash)
			}
		})
	}
}

func TestDeploymentRollout(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*appsv1.Deployment)
		wantDone    bool
		wantStalled bool
		wantMessage string
	}{
		{name: "rolled out", mutate: func(*appsv1.Deployment) {}, wantDone: true},
		{name: "generation not observed", mutate: func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }, wantMessage: "not yet observed generation 2"},
		{name: "old replica still running", mutate: func(d *appsv1.Deployment) {
			d.Status.Replicas, d.Status.UpdatedReplicas = 3, 2
		}, wantMessage: "3 in total"},
		{name: "updated replica not ready", mutate: func(d *appsv1.Deployment) {
			d.Status.ReadyReplicas, d.Status.AvailableReplicas = 1, 1
		}, wantMessage: "1 ready"},
		{name: "progress deadline exceeded", mutate: func(d *appsv1.Deployment) {
			d.Status.UpdatedReplicas = 1
			d.Status.Conditions[1] = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "too slow"}
		}, wantStalled: true, wantMessage: "stalled"},
		{name: "replica failure", mutate: func(d *appsv1.Deployment) {
			d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: corev1.ConditionTrue, Message: "quota exceeded"})
		}, wantMessage: "replica failure: quota exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rolledOutDeployment()
			tt.mutate(d)
			r, err := workloadRollout(d)
			if err != nil {
				t.Fatal(err)
			}
			if r.Done != tt.wantDone || r.Stalled != tt.wantStalled {
				t.Errorf("Done, Stalled = %v, %v; want %v, %v (message %q)", r.Done, r.Stalled, tt.wantDone, tt.wantStalled, r.Message)
			}
			if !strings.Contains(r.Message, tt.wantMessage) {
				t.Errorf("Message = %q, want it to contain %q", r.Message, tt.wantMessage)
			}
		})
	}
}

func TestWorkloadRolloutRejectsOtherKinds(t *testing.T) {
	if _, err := workloadRollout(&corev1.ConfigMap{}); err == nil {
		t.Fatal("workloadRollout(ConfigMap) returned no error")
	}
}
