package orchestrate

import (
	"slices"
	"strconv"
	"testing"

	"k8s.io/utils/ptr"
)

// fakeJudge answers yes unless told otherwise, and notes what it was asked.
type fakeJudge struct {
	unhealthy, keep []int32 // ordinals Healthy / BeforeRemove say no to
	asked           []string
}

func (f *fakeJudge) answer(kind hookKind, no []int32, ord int32) (hookAnswer, *hookWait) {
	f.asked = append(f.asked, kind.String()+" "+strconv.Itoa(int(ord)))
	if slices.Contains(no, ord) {
		a := hookAnswer{State: hookNo, Reason: "no"}
		return a, &hookWait{Kind: kind, Pod: strconv.Itoa(int(ord)), Answer: a}
	}
	return hookAnswer{State: hookYes}, nil
}

func (f *fakeJudge) healthy(o int32) (hookAnswer, *hookWait) {
	return f.answer(hookHealthy, f.unhealthy, o)
}

func (f *fakeJudge) mayRemove(o int32) (hookAnswer, *hookWait) {
	return f.answer(hookBeforeRemove, f.keep, o)
}

// pods returns n pods, those from updatedFrom up running the new revision,
// all ready.
func pods(n, updatedFrom int) []stepPod {
	out := make([]stepPod, n)
	for k := range out {
		out[k] = stepPod{Exists: true, Ready: true, Updated: k >= updatedFrom}
	}
	return out
}

// canary returns in with a canary of n pods, approved or not.
func canary(in stepInput, n int32, approved bool) stepInput {
	in.Canary, in.Approved = n, approved
	return in
}

func TestNextStep(t *testing.T) {
	rolling := func(partition int32, p []stepPod) stepInput {
		return stepInput{Replicas: 3, Desired: ptr.To[int32](3), Partition: partition, Observed: true, Settled: true,
			Rolling: true, PartitionManaged: true, Pods: p}
	}
	tests := []struct {
		name          string
		in            stepInput
		judge         fakeJudge
		wantReplicas  int32
		wantPartition int32
		wantWait      bool
		wantCanary    bool
		wantAsked     []string
	}{{
		name:          "rule 2: a change is applied with the partition at the replica count, so no pod is replaced yet",
		in:            stepInput{Replicas: 3, Desired: ptr.To[int32](3), Observed: true, Settled: true, Changing: true, PartitionManaged: true},
		wantReplicas:  3,
		wantPartition: 3,
	}, {
		name:          "rule 3: the first pod to be replaced is asked first",
		in:            rolling(3, pods(3, 3)),
		wantReplicas:  3,
		wantPartition: 2,
		wantAsked:     []string{"before-remove hook 2"},
	}, {
		name:          "rule 3: the next pod is replaced once the replaced one is healthy",
		in:            rolling(2, pods(3, 2)),
		wantReplicas:  3,
		wantPartition: 1,
		wantAsked:     []string{"health gate 2", "before-remove hook 1"},
	}, {
		name:          "rule 3: an unhealthy pod holds the partition, and the next pod is not asked",
		in:            rolling(2, pods(3, 2)),
		judge:         fakeJudge{unhealthy: []int32{2}},
		wantReplicas:  3,
		wantPartition: 2,
		wantWait:      true,
		wantAsked:     []string{"health gate 2"},
	}, {
		name:          "rule 3: a pod that may not go yet holds the partition",
		in:            rolling(2, pods(3, 2)),
		judge:         fakeJudge{keep: []int32{1}},
		wantReplicas:  3,
		wantPartition: 2,
		wantWait:      true,
		wantAsked:     []string{"health gate 2", "before-remove hook 1"},
	}, {
		name:          "rule 3: a replaced pod not ready yet is Kubernetes' to wait for; no hook is asked",
		in:            rolling(2, func() []stepPod { p := pods(3, 2); p[2].Ready = false; return p }()),
		wantReplicas:  3,
		wantPartition: 2,
	}, {
		name:          "rule 3: a pod below that already runs the new revision is not asked about",
		in:            rolling(2, pods(3, 1)),
		wantReplicas:  3,
		wantPartition: 1,
		wantAsked:     []string{"health gate 2"},
	}, {
		name:          "rule 3: at partition 0 the StatefulSet finishes by itself",
		in:            rolling(0, pods(3, 0)),
		wantReplicas:  3,
		wantPartition: 0,
		wantAsked:     []string{"health gate 0", "health gate 1", "health gate 2"},
	}, {
		name:          "rule 3: nothing moves before the controller observed the last step",
		in:            func() stepInput { in := rolling(2, pods(3, 2)); in.Observed, in.Settled = false, false; return in }(),
		wantReplicas:  3,
		wantPartition: 2,
	}, {
		name:          "rule 1: a scale-down removes the highest pod once it may go",
		in:            stepInput{Replicas: 3, Desired: ptr.To[int32](1), Partition: 3, Observed: true, Settled: true, PartitionManaged: true, Pods: pods(3, 0)},
		wantReplicas:  2,
		wantPartition: 3,
		wantAsked:     []string{"before-remove hook 2"},
	}, {
		name:          "rule 1: one pod at a time: nothing more goes until the last one is gone",
		in:            stepInput{Replicas: 2, Desired: ptr.To[int32](1), Observed: true, Settled: false, PartitionManaged: true},
		wantReplicas:  2,
		wantPartition: 0,
	}, {
		name:          "rule 1: a pod that may not go holds the scale-down, and no template step is taken meanwhile",
		in:            stepInput{Replicas: 3, Desired: ptr.To[int32](2), Partition: 3, Observed: true, Settled: true, Rolling: true, PartitionManaged: true, Pods: pods(3, 3)},
		judge:         fakeJudge{keep: []int32{2}},
		wantReplicas:  3,
		wantPartition: 3,
		wantWait:      true,
		wantAsked:     []string{"before-remove hook 2"},
	}, {
		name:          "rule 1: a scale-up is applied at once",
		in:            stepInput{Replicas: 1, Desired: ptr.To[int32](3), Observed: true, Settled: true, PartitionManaged: true},
		wantReplicas:  3,
		wantPartition: 0,
	}, {
		name:          "rule 5: replicas an HPA owns are left to it",
		in:            stepInput{Replicas: 5, Observed: true, Settled: true, PartitionManaged: true},
		wantReplicas:  5,
		wantPartition: 0,
	}, {
		name:          "rule 4: a canary of one pod stops the rollout once that pod is ready and healthy",
		in:            canary(rolling(2, pods(3, 2)), 1, false),
		wantReplicas:  3,
		wantPartition: 2,
		wantCanary:    true,
		wantAsked:     []string{"health gate 2"},
	}, {
		name:          "rule 4: the canary's pod is replaced and judged before the rollout stops",
		in:            canary(rolling(3, pods(3, 3)), 1, false),
		wantReplicas:  3,
		wantPartition: 2,
		wantAsked:     []string{"before-remove hook 2"},
	}, {
		name:          "rule 4: an unhealthy canary waits on its gate, not on the approval",
		in:            canary(rolling(2, pods(3, 2)), 1, false),
		judge:         fakeJudge{unhealthy: []int32{2}},
		wantReplicas:  3,
		wantPartition: 2,
		wantWait:      true,
		wantAsked:     []string{"health gate 2"},
	}, {
		name:          "rule 4: an approved canary lets the rollout go on",
		in:            canary(rolling(2, pods(3, 2)), 1, true),
		wantReplicas:  3,
		wantPartition: 1,
		wantAsked:     []string{"health gate 2", "before-remove hook 1"},
	}, {
		name:          "rule 4: a canary of two pods lets the second one go",
		in:            canary(rolling(2, pods(3, 2)), 2, false),
		wantReplicas:  3,
		wantPartition: 1,
		wantAsked:     []string{"health gate 2", "before-remove hook 1"},
	}, {
		name:          "OnDelete: only the scale-down rule applies",
		in:            stepInput{Replicas: 2, Desired: ptr.To[int32](2), Observed: true, Settled: true, Changing: true, Rolling: true, Pods: pods(2, 2)},
		wantReplicas:  2,
		wantPartition: 0,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextStep(tt.in, &tt.judge)
			if got.Replicas != tt.wantReplicas || got.Partition != tt.wantPartition || (got.Wait != nil) != tt.wantWait || got.AtCanary != tt.wantCanary {
				t.Errorf("got replicas %d, partition %d, waiting %v, at canary %v; want %d, %d, %v, %v",
					got.Replicas, got.Partition, got.Wait != nil, got.AtCanary, tt.wantReplicas, tt.wantPartition, tt.wantWait, tt.wantCanary)
			}
			if !slices.Equal(tt.judge.asked, tt.wantAsked) {
				t.Errorf("asked %q, want %q", tt.judge.asked, tt.wantAsked)
			}
		})
	}
}
