package orchestrate_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestHandScaleIsNoRollout scales node type c's StatefulSet from 2 to 4
// replicas by hand, as kubectl scale does, and waits for the operator to
// put it back and for the StatefulSet to be down to its 2 pods again. The
// CR asked for nothing new, so the node type is not rolling out: its
// Progressing condition stays False from before the edit (same
// lastTransitionTime), the CR's status is not written, and no rollout event
// is recorded.
func TestHandScaleIsNoRollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	before := e.waitFor("the first install to be ready", ready)
	e.requireSteady()
	progressing := nodeTypeCondition(before, "c", orchestrate.ConditionProgressing)
	e.counter.Reset()
	eventsBefore := e.events.Total()

	key := client.ObjectKey{Namespace: e.ns, Name: crName + "-c"}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: key.Name}}
	if err := e.c.SubResource("scale").Patch(e.ctx(), sts,
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":4}}`))); err != nil {
		t.Fatalf("scaling by hand: %v", err)
	}
	err := wait.PollUntilContextTimeout(e.ctx(), 50*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, key, sts); err != nil {
			return false, err
		}
		return ptr.Deref(sts.Spec.Replicas, 0) == 2 && sts.Status.ObservedGeneration == sts.Generation &&
			sts.Status.Replicas == 2 && sts.Status.ReadyReplicas == 2, nil
	})
	if err != nil {
		t.Fatalf("the hand scale was not reverted and settled: %v (replicas %d, status %+v)", err, ptr.Deref(sts.Spec.Replicas, 0), sts.Status)
	}
	e.poke()

	after := e.waitFor("Ready", ready)
	if got := nodeTypeCondition(after, "c", orchestrate.ConditionProgressing); got.Status != metav1.ConditionFalse ||
		got.Reason != orchestrate.ReasonRolloutComplete || !got.LastTransitionTime.Equal(&progressing.LastTransitionTime) {
		t.Errorf("node type c's Progressing went from %s %s (%s) to %s %s (%s), want it untouched",
			progressing.Status, progressing.Reason, progressing.LastTransitionTime, got.Status, got.Reason, got.LastTransitionTime)
	}
	if n := e.statusPatches(); n != 0 {
		t.Errorf("the revert of a hand scale made %d status patches of the CR, want none", n)
	}
	for _, reason := range []string{orchestrate.EventRolloutStarted, orchestrate.EventRolloutCompleted} {
		if n := e.events.Count(reason, "c"); n != 0 {
			t.Errorf("the revert of a hand scale recorded %d %s events, want none: %v", n, reason, e.events.Recorded()[eventsBefore:])
		}
	}
	e.requireSteady()
}

// TestHandScaleOfADeploymentIsNoRollout is TestHandScaleIsNoRollout for node
// type b's Deployment.
func TestHandScaleOfADeploymentIsNoRollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(withReplicas("b", 1))
	e.waitFor("the first install to be ready", ready)
	e.requireSteady()
	e.counter.Reset()
	eventsBefore := e.events.Total()

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: crName + "-b"}}
	if err := e.c.SubResource("scale").Patch(e.ctx(), d,
		client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":3}}`))); err != nil {
		t.Fatalf("scaling by hand: %v", err)
	}
	e.waitForDeploymentB(image1)
	e.poke()
	e.waitFor("Ready", ready)
	if n := e.statusPatches(); n != 0 {
		t.Errorf("the revert of a hand scale made %d status patches of the CR, want none: %v", n, e.events.Recorded()[eventsBefore:])
	}
	for _, reason := range []string{orchestrate.EventRolloutStarted, orchestrate.EventRolloutCompleted} {
		if n := e.events.Count(reason, "b"); n != 0 {
			t.Errorf("the revert of a hand scale recorded %d %s events, want none: %v", n, reason, e.events.Recorded()[eventsBefore:])
		}
	}
}

// TestReplicasChangeInTheCRIsARollout is the other side of
// TestHandScaleIsNoRollout: the same scale asked for by the CR is a rollout,
// started and completed.
func TestReplicasChangeInTheCRIsARollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	e.requireSteady()
	e.update(func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == "c" {
				cr.Spec.NodeTypes[i].Replicas = 4
			}
		}
	})
	e.waitFor("c to run 4 replicas", func(cr *testv1.Cluster) bool {
		return ready(cr) && cr.GetClusterStatus().NodeTypes[2].ReadyReplicas == 4
	})
	for _, reason := range []string{orchestrate.EventRolloutStarted, orchestrate.EventRolloutCompleted} {
		if n := e.events.Count(reason, "c"); n != 1 {
			t.Errorf("scaling c in the CR recorded %d %s events, want 1: %v", n, reason, e.events.Recorded())
		}
	}
}

// TestHandImageChangeRecordsNoRollout changes node type b's image by hand,
// as kubectl set image does, and waits for the operator to put it back and
// for the Deployment to settle. The CR asked for nothing new, so no rollout
// event is recorded, only the Builder's Updated event; when the revert
// comes before the Deployment replaced any pod, nothing rolls and the CR's
// status is not written at all.
func TestHandImageChangeRecordsNoRollout(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	e.requireSteady()
	e.counter.Reset()
	eventsBefore := e.events.Total()

	e.setImageByHand(crName+"-b", image2)
	e.waitForDeploymentB(image1)
	e.poke()
	cr := e.waitFor("Ready", ready)
	t.Logf("%d status patches", e.statusPatches())
	if got := nodeTypeCondition(cr, "b", orchestrate.ConditionProgressing); got.Reason != orchestrate.ReasonRolloutComplete {
		t.Errorf("node type b's Progressing is %s %s after the revert, want RolloutComplete", got.Status, got.Reason)
	}
	for _, reason := range []string{orchestrate.EventRolloutStarted, orchestrate.EventRolloutCompleted} {
		if n := e.events.Count(reason, "b"); n != 0 {
			t.Errorf("the revert of a hand image change recorded %d %s events, want none: %v", n, reason, e.events.Recorded()[eventsBefore:])
		}
	}
	if n := e.events.Count("Updated", ""); n != 1 {
		t.Errorf("the revert recorded %d Updated events, want 1: %v", n, e.events.Recorded()[eventsBefore:])
	}
}

// TestRevertThatReplacesPodsShowsProgressing changes node type b's image by
// hand while the operator is disabled, so the Deployment replaces its pods
// with the hand-set image, then enables it again: the revert rolls the pods
// back. While they roll, b is Progressing with reason RevertingDrift (the
// CR is not Ready, so kubectl wait and the like wait for it), and, since the
// CR asked for nothing new, no rollout event is recorded.
func TestRevertThatReplacesPodsShowsProgressing(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)
	setReconcile := func(disabled bool) {
		e.update(func(cr *testv1.Cluster) {
			if cr.Annotations == nil {
				cr.Annotations = map[string]string{}
			}
			delete(cr.Annotations, keys.AnnotationReconcile)
			if disabled {
				cr.Annotations[keys.AnnotationReconcile] = keys.ValueDisabled
			}
		})
	}
	setReconcile(true)
	e.waitFor("the disabled condition", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.Status.Conditions, orchestrate.ConditionReconcileDisabled, metav1.ConditionTrue)
	})
	e.setImageByHand(crName+"-b", image2)
	e.waitForDeploymentB(image2)
	eventsBefore := e.events.Total()
	seen := e.watchProgressing("b")

	setReconcile(false)
	e.waitForDeploymentB(image1)
	e.waitFor("Ready", ready)
	if got := seen(); !slices.Contains(got, "True "+orchestrate.ReasonRevertingDrift) {
		t.Errorf("b's Progressing while its pods rolled back: %v, want True %s among them", got, orchestrate.ReasonRevertingDrift)
	}
	for _, reason := range []string{orchestrate.EventRolloutStarted, orchestrate.EventRolloutCompleted} {
		if n := e.events.Count(reason, "b"); n != 0 {
			t.Errorf("rolling b's pods back recorded %d %s events, want none: %v", n, reason, e.events.Recorded()[eventsBefore:])
		}
	}
}

// setImageByHand changes the image of a Deployment as kubectl set image
// does.
func (e *env) setImageByHand(name, image string) {
	e.t.Helper()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	body := `{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"` + image + `"}]}}}}`
	if err := e.c.Patch(e.ctx(), d, client.RawPatch(types.StrategicMergePatchType, []byte(body))); err != nil {
		e.t.Fatalf("changing the image of %s by hand: %v", name, err)
	}
}

// waitForDeploymentB waits until node type b's Deployment runs image, its
// controller observed it, and all its replicas are updated and ready.
func (e *env) waitForDeploymentB(image string) {
	e.t.Helper()
	name := crName + "-b"
	var d appsv1.Deployment
	err := wait.PollUntilContextTimeout(e.ctx(), 50*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &d); err != nil {
			return false, err
		}
		want := ptr.Deref(d.Spec.Replicas, 1)
		return d.Spec.Template.Spec.Containers[0].Image == image && d.Status.ObservedGeneration == d.Generation &&
			d.Status.Replicas == want && d.Status.UpdatedReplicas == want && d.Status.ReadyReplicas == want, nil
	})
	if err != nil {
		e.t.Fatalf("waiting for Deployment %s to run %s: %v (status %+v)", name, image, err, d.Status)
	}
}

// watchProgressing records every Progressing status and reason the CR's
// status gives node type nodeType from now on; the function it returns
// says which, in order.
func (e *env) watchProgressing(nodeType string) func() []string {
	e.t.Helper()
	var mu sync.Mutex
	var seen []string
	e.watchEvents(&testv1.ClusterList{}, func(ev watch.Event) {
		cr, ok := ev.Object.(*testv1.Cluster)
		if !ok {
			return
		}
		if c := nodeTypeCondition(cr, nodeType, orchestrate.ConditionProgressing); c != nil {
			mu.Lock()
			if s := string(c.Status) + " " + c.Reason; len(seen) == 0 || seen[len(seen)-1] != s {
				seen = append(seen, s)
			}
			mu.Unlock()
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}
