package orchestrate

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
)

func TestCanaryPods(t *testing.T) {
	tests := []struct {
		pods     intstr.IntOrString
		replicas int32
		want     int32
	}{
		{intstr.FromInt32(1), 3, 1},
		{intstr.FromInt32(5), 3, 2},      // all but one
		{intstr.FromInt32(1), 1, 0},      // a group of one pod has no canary
		{intstr.FromString("10%"), 3, 1}, // rounded up
		{intstr.FromString("50%"), 10, 5},
		{intstr.FromString("100%"), 4, 3},
	}
	for _, tt := range tests {
		c := &Canary{Pods: tt.pods}
		if got := c.pods(tt.replicas); got != tt.want {
			t.Errorf("Canary{Pods: %s}.pods(%d) = %d, want %d", tt.pods.String(), tt.replicas, got, tt.want)
		}
	}
}

func TestCanaryValidate(t *testing.T) {
	for _, bad := range []*Canary{
		{Pods: intstr.FromInt32(0)},
		{Pods: intstr.FromString("0%")},
		{Pods: intstr.FromString("ten")},
		{Pods: intstr.FromInt32(1), Soak: -time.Second},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("Canary %+v is valid, want an error", *bad)
		}
	}
	var none *Canary
	for _, good := range []*Canary{none, {Pods: intstr.FromInt32(1)}, {Pods: intstr.FromString("25%"), Soak: time.Minute}} {
		if err := good.validate(); err != nil {
			t.Errorf("Canary %+v: %v", good, err)
		}
	}
}

// readyPod is pod ordinal of StatefulSet "db-a" at revision, Ready since
// at (never, when at is zero).
func readyPod(ordinal int32, revision string, at time.Time) *corev1.Pod {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name:   fmt.Sprintf("db-a-%d", ordinal),
		Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: revision},
	}}
	if !at.IsZero() {
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	}
	return pod
}

func TestCanaryApproved(t *testing.T) {
	now := time.Unix(10000, 0)
	live := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](4)}}
	live.Status.UpdateRevision = "new"
	c := &Canary{Pods: intstr.FromInt32(1), Soak: time.Minute}
	tests := []struct {
		name        string
		annotations map[string]string
		pods        map[int32]*corev1.Pod
		want        bool
		wantRecheck time.Duration
	}{
		{"soaking: asked again when the soak runs out", nil,
			map[int32]*corev1.Pod{3: readyPod(3, "new", now.Add(-20*time.Second))}, false, 40 * time.Second},
		{"soaked", nil,
			map[int32]*corev1.Pod{3: readyPod(3, "new", now.Add(-2*time.Minute))}, true, 0},
		{"a pod replaced after the canary does not soak again", nil,
			map[int32]*corev1.Pod{3: readyPod(3, "new", now.Add(-2*time.Minute)), 2: readyPod(2, "new", now.Add(-time.Second))}, true, 0},
		{"the canary's pod is not ready", nil,
			map[int32]*corev1.Pod{3: readyPod(3, "new", time.Time{})}, false, 0},
		{"the canary's pod runs the old revision", nil,
			map[int32]*corev1.Pod{3: readyPod(3, "old", now.Add(-2*time.Minute))}, false, 0},
		{"approved for this revision", map[string]string{"opbuilder.io/approve-rollout.a": "new"},
			map[int32]*corev1.Pod{3: readyPod(3, "new", now)}, true, 0},
		{"approved for another revision", map[string]string{"opbuilder.io/approve-rollout.a": "old"},
			map[int32]*corev1.Pod{3: readyPod(3, "new", now)}, false, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Annotations: tt.annotations}}
			r := &passRun[*testv1.Cluster]{o: &Orchestrator[*testv1.Cluster]{now: func() time.Time { return now }},
				owner: owner, built: []builtNodeType{{name: "a"}}}
			if got := r.canaryApproved(0, c, live, 1, tt.pods); got != tt.want {
				t.Errorf("approved = %v, want %v", got, tt.want)
			}
			if r.hookRecheck != tt.wantRecheck {
				t.Errorf("asked again in %s, want %s", r.hookRecheck, tt.wantRecheck)
			}
		})
	}
}
