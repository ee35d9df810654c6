package orchestrate

// This file holds the pod-by-pod decision for a StatefulSet of a node type
// with hooks: which replicas and partition to apply next. Like decide, it is
// a pure function of the observed state; the hooks are asked through a
// podJudge, only when a rule needs the answer, so a pod is asked nothing a
// rule does not depend on.
//
// The rules, in order:
//
//  1. A scale-down removes one pod at a time, highest ordinal first: once
//     the StatefulSet's controller has caught up with the last step and
//     BeforeRemove says yes for the highest pod, replicas goes down by one.
//     A scale-up is applied at once. Nothing else moves while scaling down,
//     so no two pods go at once.
//  2. A change to the pod template (or a restart) is applied with the
//     partition at the replica count, so no pod is replaced until rule 3
//     says so: the first pod replaced is asked about like the others.
//  3. While the new revision rolls, the partition goes down by one when
//     every pod at or above it runs the new revision, is Ready and is
//     Healthy, and BeforeRemove says yes for the pod below it (a pod that
//     already runs the new revision is not replaced, so it is not asked).
//  4. A canary that is not approved stops rule 3 once as many pods as it
//     asks for run the new revision, are Ready and are Healthy.
//  5. Otherwise replicas and partition stay as they are.

// stepInput is the observed state of one StatefulSet rolled pod by pod.
type stepInput struct {
	// Replicas and Partition are the live spec's.
	Replicas  int32
	Partition int32
	// Desired is the replica count the build function asks for; nil when
	// another actor (an HPA) owns replicas.
	Desired *int32
	// Observed is true when the StatefulSet's controller has observed the
	// live generation, and Settled when it also has exactly Replicas pods.
	Observed, Settled bool
	// Changing is true when the desired StatefulSet differs from the live
	// one in more than replicas and partition, or a restart is due.
	Changing bool
	// Rolling is true when the update revision is not the current one.
	Rolling bool
	// Pods are the StatefulSet's pods by ordinal, at least Replicas of
	// them; a missing pod has Exists false.
	Pods []stepPod
	// PartitionManaged is false for the OnDelete strategy, which has no
	// partition: only rule 1 applies.
	PartitionManaged bool
	// Canary is how many pods of the new revision the rollout stops at
	// (rule 4), 0 for none; Approved lets it go on past them.
	Canary   int32
	Approved bool
}

// stepPod is one pod of a StatefulSet, by ordinal.
type stepPod struct {
	Exists  bool
	Updated bool // runs the update revision
	Ready   bool
}

// podJudge asks the node type's hooks about the pod of an ordinal.
type podJudge interface {
	healthy(ordinal int32) (hookAnswer, *hookWait)
	mayRemove(ordinal int32) (hookAnswer, *hookWait)
}

// stepOutcome is the replicas and partition to apply, and what waits on a
// hook, if anything.
type stepOutcome struct {
	Replicas  int32
	Partition int32
	Wait      *hookWait
	// ScalingDown is true while replicas are above the desired count.
	ScalingDown bool
	// AtCanary is true while the rollout waits for its canary to be
	// approved.
	AtCanary bool
}

// nextStep applies the rules above.
func nextStep(in stepInput, judge podJudge) stepOutcome {
	out := stepOutcome{Replicas: in.Replicas, Partition: in.Partition}
	if in.Desired != nil && *in.Desired > in.Replicas {
		out.Replicas = *in.Desired
	}
	if in.Desired != nil && *in.Desired < in.Replicas {
		out.ScalingDown = true
		if !in.Settled {
			return out
		}
		if a, w := judge.mayRemove(in.Replicas - 1); a.State != hookYes {
			out.Wait = w
			return out
		}
		out.Replicas = in.Replicas - 1
		return out
	}
	if !in.PartitionManaged {
		return out
	}
	if in.Changing {
		out.Partition = out.Replicas
		return out
	}
	if !in.Rolling || !in.Observed {
		return out
	}
	p := min(in.Partition, in.Replicas)
	for k := p; k < in.Replicas; k++ {
		pod := in.Pods[k]
		if !pod.Exists || !pod.Updated || !pod.Ready {
			// Kubernetes is still replacing it or waiting for it.
			return out
		}
		if a, w := judge.healthy(k); a.State != hookYes {
			out.Wait = w
			return out
		}
	}
	if p == 0 {
		return out
	}
	if in.Canary > 0 && !in.Approved && in.Replicas-p >= in.Canary {
		out.AtCanary = true
		return out
	}
	if below := in.Pods[p-1]; below.Exists && !below.Updated {
		if a, w := judge.mayRemove(p - 1); a.State != hookYes {
			out.Wait = w
			return out
		}
	}
	out.Partition = p - 1
	return out
}
