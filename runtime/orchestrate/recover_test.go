package orchestrate_test

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestStuckPodRecovery reproduces the OrderedReady deadlock of
// kubernetes/kubernetes#60164: a StatefulSet rolls to a revision whose pods
// never become ready, the template is reverted, and the broken pod left
// behind blocks the rollback. With StuckPodRecovery the orchestrator deletes
// that pod and the StatefulSet rolls back.
func TestStuckPodRecovery(t *testing.T) {
	e := newEnv(t, orchestrate.Config{StuckPodRecovery: &orchestrate.StuckPodRecovery{UnreadyFor: 2 * time.Second}})
	s := spec()
	s.NodeTypes = s.NodeTypes[2:] // only c, a StatefulSet
	e.createCluster(s)
	e.waitFor("the first install to be ready", ready)

	// A broken revision: its pods run but never become ready.
	e.update(func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes[0].PodLabels = map[string]string{neverReadyLabel: "true"}
	})
	broken := e.waitForPod("db-c-1", "the broken revision's pod to run unready", func(p *corev1.Pod) bool {
		return p.Labels[neverReadyLabel] == "true" && p.Status.Phase == corev1.PodRunning
	})

	// Revert. The StatefulSet controller waits for db-c-1 to become ready
	// before it replaces it, which it never will.
	e.update(func(cr *testv1.Cluster) { cr.Spec.NodeTypes[0].PodLabels = nil })
	e.waitFor("the rollback to complete", ready)

	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: "db-c"}, &sts); err != nil {
		t.Fatal(err)
	}
	if sts.Status.CurrentRevision != sts.Status.UpdateRevision || sts.Status.UpdatedReplicas != 2 {
		t.Errorf("StatefulSet not rolled back: current %s update %s, %d updated", sts.Status.CurrentRevision, sts.Status.UpdateRevision, sts.Status.UpdatedReplicas)
	}
	now := e.waitForPod("db-c-1", "db-c-1 at the good revision", func(p *corev1.Pod) bool { return true })
	if now.UID == broken.UID {
		t.Errorf("db-c-1 is still the broken pod")
	}
	if got := e.events.Count(orchestrate.EventStuckPodDeleted, "c"); got != 1 {
		t.Errorf("%d StuckPodDeleted events, want 1: %v", got, e.events.Recorded())
	}
}

func (e *env) waitForPod(name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	e.t.Helper()
	var p corev1.Pod
	err := wait.PollUntilContextTimeout(e.ctx(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &p); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		return p.DeletionTimestamp == nil && cond(&p), nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v (last: %s labels %v, phase %s)", what, err, p.Name, p.Labels, p.Status.Phase)
	}
	return &p
}
