package orchestrate_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
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

// A canary on a node type whose first group is a StatefulSet with the
// OnDelete strategy cannot stop anywhere: only a person replaces its pods.
// The CR says so, and nothing is created.
func TestCanaryOnAnOnDeleteStatefulSetIsAnError(t *testing.T) {
	nts := withCanary("a", orchestrate.Canary{Pods: intstr.FromInt32(1)})
	build := nts[0].Build
	nts[0].Build = func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		for _, g := range groups {
			for _, obj := range g.Objects {
				if sts, ok := obj.(*appsv1.StatefulSet); ok {
					sts.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
				}
			}
		}
		return groups, err
	}
	e := newEnvWith(t, orchestrate.Config{}, nts)
	e.createCluster(spec())
	cr := e.waitFor("the CR to say why it stalls", func(cr *testv1.Cluster) bool {
		return conditionIs(cr.GetClusterStatus().Conditions, orchestrate.ConditionStalled, metav1.ConditionTrue)
	})
	ready := meta.FindStatusCondition(cr.GetClusterStatus().Conditions, orchestrate.ConditionReady)
	if ready == nil || !strings.Contains(ready.Message, `node type "a" has a Canary`) || !strings.Contains(ready.Message, "OnDelete") {
		t.Errorf("Ready is %+v, want it to name node type a, its Canary and the OnDelete strategy", ready)
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

// The canary of node type b, whose only group is Deployment db-b.
const (
	mainB   = crName + "-b"
	canaryB = crName + "-b-canary"
)

// specB is spec() with three replicas of b, so a canary of one pod runs
// beside them.
func specB() testv1.ClusterSpec {
	s := spec()
	s.NodeTypes[1].Replicas = 3
	return s
}

func configB(level string) func(*testv1.Cluster) {
	return func(cr *testv1.Cluster) { cr.Spec.NodeTypes[1].Config = map[string]string{"level": level} }
}

func bAtCanary(cr *testv1.Cluster) bool {
	cond := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
	return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == orchestrate.ReasonCanaryWaiting
}

// deployment reads Deployment name from the API server; nil when there is
// none.
func (e *env) deployment(name string) *appsv1.Deployment {
	e.t.Helper()
	var d appsv1.Deployment
	err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: name}, &d)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return &d
}

// replicaSetsOf returns the names of the ReplicaSets d controls, sorted.
func (e *env) replicaSetsOf(d *appsv1.Deployment) []string {
	e.t.Helper()
	var list appsv1.ReplicaSetList
	if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], d) {
			out = append(out, list.Items[i].Name)
		}
	}
	slices.Sort(out)
	return out
}

// podUIDs returns the UIDs of the pods of the node types named, canaries
// left out, by pod name; terminating pods are left out too.
func (e *env) podUIDs(nodeTypes ...string) map[string]types.UID {
	e.t.Helper()
	var list corev1.PodList
	if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]types.UID{}
	for _, p := range list.Items {
		if slices.Contains(nodeTypes, p.Labels[keys.LabelComponent]) && p.Labels[keys.LabelCanary] == "" && p.DeletionTimestamp == nil {
			out[p.Name] = p.UID
		}
	}
	return out
}

// readyCanaryPods returns the names of b's canary pods that are Ready.
func (e *env) readyCanaryPods() []string {
	e.t.Helper()
	var list corev1.PodList
	if err := e.c.List(e.ctx(), &list, client.InNamespace(e.ns), client.MatchingLabels{keys.LabelCanary: keys.ValueTrue}); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp == nil && podReady(&list.Items[i]) {
			out = append(out, list.Items[i].Name)
		}
	}
	return out
}

// mainBState is what the canary must leave alone of Deployment db-b.
type mainBState struct {
	generation int64
	configHash string
	sets       []string
	pods       map[string]types.UID
}

func (e *env) mainB() mainBState {
	e.t.Helper()
	d := e.deployment(mainB)
	return mainBState{d.Generation, d.Spec.Template.Annotations[keys.AnnotationConfigHash], e.replicaSetsOf(d), e.podUIDs("b")}
}

// requireCanaryOfB checks the canary db-b-canary while it waits: the CR
// controls it, it runs one Ready pod of a configuration other than the
// main Deployment's, and the main Deployment is as before. It returns the
// revision the canary runs.
func (e *env) requireCanaryOfB(cr *testv1.Cluster, before mainBState) string {
	e.t.Helper()
	canary := e.deployment(canaryB)
	if canary == nil {
		e.t.Fatalf("no Deployment %s while b waits at its canary", canaryB)
	}
	if !metav1.IsControlledBy(canary, cr) {
		e.t.Errorf("the canary's owner references are %+v, want the CR as controller", canary.OwnerReferences)
	}
	if got := ptr.Deref(canary.Spec.Replicas, 0); got != 1 {
		e.t.Errorf("the canary has %d replicas, want 1", got)
	}
	if h := canary.Spec.Template.Annotations[keys.AnnotationConfigHash]; h == "" || h == before.configHash {
		e.t.Errorf("the canary runs config hash %q, want the new configuration, not %q", h, before.configHash)
	}
	if got := e.readyCanaryPods(); len(got) != 1 {
		e.t.Errorf("the canary has Ready pods %v, want one", got)
	}
	if after := e.mainB(); !reflect.DeepEqual(after, before) {
		e.t.Errorf("the main Deployment changed while its canary waits:\\nbefore %+v\\nafter  %+v", before, after)
	}
	revision := canary.Annotations[keys.AnnotationCanaryRevision]
	cond := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
	approve := keys.AnnotationApproveRollout + ".b"
	if revision == "" || !strings.Contains(cond.Message, revision) || !strings.Contains(cond.Message, approve) {
		e.t.Errorf("RolloutBlocked must name the canary's revision %q and the annotation %s, got %q", revision, approve, cond.Message)
	}
	return revision
}

// requireMainBRolled checks that, once b is rolled out past its canary,
// db-b has exactly one new ReplicaSet and runs the canary's configuration,
// and that the canary is gone.
func (e *env) requireMainBRolled(before mainBState, canaryHash string) {
	e.t.Helper()
	e.eventually("the canary to be pruned", func() error {
		if e.deployment(canaryB) != nil {
			return fmt.Errorf("Deployment %s still exists", canaryB)
		}
		return nil
	})
	d := e.deployment(mainB)
	sets := e.replicaSetsOf(d)
	if added := slices.DeleteFunc(slices.Clone(sets), func(s string) bool { return slices.Contains(before.sets, s) }); len(added) != 1 {
		e.t.Errorf("db-b has ReplicaSets %v, was %v: want exactly one new", sets, before.sets)
	}
	if h := d.Spec.Template.Annotations[keys.AnnotationConfigHash]; h != canaryHash {
		e.t.Errorf("db-b runs config hash %q, want the canary's %q", h, canaryHash)
	}
}

// requireCanaryWhileMainBRolls watches db-b roll out once the canary is
// approved, and fails if the canary is gone before every pod of db-b runs
// the new template and is available: its pods serve until then.
func (e *env) requireCanaryWhileMainBRolls(before mainBState) {
	e.t.Helper()
	err := wait.PollUntilContextTimeout(e.ctx(), 20*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		d := e.deployment(mainB)
		want := ptr.Deref(d.Spec.Replicas, 1)
		rolled := d.Generation > before.generation && d.Status.ObservedGeneration == d.Generation &&
			d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == want && d.Status.Replicas == want
		if rolled {
			return true, nil
		}
		if d.Generation > before.generation && e.deployment(canaryB) == nil {
			return false, fmt.Errorf("the canary is gone while db-b rolls out: %+v", d.Status)
		}
		return false, nil
	})
	if err != nil {
		e.t.Fatalf("db-b's rollout after the approval: %v", err)
	}
}

// A canary of a Deployment is a Deployment of its own: a config change of
// b starts db-b-canary with one pod of the new configuration beside db-b's
// three, leaves db-b unwritten and holds c, until the CR approves the
// canary's revision; then db-b rolls once and the canary goes.
func TestDeploymentCanaryRunsBesideAndGoesOnWhenApproved(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)}))
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before, others := e.mainB(), e.podUIDs("a", "c")
	if e.deployment(canaryB) != nil {
		t.Errorf("a canary runs before any rollout")
	}

	e.update(configB("2"))
	cr := e.waitFor("b to wait at its canary", bAtCanary)
	revision := e.requireCanaryOfB(cr, before)
	canaryHash := e.deployment(canaryB).Spec.Template.Annotations[keys.AnnotationConfigHash]
	e.poke()
	e.poke()
	cr = e.waitFor("a pass", seen)
	if !bAtCanary(cr) || ready(cr) {
		t.Errorf("after two passes b is not waiting at its canary, or the CR is Ready:\n%s", describeStatus(cr))
	}
	e.requireCanaryOfB(cr, before)
	if n := e.events.Count(orchestrate.EventRolloutBlocked, "b"); n != 1 {
		t.Errorf("%d RolloutBlocked events about b, want 1", n)
	}

	// An approval of another revision changes nothing.
	approve := keys.AnnotationApproveRollout + ".b"
	e.update(func(cr *testv1.Cluster) { metav1.SetMetaDataAnnotation(&cr.ObjectMeta, approve, "some-other-revision") })
	e.poke()
	e.requireCanaryOfB(e.waitFor("a pass", seen), before)

	e.update(func(cr *testv1.Cluster) { metav1.SetMetaDataAnnotation(&cr.ObjectMeta, approve, revision) })
	e.requireCanaryWhileMainBRolls(before)
	e.waitFor("Ready once the canary is approved", ready)
	e.requireMainBRolled(before, canaryHash)
	if got := e.podUIDs("a", "c"); !maps.Equal(got, others) {
		t.Errorf("pods of a and c were replaced:\nbefore %v\nafter  %v", others, got)
	}
	e.requireSteady()
}

// A canary's wait is in the cluster, not in the operator's memory: an
// operator started anew finds the canary where it was, with the main
// Deployment still unwritten, and goes on once the canary is approved.
func TestDeploymentCanarySurvivesAnOperatorRestart(t *testing.T) {
	nts := withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)})
	e := newEnvWith(t, orchestrate.Config{}, nts)
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before := e.mainB()
	e.update(configB("2"))
	cr := e.waitFor("b to wait at its canary", bAtCanary)
	revision := e.requireCanaryOfB(cr, before)
	canary := e.deployment(canaryB)

	e.stop()
	e.start(orchestrate.Config{}, nts, nil)
	e.poke()
	e.poke()
	cr = e.waitFor("a pass", seen)
	if !bAtCanary(cr) {
		t.Errorf("after the restart b is not waiting at its canary:\n%s", describeStatus(cr))
	}
	e.requireCanaryOfB(cr, before)
	if again := e.deployment(canaryB); again.UID != canary.UID || again.Generation != canary.Generation {
		t.Errorf("the restarted operator wrote the canary again (UID %s generation %d, was %s %d)",
			again.UID, again.Generation, canary.UID, canary.Generation)
	}

	e.update(func(cr *testv1.Cluster) {
		metav1.SetMetaDataAnnotation(&cr.ObjectMeta, keys.AnnotationApproveRollout+".b", revision)
	})
	e.waitFor("Ready once the canary is approved", ready)
	e.requireMainBRolled(before, canary.Spec.Template.Annotations[keys.AnnotationConfigHash])
}

// A Deployment's canary with a soak goes on by itself once its pod has
// been Ready that long.
func TestDeploymentCanaryGoesOnAfterItsSoak(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1), Soak: 3 * time.Second}))
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before := e.mainB()
	e.update(configB("2"))
	cr := e.waitFor("b to wait at its canary", bAtCanary)
	e.requireCanaryOfB(cr, before)
	canaryHash := e.deployment(canaryB).Spec.Template.Annotations[keys.AnnotationConfigHash]
	e.waitFor("Ready after the soak", ready)
	e.requireMainBRolled(before, canaryHash)
}

// A pause holds a Deployment's canary as it holds any workload: a change
// made while paused does not reach the canary; once the pause is lifted
// the canary takes it, and waits again for an approval of the new
// revision, the main Deployment still unwritten.
func TestDeploymentCanaryIsHeldByAPauseAndTakesANewChange(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)}))
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before := e.mainB()
	e.update(configB("2"))
	first := e.requireCanaryOfB(e.waitFor("b to wait at its canary", bAtCanary), before)
	canary := e.deployment(canaryB)

	e.setAnnotation(keys.AnnotationPauseRollout, keys.ValueTrue)
	e.update(configB("3"))
	e.poke()
	e.poke()
	if again := e.deployment(canaryB); again == nil || again.Generation != canary.Generation {
		t.Fatalf("the pause did not hold the canary: it is gone or at another generation than %d", canary.Generation)
	}
	if after := e.mainB(); !reflect.DeepEqual(after, before) {
		t.Errorf("the main Deployment changed while paused:\nbefore %+v\nafter  %+v", before, after)
	}

	e.setAnnotation(keys.AnnotationPauseRollout, "")
	cr := e.waitFor("b to wait at its canary of the new change", func(cr *testv1.Cluster) bool {
		return bAtCanary(cr) && !strings.Contains(nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked).Message, first)
	})
	second := e.requireCanaryOfB(cr, before)
	if again := e.deployment(canaryB); again.UID != canary.UID {
		t.Errorf("the canary was replaced (UID %s, was %s); its template should have been", again.UID, canary.UID)
	}
	canaryHash := e.deployment(canaryB).Spec.Template.Annotations[keys.AnnotationConfigHash]
	e.setAnnotation(keys.AnnotationApproveRollout+".b", second)
	e.waitFor("Ready once the canary is approved", ready)
	e.requireMainBRolled(before, canaryHash)
}

// A canary no longer registered goes at once, and takes nothing with it:
// an operator started without it prunes the canary Deployment, and the
// main one rolls as without a canary.
func TestDeploymentCanaryIsPrunedWithItsCanary(t *testing.T) {
	e := newEnvWith(t, orchestrate.Config{}, withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)}))
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before := e.mainB()
	e.update(configB("2"))
	e.requireCanaryOfB(e.waitFor("b to wait at its canary", bAtCanary), before)
	canaryHash := e.deployment(canaryB).Spec.Template.Annotations[keys.AnnotationConfigHash]

	e.stop()
	e.start(orchestrate.Config{}, nodeTypes(), nil)
	e.poke()
	e.waitFor("Ready without the canary", ready)
	e.requireMainBRolled(before, canaryHash)
}

// A canary's pods are extra ones: when its node type is removed, the
// canary Deployment is pruned at once, without asking BeforeRemove, while
// the main Deployment drains one pod at a time as the hook allows (here
// never).
func TestDeploymentCanaryIsNotDrained(t *testing.T) {
	nts := withCanary("b", orchestrate.Canary{Pods: intstr.FromInt32(1)})
	nts[1].Hooks.BeforeRemove = func(context.Context, *testv1.Cluster, *corev1.Pod) (orchestrate.Verdict, error) {
		return orchestrate.Verdict{Reason: "the test keeps every pod"}, nil
	}
	e := newEnvWith(t, orchestrate.Config{}, nts)
	e.createCluster(specB())
	e.waitFor("Ready", ready)
	before := e.mainB()
	e.update(configB("2"))
	e.requireCanaryOfB(e.waitFor("b to wait at its canary", bAtCanary), before)

	e.update(func(cr *testv1.Cluster) { cr.Spec.NodeTypes = slices.Delete(cr.Spec.NodeTypes, 1, 2) })
	e.eventually("the canary to be pruned", func() error {
		if e.deployment(canaryB) != nil {
			return fmt.Errorf("Deployment %s still exists", canaryB)
		}
		return nil
	})
	e.poke()
	if d := e.deployment(mainB); d == nil || ptr.Deref(d.Spec.Replicas, 0) != 3 {
		t.Errorf("db-b is gone or scaled down although BeforeRemove says no: %v", d != nil)
	}
}
