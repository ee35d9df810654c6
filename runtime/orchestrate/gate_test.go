package orchestrate_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// appGate plays the application behind a node type's hooks: pods it is
// told are unhealthy, or must stay, get a no; every question is noted.
type appGate struct {
	mu        sync.Mutex
	unhealthy map[string]bool
	keep      map[string]bool
	// badImage, if set, makes every pod running it unhealthy.
	badImage string
	removals []string // pods BeforeRemove said yes to, in order
	healthy  []string // pods Healthy was asked about, in order
	// whenRemoving, if set, runs on each BeforeRemove question.
	whenRemoving func(pod string)
	// fail, if set, is the error Healthy answers for every pod.
	fail error
}

func newAppGate() *appGate {
	return &appGate{unhealthy: map[string]bool{}, keep: map[string]bool{}}
}

func (g *appGate) set(m map[string]bool, pod string, on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m[pod] = on
}

func (g *appGate) hooks() orchestrate.Hooks[*testv1.Cluster] {
	return orchestrate.Hooks[*testv1.Cluster]{
		Healthy: func(_ context.Context, _ *testv1.Cluster, pod *corev1.Pod) (orchestrate.Verdict, error) {
			g.mu.Lock()
			defer g.mu.Unlock()
			g.healthy = append(g.healthy, pod.Name)
			if g.fail != nil {
				return orchestrate.Verdict{}, g.fail
			}
			if g.unhealthy[pod.Name] || (g.badImage != "" && pod.Spec.Containers[0].Image == g.badImage) {
				return orchestrate.Verdict{Reason: "loading segments"}, nil
			}
			return orchestrate.Verdict{OK: true}, nil
		},
		BeforeRemove: func(_ context.Context, _ *testv1.Cluster, pod *corev1.Pod) (orchestrate.Verdict, error) {
			g.mu.Lock()
			hook := g.whenRemoving
			g.mu.Unlock()
			if hook != nil {
				hook(pod.Name)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.keep[pod.Name] {
				return orchestrate.Verdict{Reason: "segments not yet moved off"}, nil
			}
			g.removals = append(g.removals, pod.Name)
			return orchestrate.Verdict{OK: true}, nil
		},
		// Short, so the test does not wait long for the requeue that asks
		// again.
		Recheck: 300 * time.Millisecond,
	}
}

func (g *appGate) removed() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.removals)
}

// hookedNodeTypes is nodeTypes() with gate's hooks on node type name.
func hookedNodeTypes(name string, gate *appGate) []orchestrate.NodeType[*testv1.Cluster] {
	nts := nodeTypes()
	for i := range nts {
		if nts[i].Name == name {
			nts[i].Hooks = gate.hooks()
		}
	}
	return nts
}

// withReplicas returns spec() with node type name at n replicas.
func withReplicas(name string, n int32) testv1.ClusterSpec {
	s := spec()
	for i := range s.NodeTypes {
		if s.NodeTypes[i].Name == name {
			s.NodeTypes[i].Replicas = n
		}
	}
	return s
}

func (e *env) statefulSet(name string) *appsv1.StatefulSet {
	e.t.Helper()
	var sts appsv1.StatefulSet
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: name}, &sts); err != nil {
		e.t.Fatal(err)
	}
	return &sts
}

// podRevisions returns each pod of a StatefulSet with its revision,
// "<pod>=<revision>", by name.
func (e *env) podRevisions(sts *appsv1.StatefulSet) []string {
	e.t.Helper()
	var pods corev1.PodList
	if err := e.c.List(e.ctx(), &pods, client.InNamespace(e.ns), client.MatchingLabels(sts.Spec.Selector.MatchLabels)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p.Name+"="+p.Labels[appsv1.ControllerRevisionHashLabelKey])
		}
	}
	slices.Sort(out)
	return out
}

// changeConfig changes the config of node type name from what newEnv gives
// it, which rolls its pods.
func changeConfig(name string) func(*testv1.Cluster) {
	return func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == name {
				cr.Spec.NodeTypes[i].Config = map[string]string{"level": "2"}
			}
		}
	}
}

// A node type with hooks rolls its StatefulSet one pod at a time, highest
// ordinal first: each pod is asked whether it may go before it is
// replaced, and the next one goes only once the replaced pod is healthy in
// the application's terms. A pod that stays unhealthy stops the rollout
// there, with a condition and one event naming it.
func TestHealthGateRollsAStatefulSetPodByPod(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("c", gate))
	e.createCluster(withReplicas("c", 3))
	e.waitFor("Ready", ready)
	e.requireSteady()
	if n := e.podLists(); n != 0 {
		t.Errorf("steady state listed pods %d times, want 0", n)
	}

	c := crName + "-c"
	old := e.statefulSet(c).Status.CurrentRevision
	gate.set(gate.unhealthy, c+"-1", true)
	e.update(changeConfig("c"))

	cr := e.waitFor("the rollout to wait on pod c-1's health", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
		return cond != nil && cond.Status == metav1.ConditionTrue && cond.Reason == orchestrate.ReasonWaitingForHook
	})
	cond := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked)
	if !strings.Contains(cond.Message, c+"-1") || !strings.Contains(cond.Message, "loading segments") {
		t.Errorf("RolloutBlocked must name the pod and the gate's reason, got %q", cond.Message)
	}
	if ready(cr) {
		t.Error("the CR is Ready while a pod fails its health gate")
	}
	sts := e.statefulSet(c)
	updated := sts.Status.UpdateRevision
	want := []string{c + "-0=" + old, c + "-1=" + updated, c + "-2=" + updated}
	if got := e.podRevisions(sts); !slices.Equal(got, want) {
		t.Errorf("while pod 1 is unhealthy the pods are %v, want %v: pod 0 must not be replaced", got, want)
	}
	// Asked again after Recheck, and still no: one event all the same.
	e.poke()
	e.poke()
	if n := e.events.Count(orchestrate.EventPodNotHealthy, "c"); n != 1 {
		t.Errorf("%d %s events, want 1", n, orchestrate.EventPodNotHealthy)
	}
	e.requireWaitCost(3 * time.Second)

	gate.set(gate.unhealthy, c+"-1", false)
	e.waitFor("Ready after the gate opens", ready)
	sts = e.statefulSet(c)
	want = []string{c + "-0=" + updated, c + "-1=" + updated, c + "-2=" + updated}
	if got := e.podRevisions(sts); !slices.Equal(got, want) {
		t.Errorf("after the rollout the pods are %v, want %v", got, want)
	}
	if got, want := gate.removed(), []string{c + "-2", c + "-1", c + "-0"}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v: each pod, highest first, before it was replaced", got, want)
	}
	if sts.Status.CurrentRevision != updated {
		t.Errorf("current revision %s, want %s", sts.Status.CurrentRevision, updated)
	}
	e.requireSteady()
	if n := e.podLists(); n != 0 {
		t.Errorf("steady state listed pods %d times, want 0", n)
	}
}

// A health gate that says no holds the node types after its own in the
// deployment order: they roll only once its pods are healthy.
func TestHealthGateHoldsLaterNodeTypes(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("b", gate))
	e.createCluster(spec())
	e.waitFor("Ready", ready)

	gate.mu.Lock()
	gate.badImage = image2
	gate.mu.Unlock()
	e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
	cr := e.waitFor("b to wait on its health gate", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
		return cond != nil && cond.Reason == orchestrate.ReasonWaitingForHook
	})
	if cond := nodeTypeCondition(cr, "c", orchestrate.ConditionRolloutBlocked); cond == nil ||
		cond.Reason != orchestrate.ReasonWaitingForNodeType || !strings.Contains(cond.Message, `"b"`) {
		t.Errorf("c's RolloutBlocked is %+v, want it waiting for b", cond)
	}
	e.poke()
	if got := e.images(); got[3] != image1 {
		t.Fatalf("c took the new image while b's pods are unhealthy: %v\n%s", got, describeStatus(cr))
	}
	if n := len(e.podsOfB(image2)); n != 2 {
		t.Errorf("b runs %d pods of the new image, want 2: its rollout is done but for the gate", n)
	}
	gate.mu.Lock()
	gate.badImage = ""
	gate.mu.Unlock()
	e.waitFor("Ready once b is healthy", ready)
	if got := e.images(); !slices.Equal(got, []string{image2, image2, image2, image2}) {
		t.Errorf("images %v after the rollout", got)
	}
}

// A scale-down of a node type with hooks removes one pod at a time, highest
// ordinal first, each once BeforeRemove says yes.
func TestBeforeRemoveScalesDownOnePodAtATime(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("c", gate))
	e.createCluster(withReplicas("c", 3))
	e.waitFor("Ready", ready)
	c := crName + "-c"

	// When pod 1 is asked about, pod 2 must be gone already.
	var stillThere []string
	gate.mu.Lock()
	gate.whenRemoving = func(pod string) {
		if pod != c+"-1" {
			return
		}
		var p corev1.Pod
		err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.ns, Name: c + "-2"}, &p)
		if !apierrors.IsNotFound(err) {
			gate.mu.Lock()
			stillThere = append(stillThere, fmt.Sprintf("%s: %v", p.Name, err))
			gate.mu.Unlock()
		}
	}
	gate.mu.Unlock()
	gate.set(gate.keep, c+"-2", true)
	e.update(func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == "c" {
				cr.Spec.NodeTypes[i].Replicas = 1
			}
		}
	})
	e.waitFor("the removal of pod 2 to be held", func(*testv1.Cluster) bool {
		return e.events.Count(orchestrate.EventPodRemovalHeld, "c") == 1
	})
	e.poke()
	if sts := e.statefulSet(c); ptr.Deref(sts.Spec.Replicas, 0) != 3 {
		t.Errorf("replicas %d while pod 2 may not go, want 3", ptr.Deref(sts.Spec.Replicas, 0))
	}
	gate.set(gate.keep, c+"-2", false)
	e.waitFor("Ready at one replica", func(cr *testv1.Cluster) bool {
		return ready(cr) && ptr.Deref(e.statefulSet(c).Spec.Replicas, 0) == 1 && len(e.podRevisions(e.statefulSet(c))) == 1
	})
	if got, want := gate.removed(), []string{c + "-2", c + "-1"}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v", got, want)
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if len(stillThere) > 0 {
		t.Errorf("pod 1 was asked about while pod 2 still existed: %v", stillThere)
	}
}

// requireWaitCost checks what a rollout waiting on a hook costs over window:
// the hook is asked again through a requeue after its Recheck (300 ms here),
// each time with one pod LIST for the one workload judged, and nothing is
// written. Fewer asks than that (a slow machine) pass; more would be a busy
// loop.
func (e *env) requireWaitCost(window time.Duration) {
	e.t.Helper()
	e.counter.Reset()
	time.Sleep(window)
	lists := e.podLists()
	var writes []string
	for _, w := range e.counter.WriteRequests() {
		if !strings.Contains(w, "/apis/events.k8s.io/") {
			writes = append(writes, w)
		}
	}
	e.t.Logf("waiting %s on a hook: %d pod LISTs, requests %v", window, lists, e.counter.Snapshot())
	if len(writes) != 0 {
		e.t.Errorf("waiting on a hook wrote: %v", writes)
	}
	if most := int(window/(300*time.Millisecond)) + 3; lists == 0 || lists > most {
		e.t.Errorf("waiting %s on a hook listed pods %d times, want 1 to %d: once per Recheck", window, lists, most)
	}
}

// podLists counts the pod LIST requests the operator made since the
// counter's last reset.
func (e *env) podLists() int {
	n := 0
	for key, count := range e.counter.Snapshot() {
		if strings.HasPrefix(key, "GET ") && strings.HasSuffix(key, "/pods") {
			n += count
		}
	}
	return n
}

// podsOfB returns the names of the pods of node type b's Deployment that
// run image.
func (e *env) podsOfB(image string) []string {
	e.t.Helper()
	var d appsv1.Deployment
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName + "-b"}, &d); err != nil {
		e.t.Fatal(err)
	}
	var pods corev1.PodList
	if err := e.c.List(e.ctx(), &pods, client.InNamespace(e.ns), client.MatchingLabels(d.Spec.Selector.MatchLabels)); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == image {
			out = append(out, p.Name)
		}
	}
	return out
}

// withoutNodeType removes node type name from the CR.
func withoutNodeType(name string) func(*testv1.Cluster) {
	return func(cr *testv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testv1.NodeTypeSpec) bool { return nt.Name == name })
	}
}

// Removing a node type with a BeforeRemove hook from the CR removes its
// StatefulSet's pods one at a time, highest ordinal first, each once the
// hook says yes, and deletes the StatefulSet only after its last pod.
func TestBeforeRemoveDrainsARemovedNodeType(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("c", gate))
	e.createCluster(withReplicas("c", 3))
	e.waitFor("Ready", ready)
	c := crName + "-c"

	gate.set(gate.keep, c+"-2", true)
	e.update(withoutNodeType("c"))
	cr := e.waitFor("c's removal to wait on pod 2", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "c", orchestrate.ConditionProgressing)
		return cond != nil && cond.Reason == orchestrate.ReasonRemovingPods && strings.Contains(cond.Message, c+"-2")
	})
	if ready(cr) {
		t.Error("the CR is Ready while a removed node type still has pods")
	}
	e.poke()
	if sts := e.statefulSet(c); ptr.Deref(sts.Spec.Replicas, 0) != 3 || len(e.podRevisions(sts)) != 3 {
		t.Fatalf("the StatefulSet of c has %d replicas and pods %v while pod 2 may not go, want 3 and 3",
			ptr.Deref(sts.Spec.Replicas, 0), e.podRevisions(sts))
	}

	gate.set(gate.keep, c+"-2", false)
	e.waitFor("Ready without c", func(cr *testv1.Cluster) bool {
		if !ready(cr) {
			return false
		}
		var sts appsv1.StatefulSet
		return apierrors.IsNotFound(e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: c}, &sts))
	})
	if got, want := gate.removed(), []string{c + "-2", c + "-1", c + "-0"}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v", got, want)
	}
	if n := e.events.Count(orchestrate.EventPodRemovalHeld, "c"); n != 1 {
		t.Errorf("%d %s events, want 1", n, orchestrate.EventPodRemovalHeld)
	}
	if cr := e.waitFor("c to leave the status", func(cr *testv1.Cluster) bool {
		return nodeTypeCondition(cr, "c", orchestrate.ConditionProgressing) == nil
	}); !ready(cr) {
		t.Error("not Ready after c is gone")
	}
}

// Removing a Deployment's node type with a BeforeRemove hook removes the
// very pod the hook agreed to, one at a time, before the Deployment.
func TestBeforeRemoveDrainsADeploymentPodTheHookChose(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("b", gate))
	e.createCluster(spec())
	e.waitFor("Ready", ready)
	pods := e.podsOfB(image1)
	if len(pods) != 2 {
		t.Fatalf("b runs pods %v, want 2", pods)
	}
	// The first pod by name must stay: the other one is to go first.
	gate.set(gate.keep, pods[0], true)
	e.update(withoutNodeType("b"))
	e.waitFor("the Deployment of b to be down to the kept pod", func(*testv1.Cluster) bool {
		left := e.podsOfB(image1)
		return len(left) == 1 && left[0] == pods[0]
	})
	e.poke()
	if left := e.podsOfB(image1); len(left) != 1 {
		t.Fatalf("b runs %v while its last pod may not go", left)
	}
	gate.set(gate.keep, pods[0], false)
	e.waitFor("Ready without b", func(cr *testv1.Cluster) bool {
		var d appsv1.Deployment
		return ready(cr) && apierrors.IsNotFound(e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: crName + "-b"}, &d))
	})
	if got, want := gate.removed(), []string{pods[1], pods[0]}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v", got, want)
	}
}

// A scale-down of a Deployment with hooks removes one pod at a time, each
// one BeforeRemove agreed to: none while it says no to all, and the pod it
// keeps stays.
func TestBeforeRemoveScalesDownADeploymentOnePodAtATime(t *testing.T) {
	gate := newAppGate()
	e := newEnvWith(t, orchestrate.Config{}, hookedNodeTypes("b", gate))
	e.createCluster(withReplicas("b", 3))
	e.waitFor("Ready", ready)
	pods := e.podsOfB(image1)
	if len(pods) != 3 {
		t.Fatalf("b runs pods %v, want 3", pods)
	}
	for _, p := range pods {
		gate.set(gate.keep, p, true)
	}
	e.update(func(cr *testv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == "b" {
				cr.Spec.NodeTypes[i].Replicas = 1
			}
		}
	})
	e.waitFor("the scale-down to wait on BeforeRemove", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "b", orchestrate.ConditionRolloutBlocked)
		return cond != nil && cond.Reason == orchestrate.ReasonWaitingForHook
	})
	e.poke()
	if left := e.podsOfB(image1); !slices.Equal(left, pods) {
		t.Fatalf("b runs %v while BeforeRemove says no to every pod, want %v", left, pods)
	}

	// When pods[2] is asked about, pods[1] must be gone already.
	var stillThere []string
	gate.mu.Lock()
	gate.whenRemoving = func(pod string) {
		if pod == pods[2] && slices.Contains(e.podsOfB(image1), pods[1]) {
			stillThere = append(stillThere, pods[1])
		}
	}
	gate.mu.Unlock()
	gate.set(gate.keep, pods[1], false)
	gate.set(gate.keep, pods[2], false)
	e.waitFor("Ready at one replica", func(cr *testv1.Cluster) bool {
		return ready(cr) && slices.Equal(e.podsOfB(image1), pods[:1])
	})
	if got, want := gate.removed(), []string{pods[1], pods[2]}; !slices.Equal(got, want) {
		t.Errorf("BeforeRemove said yes to %v, want %v", got, want)
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	if len(stillThere) > 0 {
		t.Errorf("pod %s was asked about while %v was still there: two pods went at once", pods[2], stillThere)
	}
}
