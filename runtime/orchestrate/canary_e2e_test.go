package orchestrate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// withCanary is nodeTypes() with canary on node type name.
func withCanary(name string, canary orchestrate.Canary) []orchestrate.NodeType[*testv1.Cluster] {
	nts := nodeTypes()
	for i := range nts {
		if nts[i].Name == name {
			nts[i].Canary = &canary
		}
	}
	return nts
}

func atCanary(cr *testv1.Cluster) bool {
	cond := nodeTypeCondition(cr, "a", orchestrate.ConditionRolloutBlocked)
	return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == orchestrate.ReasonCanaryWaiting
}

// A canary of one pod stops node type a's rollout once the highest pod of
// its first group (hot) runs the new image, and holds the rest of the
// group, its other group and the node types after it, until the CR's
// annotation approves that revision.
func TestCanaryStopsAtItsPodsAndGoesOnWhenApproved(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("a", orchestrate.Canary{Pods: intstr.FromInt32(1)}))
	e.createCluster(spec())
	e.waitFor("Ready", ready)

	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	cr := e.waitFor("a to stop at its canary", atCanary)
	hot := e.statefulSet(crName + "-a-hot")
	revision := hot.Status.UpdateRevision
	cond := nodeTypeCondition(cr, "a", orchestrate.ConditionRolloutBlocked)
	approve := keys.AnnotationApproveRollout + ".a"
	if !strings.Contains(cond.Message, revision) || !strings.Contains(cond.Message, approve) {
		t.Errorf("RolloutBlocked must name the revision %s and the annotation %s, got %q", revision, approve, cond.Message)
	}
	e.poke()
	e.poke()
	want := []string{crName + "-a-hot-0=" + hot.Status.CurrentRevision, crName + "-a-hot-1=" + revision}
	if got := e.podRevisions(hot); !slices.Equal(got, want) {
		t.Errorf("at the canary, hot's pods are %v, want %v", got, want)
	}
	if got := e.images(); !slices.Equal(got[1:], []string{image1, image1, image1}) {
		t.Errorf("at the canary, cold, b and c run %v, want the old image", got[1:])
	}
	if ready(e.waitFor("a pass", seen)) {
		t.Error("the CR is Ready while its canary waits")
	}

	// An approval of another revision changes nothing.
	e.update(func(cr *testv1.Cluster) { metav1.SetMetaDataAnnotation(&cr.ObjectMeta, approve, "some-other-revision") })
	e.poke()
	if got := e.podRevisions(e.statefulSet(crName + "-a-hot")); !slices.Equal(got, want) {
		t.Errorf("after approving another revision, hot's pods are %v, want %v", got, want)
	}

	e.update(func(cr *testv1.Cluster) { metav1.SetMetaDataAnnotation(&cr.ObjectMeta, approve, revision) })
	e.waitFor("Ready once the canary is approved", ready)
	if got := e.images(); !slices.Equal(got, []string{image2, image2, image2, image2}) {
		t.Errorf("after the approval, images %v", got)
	}
}

// A canary with a soak goes on by itself once its pod has been ready that
// long.
func TestCanaryGoesOnAfterItsSoak(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("a", orchestrate.Canary{Pods: intstr.FromInt32(1), Soak: 3 * time.Second}))
	e.createCluster(spec())
	e.waitFor("Ready", ready)

	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	e.waitFor("a to stop at its canary", atCanary)
	if got := e.images(); got[1] != image1 {
		t.Errorf("cold took the new image while the canary soaks: %v", got)
	}
	e.waitFor("Ready after the soak", ready)
	if got := e.images(); !slices.Equal(got, []string{image2, image2, image2, image2}) {
		t.Errorf("after the soak, images %v", got)
	}
}

// A canary on a node type whose first group is a Deployment cannot stop
// anywhere: the CR says so, and nothing is created.
func TestCanaryOnADeploymentIsAnError(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)}))
	e.createCluster(spec())
	cr := e.waitFor("the CR to say why it stalls", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.GetClusterStatus().Conditions, orchestrate.ConditionStalled, metav1.ConditionTrue)
	})
	ready := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady)
	if ready == nil || !strings.Contains(ready.Message, `node type "b" has a Canary`) || !strings.Contains(ready.Message, "Deployment") {
		t.Errorf("Ready is %+v, want it to name node type b, its Canary and its Deployment", ready)
	}
	var deployments appsv1.DeploymentList
	var sets appsv1.StatefulSetList
	if err := e.c.List(e.ctx(), &deployments, client.InNamespace(e.ns)); err != nil {
		t.Fatal(err)
	}
	if err := e.c.List(e.ctx(), &sets, client.InNamespace(e.ns)); err != nil {
		t.Fatal(err)
	}
	if n := len(deployments.Items) + len(sets.Items); n != 0 {
		t.Errorf("%d workloads were created, want none", n)
	}
}
