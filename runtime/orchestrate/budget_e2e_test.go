package orchestrate_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// podWatch follows the pods of one node type through a watch and records,
// after every event, how many of its desired pods are unavailable and which
// of its groups are rolling (a pod missing, unready, terminating, or its
// pods at two revisions).
type podWatch struct {
	mu   sync.Mutex
	pods map[string]*corev1.Pod
	// desired is the node type's pods per group.
	desired map[string]int
	// maxUnavailable is the most pods of the node type seen unavailable at
	// once, maxRolling the most groups seen rolling at once.
	maxUnavailable, maxRolling int
	// endedEarly reports whether the watch ended before the test.
	endedEarly func() bool
	// synced is true once the watch has seen every pod Ready: the counts
	// start there, not while its initial events arrive one by one.
	synced chan struct{}
}

func (e *env) watchPods(nodeType string, desired map[string]int) *podWatch {
	e.t.Helper()
	pw := &podWatch{pods: map[string]*corev1.Pod{}, desired: desired, synced: make(chan struct{})}
	pw.endedEarly = e.watchEvents(&corev1.PodList{}, pw.record,
		client.MatchingLabels(keys.SelectorLabels("testapp", crName, nodeType)))
	select {
	case <-pw.synced:
	case <-e.ctx().Done():
		e.t.Fatal("the pod watch never saw every pod Ready")
	}
	return pw
}

func (pw *podWatch) record(ev watch.Event) {
	pod, ok := ev.Object.(*corev1.Pod)
	if !ok {
		return
	}
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if ev.Type == watch.Deleted {
		delete(pw.pods, pod.Name)
	} else {
		pw.pods[pod.Name] = pod
	}
	available := map[string]int{}
	revisions := map[string]map[string]bool{}
	for _, p := range pw.pods {
		group := p.Labels[keys.LabelGroup]
		if revisions[group] == nil {
			revisions[group] = map[string]bool{}
		}
		revisions[group][p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
		if p.DeletionTimestamp == nil && podReady(p) {
			available[group]++
		}
	}
	unavailable, rolling := 0, 0
	for group, want := range pw.desired {
		unavailable += max(want-available[group], 0)
		if available[group] < want || len(revisions[group]) > 1 {
			rolling++
		}
	}
	select {
	case <-pw.synced:
	default:
		if unavailable > 0 || rolling > 0 {
			return
		}
		close(pw.synced)
	}
	pw.maxUnavailable = max(pw.maxUnavailable, unavailable)
	pw.maxRolling = max(pw.maxRolling, rolling)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (pw *podWatch) result() (maxUnavailable, maxRolling int, err error) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.endedEarly() {
		err = errors.New("the pod watch ended early")
	}
	return pw.maxUnavailable, pw.maxRolling, err
}

// With a change budget of 2 pods, two of node type a's three StatefulSets
// (hot, warm and cold, 2 pods each) roll at the same time, the third once
// there is room, and never more than 2 of a's pods are unavailable at
// once; without one, each group rolls only once the one before it is
// rolled out, so never more than one group rolls and one pod is
// unavailable. Either way every workload rolls once.
func TestChangeBudgetRollsGroupsInParallel(t *testing.T) {
	for _, tt := range []struct {
		name        string
		budget      *orchestrate.ChangeBudget
		wantRolling int
		maxDown     int
	}{
		{name: "without a budget", budget: nil, wantRolling: 1, maxDown: 1},
		{name: "with a budget of 2", budget: &orchestrate.ChangeBudget{MaxUnavailable: intstr.FromInt32(2)}, wantRolling: 2, maxDown: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nts := nodeTypes()
			nts[0].ChangeBudget = tt.budget
			e := newEnvWith(t, orchestrate.Config{}, nts)
			s := spec()
			s.NodeTypes[0].Groups = []string{"hot", "warm", "cold"}
			e.createCluster(s)
			e.waitFor("Ready", ready)
			before := e.revisionCounts()

			pw := e.watchPods("a", map[string]int{"hot": 2, "warm": 2, "cold": 2})
			e.update(func(cr *testv1.Cluster) { cr.Spec.Image = image2 })
			e.waitFor("Ready after the new image", func(cr *testv1.Cluster) bool {
				return ready(cr) && cr.Status.ObservedGeneration == cr.Generation
			})
			if got := e.images(); got[0] != image2 || got[1] != image2 || got[2] != image2 || got[3] != image2 {
				t.Errorf("images after the rollout: %v", got)
			}
			e.requireOneNewRevision(before)
			down, rolling, err := pw.result()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("groups of a rolling at once: at most %d; pods of a unavailable at once: at most %d", rolling, down)
			if rolling != tt.wantRolling {
				t.Errorf("at most %d of a's groups rolled at once, want %d", rolling, tt.wantRolling)
			}
			if down > tt.maxDown {
				t.Errorf("%d of a's pods were unavailable at once, the most allowed is %d", down, tt.maxDown)
			}
		})
	}
}

// setPodReady sets the Ready condition of pod name, as a readiness probe
// that starts or stops failing does: kwok leaves a Running pod's status
// alone, so it stays as set.
func (e *env) setPodReady(name string, ready bool) {
	e.t.Helper()
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	err := wait.PollUntilContextTimeout(e.ctx(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		var p corev1.Pod
		if err := e.c.Get(ctx, client.ObjectKey{Namespace: e.ns, Name: name}, &p); err != nil {
			return false, err
		}
		for i, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
				p.Status.Conditions[i].Status = st
				p.Status.Conditions[i].LastTransitionTime = metav1.Now()
			}
		}
		if err := e.c.Status().Update(ctx, &p); err != nil {
			return false, ignoreConflict(err)
		}
		return true, nil
	})
	if err != nil {
		e.t.Fatalf("setting pod %s ready=%v: %v", name, ready, err)
	}
}

// An unready pod spends the change budget: with a budget of one pod and one
// pod of a's group cold unready, a config change of a leaves hot's
// StatefulSet unwritten, RolloutBlocked saying it waits for the budget,
// until the pod is Ready again; then both groups roll, once each. Without
// the budget hot, first in the build order, would roll at once.
func TestChangeBudgetHeldByAnUnreadyPod(t *testing.T) {
	nts := nodeTypes()
	nts[0].ChangeBudget = &orchestrate.ChangeBudget{MaxUnavailable: intstr.FromInt32(1)}
	e := newEnvWith(t, orchestrate.Config{}, nts)
	e.createCluster(spec())
	e.waitFor("Ready", ready)
	hot, cold := crName+"-a-hot", crName+"-a-cold"
	before := e.revisionCounts()

	e.setPodReady(cold+"-1", false)
	e.waitFor("a to count cold's unready pod", func(cr *testv1.Cluster) bool {
		for _, nt := range cr.Status.NodeTypes {
			if nt.Name == "a" {
				return nt.ReadyReplicas == 3
			}
		}
		return false
	})
	generation := e.statefulSet(hot).Generation
	e.update(changeConfig("a"))
	e.waitFor("hot to wait for the change budget", func(cr *testv1.Cluster) bool {
		cond := nodeTypeCondition(cr, "a", orchestrate.ConditionRolloutBlocked)
		return seen(cr) && cond != nil && cond.Reason == orchestrate.ReasonWaitingForChangeBudget &&
			strings.Contains(cond.Message, `group "hot"`)
	})
	e.poke()
	if sts := e.statefulSet(hot); sts.Generation != generation {
		t.Fatalf("hot's StatefulSet was written (generation %d, was %d) while cold's unready pod spends the budget",
			sts.Generation, generation)
	}

	e.setPodReady(cold+"-1", true)
	e.waitFor("Ready after the config change", func(cr *testv1.Cluster) bool {
		return ready(cr) && cr.Status.ObservedGeneration == cr.Generation
	})
	after := e.revisionCounts()
	for _, name := range []string{hot, cold} {
		if after[name] != before[name]+1 {
			t.Errorf("%s: %d revisions, then %d: want exactly one new revision", name, before[name], after[name])
		}
	}
}
