package orchestrate

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file holds canaries (NodeType.Canary): which group has one, how many
// pods it takes, and whether it is approved. Where a StatefulSet's rollout
// stops is rule 4 of podbypod.go; a Deployment's canary is a Deployment of
// its own (canarydeploy.go). The wait shows on RolloutBlocked as
// CanaryWaiting.

func (c *Canary) validate() error {
	if c == nil {
		return nil
	}
	if _, err := intstr.GetScaledValueFromIntOrPercent(&c.Pods, 100, true); err != nil {
		return fmt.Errorf("invalid pods: %w", err)
	}
	if v, _ := intstr.GetScaledValueFromIntOrPercent(&c.Pods, 100, true); v <= 0 {
		return fmt.Errorf("pods is %s: a canary takes at least one pod", c.Pods.String())
	}
	if c.Soak < 0 {
		return fmt.Errorf("soak is negative (%s)", c.Soak)
	}
	return nil
}

// pods is how many pods of a group of replicas the canary takes: at least
// one and at most all but one, since a canary of every pod would leave
// nothing to hold. 0 means no canary.
func (c *Canary) pods(replicas int32) int32 {
	if replicas < 2 {
		return 0
	}
	n, _ := intstr.GetScaledValueFromIntOrPercent(&c.Pods, int(replicas), true)
	return min(max(int32(n), 1), replicas-1)
}

// canaryOf returns the canary of the node type name, nil when it has none.
func (o *Orchestrator[T]) canaryOf(name string) *Canary {
	if nt := o.nodeType(name); nt != nil {
		return nt.Canary
	}
	return nil
}

// canaryGroup is the index of the group of node type i a canary applies
// to, the first that has a workload; -1 when none has.
func (r *passRun[T]) canaryGroup(i int) int {
	for j, g := range r.built[i].groups {
		if g.workload != nil {
			return j
		}
	}
	return -1
}

// groupCanary returns the canary of node type i when group j is the one it
// applies to; nil otherwise.
func (r *passRun[T]) groupCanary(i, j int) *Canary {
	if c := r.o.canaryOf(r.built[i].name); c != nil && j == r.canaryGroup(i) {
		return c
	}
	return nil
}

// checkCanaries returns an error naming the first node type whose canary
// cannot be carried out: its first group's workload is a StatefulSet with
// the OnDelete strategy, whose pods only a person replaces. The build
// function must change, so a canary that would silently not stop is an
// error rather than a no-op.
func (r *passRun[T]) checkCanaries() error {
	for i, nt := range r.built {
		j := r.canaryGroup(i)
		if r.o.canaryOf(nt.name) == nil || j < 0 {
			continue
		}
		switch w := nt.groups[j].workload.(type) {
		case *appsv1.Deployment:
		case *appsv1.StatefulSet:
			if !partitioned(w) {
				return fmt.Errorf("node type %q has a Canary, but its first group's workload is a %s: only a StatefulSet with the RollingUpdate strategy, or a Deployment, can stop at a canary",
					nt.name, describeWorkload(w))
			}
		}
	}
	return nil
}

// describeWorkload names a workload's kind, and a StatefulSet's strategy.
func describeWorkload(w client.Object) string {
	if sts, ok := w.(*appsv1.StatefulSet); ok {
		return "StatefulSet with the " + string(sts.Spec.UpdateStrategy.Type) + " strategy"
	}
	return kindOf(w)
}

// canaryApproved reports whether the canary of node type i, of n pods, may
// let live's rollout go on: the CR's approval names its update revision, or
// the canary's pods (the n highest ordinals, which roll first) run it and
// have soaked. Only the canary's pods count, so the pods replaced after it
// do not soak again.
func (r *passRun[T]) canaryApproved(i int, c *Canary, live *appsv1.StatefulSet, n int32, byOrdinal map[int32]*corev1.Pod) bool {
	if r.approves(i, live.Status.UpdateRevision) {
		return true
	}
	replicas := ptr.Deref(live.Spec.Replicas, 1)
	pods := make([]*corev1.Pod, 0, n)
	for ord := replicas - n; ord < replicas; ord++ {
		pod := byOrdinal[ord]
		if pod == nil || pod.Labels[appsv1.ControllerRevisionHashLabelKey] != live.Status.UpdateRevision {
			return false
		}
		pods = append(pods, pod)
	}
	return r.soaked(c, pods)
}

// approves reports whether the CR's approval annotation for node type i
// names revision.
func (r *passRun[T]) approves(i int, revision string) bool {
	v := r.owner.GetAnnotations()[keys.AnnotationApproveRollout+"."+r.built[i].name]
	return v != "" && v == revision
}

// soaked reports whether every one of a canary's pods has been Ready for
// the canary's Soak. While they soak, the pass is requeued for when Soak
// runs out.
func (r *passRun[T]) soaked(c *Canary, pods []*corev1.Pod) bool {
	if c.Soak <= 0 {
		return false
	}
	var since time.Time
	for _, pod := range pods {
		ready := podReadySince(pod)
		if ready.IsZero() {
			return false
		}
		if ready.After(since) {
			since = ready
		}
	}
	left := c.Soak - r.o.now().Sub(since)
	if left <= 0 {
		return true
	}
	r.recheckIn(left)
	return false
}

// podReadySince is when pod last became Ready; zero when it is not Ready.
func podReadySince(pod *corev1.Pod) time.Time {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// canaryWait is a rollout stopped at its canary.
type canaryWait struct {
	NodeType string
	Revision string
	Updated  int32
	Replicas int32
	Soak     time.Duration
	// Deployment names the canary Deployment of a Deployment's canary,
	// which runs Updated pods beside its Replicas; empty for a
	// StatefulSet's, whose Updated pods are among its Replicas.
	Deployment string
}

// message is the wait as the RolloutBlocked condition says it: what to do
// to go on.
func (w canaryWait) message() string {
	msg := fmt.Sprintf("canary: %d of %d pods run revision %s", w.Updated, w.Replicas, w.Revision)
	if w.Deployment != "" {
		pods := fmt.Sprintf("%d pods", w.Updated)
		if w.Updated == 1 {
			pods = "1 pod"
		}
		msg = fmt.Sprintf("canary: Deployment %s runs revision %s on %s, beside the node type's %d",
			w.Deployment, w.Revision, pods, w.Replicas)
	}
	msg += fmt.Sprintf("; the rollout goes on once the annotation %s.%s is %q", keys.AnnotationApproveRollout, w.NodeType, w.Revision)
	if w.Soak > 0 {
		msg += fmt.Sprintf(", or once they have been ready for %s", w.Soak)
	}
	return msg
}
