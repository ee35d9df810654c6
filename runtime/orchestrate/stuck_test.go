package orchestrate

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var stuckNow = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

func rollingStatefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "hist", UID: "sts-uid", Generation: 2},
		Status: appsv1.StatefulSetStatus{
			ObservedGeneration: 2, CurrentRevision: "hist-old", UpdateRevision: "hist-new",
		},
	}
}

func stsPod(sts *appsv1.StatefulSet, name, revision string, ready bool, unreadyFor time.Duration, waiting string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name:            name,
		Labels:          map[string]string{appsv1.ControllerRevisionHashLabelKey: revision},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: sts.Name, UID: sts.UID, Controller: ptr.To(true)}},
	}}
	st := corev1.ConditionTrue
	if !ready {
		st = corev1.ConditionFalse
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.NewTime(stuckNow.Add(-unreadyFor))}}
	if waiting != "" {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: waiting}}}}
	}
	return p
}

func TestStuckPod(t *testing.T) {
	const grace = 5 * time.Minute
	tests := []struct {
		name        string
		sts         func() *appsv1.StatefulSet
		pods        func(*appsv1.StatefulSet) []corev1.Pod
		wantVictim  string
		wantRecheck time.Duration
		wantBusy    bool
	}{{
		name: "a crash-looping pod of the old revision is deleted at once",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{
				stsPod(s, "hist-0", "hist-old", true, 0, ""),
				stsPod(s, "hist-1", "hist-old", false, time.Second, "CrashLoopBackOff"),
			}
		},
		wantVictim: "hist-1",
	}, {
		name: "only the pod that blocks: the lowest ordinal that is not ready",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{
				stsPod(s, "hist-10", "hist-old", false, time.Hour, ""),
				stsPod(s, "hist-9", "hist-old", false, time.Hour, ""),
				stsPod(s, "hist-2", "hist-old", false, time.Hour, ""),
				stsPod(s, "hist-1", "hist-old", true, 0, ""),
			}
		},
		wantVictim: "hist-2",
	}, {
		name: "the replacement of a deleted pod is not ready yet: nothing more is deleted",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{
				stsPod(s, "hist-0", "hist-new", false, time.Second, ""),
				stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff"),
			}
		},
		wantBusy: true,
	}, {
		name: "a pod on its way out blocks: nothing more is deleted meanwhile",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			going := stsPod(s, "hist-0", "hist-old", false, time.Hour, "CrashLoopBackOff")
			going.DeletionTimestamp = ptr.To(metav1.NewTime(stuckNow))
			return []corev1.Pod{going, stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")}
		},
		wantBusy: true,
	}, {
		name: "an old pod unready for less than the grace period is rechecked when it expires",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-old", false, 2*time.Minute, "")}
		},
		wantRecheck: 3 * time.Minute,
	}, {
		name: "a pod of the update revision is left to the StatefulSet controller",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-new", false, time.Hour, "CrashLoopBackOff")}
		},
		wantBusy: true,
	}, {
		name: "ready old pods are not touched",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-old", true, time.Hour, "")}
		},
	}, {
		name: "pods of another controller are not touched",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			p := stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")
			p.OwnerReferences[0].UID = "other"
			return []corev1.Pod{p}
		},
	}, {
		name: "a reverted template: the broken pod is deleted although the revisions agree again",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Status.CurrentRevision = s.Status.UpdateRevision
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{
				stsPod(s, "hist-0", "hist-new", true, 0, ""),
				stsPod(s, "hist-1", "hist-broken", false, time.Hour, ""),
			}
		},
		wantVictim: "hist-1",
	}, {
		name: "every pod at the update revision: nothing to unstick",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Status.CurrentRevision = s.Status.UpdateRevision
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-new", false, time.Hour, "CrashLoopBackOff")}
		},
		wantBusy: true,
	}, {
		name: "a partitioned rollout keeps old pods on purpose",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](1)}
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-0", "hist-old", false, time.Hour, "CrashLoopBackOff")}
		},
	}, {
		name: "Parallel pod management has no deadlock",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")}
		},
	}, {
		name: "OnDelete is the user's to drive",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")}
		},
	}, {
		name: "the new spec not yet observed: wait for the StatefulSet controller",
		sts: func() *appsv1.StatefulSet {
			s := rollingStatefulSet()
			s.Generation = 3
			return s
		},
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			return []corev1.Pod{stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")}
		},
	}, {
		name: "a pod already being deleted is skipped",
		sts:  rollingStatefulSet,
		pods: func(s *appsv1.StatefulSet) []corev1.Pod {
			p := stsPod(s, "hist-1", "hist-old", false, time.Hour, "CrashLoopBackOff")
			p.DeletionTimestamp = ptr.To(metav1.NewTime(stuckNow))
			return []corev1.Pod{p}
		},
		wantBusy: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sts()
			v := judgeStuck(s, tt.pods(s), stuckNow, grace)
			got := ""
			if v.victim != nil {
				got = v.victim.Name
			}
			if got != tt.wantVictim {
				t.Errorf("victim = %q, want %q", got, tt.wantVictim)
			}
			if v.wait != tt.wantRecheck {
				t.Errorf("recheck = %v, want %v", v.wait, tt.wantRecheck)
			}
			if v.busy != tt.wantBusy {
				t.Errorf("busy = %t, want %t", v.busy, tt.wantBusy)
			}
		})
	}
}

// TestChooseStuckDeletesOnePodOfTheCRAtATime: among a CR's StatefulSets, at
// most one pod goes, and none while another StatefulSet has a pod going or
// starting.
func TestChooseStuckDeletesOnePodOfTheCRAtATime(t *testing.T) {
	pod := &corev1.Pod{}
	tests := []struct {
		name       string
		verdicts   []stuckVerdict
		wantVictim int
		wantWait   time.Duration
	}{
		{"nothing stuck", []stuckVerdict{{}, {}}, -1, 0},
		{"two stuck: only the first", []stuckVerdict{{}, {victim: pod}, {victim: pod}}, 1, 0},
		{"one starting a replacement holds the others", []stuckVerdict{{victim: pod}, {busy: true}}, -1, 0},
		{"the shortest wait is reported", []stuckVerdict{{wait: time.Minute}, {wait: time.Second}}, -1, time.Second},
		{"a victim and a wait", []stuckVerdict{{wait: time.Minute}, {victim: pod}}, 1, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			victim, wait := chooseStuck(tt.verdicts)
			if victim != tt.wantVictim || wait != tt.wantWait {
				t.Errorf("chooseStuck = %d, %v; want %d, %v", victim, wait, tt.wantVictim, tt.wantWait)
			}
		})
	}
}
