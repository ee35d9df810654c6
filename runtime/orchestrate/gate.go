package orchestrate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file carries out a node type's hooks (api.go's Hooks) in a pass: the
// pod-by-pod steps of its StatefulSets (podbypod.go) and the health gate
// that a workload must pass to count as rolled out. Pods are listed through
// the API reader, and only while a hooked workload moves, so the operator
// needs no pod cache and makes no request at steady state.

// nodeType returns the registered node type named name, or nil.
func (o *Orchestrator[T]) nodeType(name string) *NodeType[T] {
	for i := range o.nodeTypes {
		if o.nodeTypes[i].Name == name {
			return &o.nodeTypes[i]
		}
	}
	return nil
}

// hooksOf returns the hooks of the node type named name, or nil when it has
// none.
func (o *Orchestrator[T]) hooksOf(name string) *Hooks[T] {
	if nt := o.nodeType(name); nt != nil && (nt.Hooks.Healthy != nil || nt.Hooks.BeforeRemove != nil) {
		return &nt.Hooks
	}
	return nil
}

// podByPod reports whether the node type name rolls its StatefulSets pod
// by pod: it has hooks or a canary.
func (o *Orchestrator[T]) podByPod(name string) bool {
	return o.hooksOf(name) != nil || o.canaryOf(name) != nil
}

func (h *Hooks[T]) timeout() time.Duration {
	if h.Timeout > 0 {
		return h.Timeout
	}
	return defaultHookTimeout
}

func (h *Hooks[T]) recheck() time.Duration {
	if h.Recheck > 0 {
		return h.Recheck
	}
	return defaultHookRecheck
}

// pinStatefulSet gives desired the live replicas and partition, so the
// Builder's comparison finds only the build function's other changes; the
// pod-by-pod step then sets both. It returns the replicas the build
// function asked for.
func pinStatefulSet(desired, live *appsv1.StatefulSet) *int32 {
	want := desired.Spec.Replicas
	if want != nil {
		desired.Spec.Replicas = ptr.To(ptr.Deref(live.Spec.Replicas, 1))
	}
	if partitioned(desired) {
		setPartition(desired, livePartition(live))
	}
	return want
}

// partitioned reports whether sts rolls by partition: the RollingUpdate
// strategy, which is also the default.
func partitioned(sts *appsv1.StatefulSet) bool {
	t := sts.Spec.UpdateStrategy.Type
	return t == "" || t == appsv1.RollingUpdateStatefulSetStrategyType
}

func livePartition(sts *appsv1.StatefulSet) int32 {
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		return ptr.Deref(ru.Partition, 0)
	}
	return 0
}

func setPartition(sts *appsv1.StatefulSet, p int32) {
	sts.Spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
	if sts.Spec.UpdateStrategy.RollingUpdate == nil {
		sts.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
	}
	sts.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(p)
}

// stepStatefulSet decides the next pod-by-pod step of the hooked
// StatefulSet of node type i and sets it on desired. changing says whether
// desired, pinned, still differs from live. It reports whether the step
// itself changes live.
func (r *passRun[T]) stepStatefulSet(ctx context.Context, i, j int, desired, live *appsv1.StatefulSet,
	want *int32, changing bool) (stepOutcome, bool, error) {
	replicas := ptr.Deref(live.Spec.Replicas, 1)
	in := stepInput{
		Replicas:         replicas,
		Partition:        livePartition(live),
		Desired:          want,
		Observed:         live.Status.ObservedGeneration >= live.Generation,
		Changing:         changing,
		Rolling:          live.Status.UpdateRevision != live.Status.CurrentRevision,
		PartitionManaged: partitioned(desired),
	}
	in.Settled = in.Observed && live.Status.Replicas == replicas
	judge := &passJudge[T]{ctx: ctx, r: r, i: i, byOrdinal: map[int32]*corev1.Pod{}}
	if (in.Rolling && in.Observed) || (want != nil && *want < replicas && in.Settled) {
		// Only these rules look at pods.
		pods, err := r.podsOf(ctx, live)
		if err != nil {
			return stepOutcome{Replicas: replicas, Partition: in.Partition}, false, err
		}
		in.Pods = make([]stepPod, replicas)
		for k := range pods {
			ord, ok := ordinalOf(live.Name, pods[k].Name)
			if !ok || ord >= replicas || pods[k].DeletionTimestamp != nil {
				continue
			}
			judge.byOrdinal[ord] = &pods[k]
			in.Pods[ord] = stepPod{
				Exists:  true,
				Updated: pods[k].Labels[appsv1.ControllerRevisionHashLabelKey] == live.Status.UpdateRevision,
				Ready:   podReady(&pods[k]),
			}
		}
		if c := r.groupCanary(i, j); c != nil && in.Rolling {
			in.Canary = c.pods(replicas)
			in.Approved = in.Canary > 0 && r.canaryApproved(i, c, live, in.Canary, judge.byOrdinal)
		}
	}
	out := nextStep(in, judge)
	if want != nil {
		desired.Spec.Replicas = ptr.To(out.Replicas)
	}
	if in.PartitionManaged {
		setPartition(desired, out.Partition)
	}
	return out, out.Replicas != replicas || out.Partition != in.Partition, nil
}

// ordinalOf returns the ordinal of a StatefulSet's pod from its name.
func ordinalOf(set, pod string) (int32, bool) {
	rest, ok := strings.CutPrefix(pod, set+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 32)
	return int32(n), err == nil && n >= 0
}

// passJudge asks node type i's hooks about the pods of one StatefulSet.
type passJudge[T Object] struct {
	ctx       context.Context
	r         *passRun[T]
	i         int
	byOrdinal map[int32]*corev1.Pod
}

func (j *passJudge[T]) healthy(ordinal int32) (hookAnswer, *hookWait) {
	return j.r.askHook(j.ctx, j.i, hookHealthy, j.byOrdinal[ordinal])
}

func (j *passJudge[T]) mayRemove(ordinal int32) (hookAnswer, *hookWait) {
	return j.r.askHook(j.ctx, j.i, hookBeforeRemove, j.byOrdinal[ordinal])
}

// askHook asks node type i's hook of kind about pod. A hook the node type
// does not set says yes. An answer other than yes comes with the wait it
// causes, which also records it (noteWait).
func (r *passRun[T]) askHook(ctx context.Context, i int, kind hookKind, pod *corev1.Pod) (hookAnswer, *hookWait) {
	h := r.o.hooksOf(r.built[i].name)
	if pod == nil || h == nil {
		return hookAnswer{State: hookYes}, nil
	}
	fn := h.Healthy
	if kind == hookBeforeRemove {
		fn = h.BeforeRemove
	}
	if fn == nil {
		return hookAnswer{State: hookYes}, nil
	}
	a := r.o.hooks.ask(ctx, kind, pod, h.timeout(), h.recheck(), func(ctx context.Context) (Verdict, error) {
		return fn(ctx, r.owner, pod.DeepCopy())
	})
	if a.State == hookYes {
		return a, nil
	}
	w := &hookWait{Kind: kind, Pod: pod.Name, Answer: a}
	r.noteWait(ctx, i, w, pod, h.recheck())
	return a, w
}

// noteWait records a wait on a hook: one Warning event per pod and answer,
// a log line for a failure, and a requeue after recheck, since the
// application's state brings no watch event.
func (r *passRun[T]) noteWait(ctx context.Context, i int, w *hookWait, pod *corev1.Pod, recheck time.Duration) {
	r.recheckIn(recheck)
	r.out.wait(r.built[i].name, w.Kind, pod.UID)
	if !r.o.hooks.firstReport(w.Kind, pod.UID, w.Answer) {
		return
	}
	reason := EventPodNotHealthy
	switch {
	case w.Answer.State == hookFailed || w.Answer.State == hookBlocked:
		reason = EventHookFailed
		r.o.metrics.hookError(client.ObjectKeyFromObject(r.owner), r.built[i].name, w.Kind)
		log.FromContext(ctx).Error(nil, "a node type's hook did not answer yes or no",
			"nodeType", r.built[i].name, "hook", w.Kind.String(), "pod", pod.Name, "answer", w.Answer.Reason)
	case w.Kind == hookBeforeRemove:
		reason = EventPodRemovalHeld
	}
	r.o.recorder.Eventf(r.owner, pod, corev1.EventTypeWarning, reason, actionWait,
		"node type %q: %s", r.built[i].name, w.message())
}

// recheckIn asks for the CR to be reconciled again within d, for what
// brings no watch event: a hook's answer growing stale, a canary's soak
// running out.
func (r *passRun[T]) recheckIn(d time.Duration) {
	if r.hookRecheck == 0 || d < r.hookRecheck {
		r.hookRecheck = d
	}
}

// podsOf lists the pods of a live workload through the API reader, once per
// workload and pass, sorted by name.
func (r *passRun[T]) podsOf(ctx context.Context, live client.Object) ([]corev1.Pod, error) {
	if pods, ok := r.pods[live.GetUID()]; ok {
		return pods, nil
	}
	var sel *metav1.LabelSelector
	switch w := live.(type) {
	case *appsv1.StatefulSet:
		sel = w.Spec.Selector
	case *appsv1.Deployment:
		sel = w.Spec.Selector
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: selector of %s %s: %w", kindOf(live), live.GetName(), err)
	}
	if _, ok := live.(*appsv1.Deployment); ok && !isCanary(live) {
		// A canary's pods carry the labels of the main Deployment's, but
		// are not its pods.
		notCanary, err := labels.NewRequirement(keys.LabelCanary, selection.DoesNotExist, nil)
		if err != nil {
			return nil, err
		}
		selector = selector.Add(*notCanary)
	}
	var list corev1.PodList
	if err := r.o.apiReader.List(ctx, &list, client.InNamespace(live.GetNamespace()), client.MatchingLabelsSelector{Selector: selector}); err != nil {
		return nil, fmt.Errorf("orchestrate: list the pods of %s %s: %w", kindOf(live), live.GetName(), err)
	}
	slices.SortFunc(list.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	if r.pods == nil {
		r.pods = map[types.UID][]corev1.Pod{}
	}
	r.pods[live.GetUID()] = list.Items
	return list.Items, nil
}

// gate judges a hooked workload's rollout beyond Kubernetes readiness: it
// is not rolled out while its pod-by-pod step waits or moves, nor until
// every pod passes the Healthy hook. A workload that passed at its
// generation is not asked about again (gateMemo), so steady state makes no
// request.
func (r *passRun[T]) gate(ctx context.Context, i int, live client.Object, ro *rollout, step *stepOutcome) error {
	if !r.o.podByPod(r.built[i].name) {
		return nil
	}
	if step != nil {
		sts, _ := live.(*appsv1.StatefulSet)
		switch {
		case step.Wait != nil:
			ro.Done, ro.Hook, ro.Message = false, step.Wait, step.Wait.message()
			return nil
		case step.ScalingDown:
			ro.Done, ro.Message = false, "removing pods one at a time"
			return nil
		case step.AtCanary && sts != nil:
			w := &canaryWait{NodeType: r.built[i].name, Revision: sts.Status.UpdateRevision,
				Updated: sts.Status.UpdatedReplicas, Replicas: ro.Replicas, Soak: r.o.canaryOf(r.built[i].name).Soak}
			ro.Done, ro.Updating, ro.Canary, ro.Message = false, true, w, w.message()
			return nil
		case sts != nil && ro.Done && sts.Status.UpdateRevision != sts.Status.CurrentRevision:
			ro.Done, ro.Updating = false, true
			ro.Message = fmt.Sprintf("replacing pods one at a time, %d of %d updated", sts.Status.UpdatedReplicas, ro.Replicas)
			return nil
		}
	}
	if !ro.Done || r.o.gates.passed(live.GetUID(), live.GetGeneration()) {
		return nil
	}
	pods, err := r.podsOf(ctx, live)
	if err != nil {
		return err
	}
	for k := range pods {
		if pods[k].DeletionTimestamp != nil {
			continue
		}
		if _, w := r.askHook(ctx, i, hookHealthy, &pods[k]); w != nil {
			ro.Done, ro.Hook, ro.Message = false, w, w.message()
			return nil
		}
	}
	r.o.gates.pass(live.GetUID(), live.GetGeneration())
	return nil
}

// gateMemo remembers, per workload UID, the generation whose pods last
// passed the health gate.
type gateMemo struct {
	mu     sync.Mutex
	passes map[types.UID]int64
}

func (m *gateMemo) passed(uid types.UID, generation int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	g, ok := m.passes[uid]
	return ok && g == generation
}

func (m *gateMemo) pass(uid types.UID, generation int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.passes == nil {
		m.passes = map[types.UID]int64{}
	}
	m.passes[uid] = generation
}
