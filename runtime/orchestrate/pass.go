package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// pass is one reconcile of an enabled CR, as a pipeline of named steps:
// build, label the external config, record the desired state, observe and
// decide, apply, keep what pods still run on, drain removed workloads,
// unstick, prune. It fills out
// with what the status must say.
func (o *Orchestrator[T]) pass(ctx context.Context, owner T, out *outcome) (ctrl.Result, error) {
	out.paused = keys.RolloutPaused(owner.GetAnnotations())
	r := &passRun[T]{o: o, owner: owner, out: out}
	if err := r.build(ctx); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.labelExternal(ctx); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.record(); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.observe(ctx); err != nil {
		return ctrl.Result{}, err
	}
	if err := r.apply(ctx); err != nil {
		return ctrl.Result{}, err
	}
	r.keep(ctx)
	r.drain(ctx)
	res := r.requeue(ctx)
	r.prune(ctx)
	out.inventory, out.inventorySet = owner.GetClusterStatus().Inventory, true
	out.observed = len(r.errs) == 0
	return res, errors.Join(r.errs...)
}

// passRun is the state of one pass, filled in step by step.
type passRun[T Object] struct {
	o     *Orchestrator[T]
	owner T
	out   *outcome

	// built, by build: the node types in deployment order, and all their
	// desired objects.
	built   []builtNodeType
	desired []client.Object
	// external and missing, by labelExternal: the ConfigMaps and Secrets
	// the workloads consume that the operator does not own, and those of
	// them that do not exist and are not optional.
	external, missing []confighash.Ref
	// st, b and writer, by record: the pass's store and Builder, and the
	// event-recording client the store prunes and drain.go scales with.
	st     *store.Store
	b      *builder.Builder
	writer *eventclient.Client
	// lives, judged, restarts and decisions, by observe: each group's
	// workload as read and its rollout as judged (health gate included),
	// the restart tokens it is due for (restart.go), and what may change.
	lives     [][]client.Object
	judged    [][]*rollout
	restarts  [][]map[string]string
	decisions []nodeTypeDecision
	// steps, pods and hookRecheck, by observe and apply: the pod-by-pod
	// step of each hooked StatefulSet (or scaled-down Deployment), the
	// pods listed for the hooks, and how soon the pass is to run again for
	// a hook's answer or a canary's soak (gate.go).
	steps [][]*stepOutcome
	pods  map[types.UID][]corev1.Pod
	// victims, by observe: the pod each hooked Deployment's scale-down
	// step removes, marked just before the step is applied (scaledown.go).
	victims [][]*corev1.Pod
	// canaries, by observe: the canary of each Deployment whose node type
	// has one, and its step (canarydeploy.go).
	canaries    [][]*deploymentCanary
	hookRecheck time.Duration
	// refused and errs, by apply and later steps: the children the Builder
	// would not write, and what failed (the pass goes on, and prunes
	// nothing once one did).
	refused *refusals
	errs    []error
	// unseen, by apply: a child was taken as created by this operator
	// although the cache does not show it yet (builder.Result.Requeue).
	unseen bool
}

// build resolves the deployment order and runs the node types' build
// functions.
func (r *passRun[T]) build(ctx context.Context) error {
	order, err := r.o.deploymentOrder(r.owner)
	if err != nil {
		r.out.failure = err.Error()
		// Retrying cannot help: the CR must change, which triggers a
		// reconcile by itself.
		return reconcile.TerminalError(fmt.Errorf("orchestrate: %w", err))
	}
	if r.built, err = r.o.build(ctx, r.owner, order); err != nil {
		r.out.failure = err.Error()
		return fmt.Errorf("orchestrate: %w", err)
	}
	if r.desired, err = r.o.buildShared(ctx, r.owner, r.built); err != nil {
		r.out.failure = err.Error()
		return fmt.Errorf("orchestrate: %w", err)
	}
	for _, nt := range r.built {
		for _, g := range nt.groups {
			r.desired = append(r.desired, g.objects...)
		}
	}
	if err := r.checkCanaries(); err != nil {
		r.out.failure = err.Error()
		return reconcile.TerminalError(fmt.Errorf("orchestrate: %w", err))
	}
	return nil
}

// labelExternal gives the watch label to the external ConfigMaps and Secrets
// the workloads consume, before anything is hashed, so the config hash reads
// them and their changes reconcile the CR; and takes it from those no
// workload consumes any more.
func (r *passRun[T]) labelExternal(ctx context.Context) error {
	configs := desiredConfig(r.desired)
	for _, obj := range r.desired {
		if !isWorkload(obj) {
			continue
		}
		for _, ref := range externalRefs(obj, configs) {
			if !slices.ContainsFunc(r.external, func(e confighash.Ref) bool { return e.Kind == ref.Kind && e.Name == ref.Name }) {
				r.external = append(r.external, ref)
			}
		}
	}
	missing, err := r.o.watchExternal(ctx, r.owner.GetNamespace(), r.external)
	if err != nil {
		r.out.failure = "could not label the ConfigMaps and Secrets the workloads consume; see the operator's log"
		return err
	}
	if err := r.o.releaseExternal(ctx, r.owner.GetNamespace(), r.external); err != nil {
		r.out.failure = "could not unlabel the ConfigMaps and Secrets the workloads no longer consume; see the operator's log"
		return err
	}
	r.missing = slices.DeleteFunc(missing, func(ref confighash.Ref) bool { return ref.Optional })
	return nil
}

// record makes the pass's store and Builder, and records everything desired
// in the store up front, held workloads included: holding a workload must
// never make the pruner delete it.
func (r *passRun[T]) record() error {
	// The store deletes through an event-recording client, so every prune
	// is recorded on the CR.
	var err error
	if r.writer, err = eventclient.New(r.o.client, r.o.recorder, eventclient.WithOwner(r.owner)); err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	opts := []store.Option{store.WithKinds(r.o.kinds...)}
	if r.o.ownerIndexed {
		opts = append(opts, store.WithOwnerIndex(r.o.kinds...))
	}
	if r.st, err = store.New(r.owner, r.writer, opts...); err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	for _, obj := range r.desired {
		if err := r.st.Record(obj); err != nil {
			r.out.failure = err.Error()
			return fmt.Errorf("orchestrate: %w", err)
		}
	}
	if r.b, err = r.o.newBuilder(r.owner, r.desired); err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	return nil
}

// observe plans every workload, without writing, and decides what may
// change.
func (r *passRun[T]) observe(ctx context.Context) error {
	forced := map[string]bool{}
	for _, name := range keys.ForceRolloutNodeTypes(r.owner.GetAnnotations()) {
		forced[name] = true
	}
	inputs := make([]nodeTypeInput, len(r.built))
	r.lives = make([][]client.Object, len(r.built))
	r.judged = make([][]*rollout, len(r.built))
	r.restarts = make([][]map[string]string, len(r.built))
	r.steps = make([][]*stepOutcome, len(r.built))
	r.victims = make([][]*corev1.Pod, len(r.built))
	r.canaries = make([][]*deploymentCanary, len(r.built))
	for i, nt := range r.built {
		inputs[i] = nodeTypeInput{Name: nt.name, Forced: forced[nt.name]}
		var total int32 // desired replicas of the node type, for a budget's percentage
		r.lives[i] = make([]client.Object, len(nt.groups))
		r.judged[i] = make([]*rollout, len(nt.groups))
		r.restarts[i] = make([]map[string]string, len(nt.groups))
		r.steps[i] = make([]*stepOutcome, len(nt.groups))
		r.victims[i] = make([]*corev1.Pod, len(nt.groups))
		r.canaries[i] = make([]*deploymentCanary, len(nt.groups))
		for j := range nt.groups {
			in, live, err := r.observeGroup(ctx, i, j)
			if err != nil {
				return err
			}
			// A restart the CR asks for is a change like any other: it
			// waits for its turn in the deployment order.
			r.restarts[i][j] = r.o.restartDue(r.owner, nt.name, live)
			in.Changed = in.Changed || r.restarts[i][j] != nil
			in.Canary = r.groupCanary(i, j) != nil
			if live != nil {
				budgetCounts(&in, nt.groups[j].workload, live, r.o.podByPod(nt.name))
			} else if w := nt.groups[j].workload; w != nil {
				in.Replicas = desiredReplicas(w)
			}
			total += in.Replicas
			inputs[i].Groups = append(inputs[i].Groups, in)
			r.lives[i][j] = live
		}
		if b := r.o.budgetOf(nt.name); b != nil {
			inputs[i].Budget = b.pods(total)
		}
	}
	r.decisions = decide(inputs, r.out.paused)
	return nil
}

// observeGroup is what the decision needs of group j of node type i: the
// Builder's own comparison, without writing, says whether its workload has
// a change pending. A StatefulSet of a node type with hooks takes its next
// pod-by-pod step here (gate.go), as part of its desired state.
func (r *passRun[T]) observeGroup(ctx context.Context, i, j int) (groupInput, client.Object, error) {
	g := r.built[i].groups[j]
	in := groupInput{Name: g.name, HasWorkload: g.workload != nil}
	if g.workload == nil {
		return in, nil, nil
	}
	canary, err := r.prepareCanary(ctx, i, j)
	if err != nil {
		return in, nil, err
	}
	stepped, want, err := r.pin(ctx, i, g.workload)
	if err != nil {
		return in, nil, err
	}
	scaling, err := r.pinScaleDown(ctx, i, g.workload)
	if err != nil {
		return in, nil, err
	}
	plan, err := r.b.Plan(ctx, g.workload)
	if err != nil {
		r.st.Fail(err)
		r.out.failure = fmt.Sprintf("could not compare %s %q with its desired state", kindOf(g.workload), g.workload.GetName())
		return in, nil, fmt.Errorf("orchestrate: %w", err)
	}
	if plan.Live == nil {
		return in, nil, nil
	}
	live := r.judgeable(ctx, plan.Live)
	if sts, ok := live.(*appsv1.StatefulSet); ok && stepped != nil {
		changing := plan.Changes() || r.o.restartDue(r.owner, r.built[i].name, live) != nil
		step, moved, err := r.stepStatefulSet(ctx, i, j, stepped, sts, want, changing)
		if err != nil {
			return in, nil, err
		}
		r.steps[i][j], in.Changed = &step, moved
	}
	if d, ok := live.(*appsv1.Deployment); ok && scaling != nil {
		step, moved, err := r.stepScaleDown(ctx, i, j, g.workload.(*appsv1.Deployment), d)
		if err != nil {
			return in, nil, err
		}
		r.steps[i][j], in.Changed = &step, moved
	}
	ro, err := r.o.rollout(live)
	if err != nil {
		return in, nil, err
	}
	if err := r.gate(ctx, i, live, &ro, r.steps[i][j]); err != nil {
		return in, nil, err
	}
	// A held or blocked workload has a change to make all the same: the
	// node type is not rolled out, so the order waits and its old config
	// is kept, and its turn reports why the change is not made.
	pending := plan.Operation == builder.OperationHeld || plan.Operation == builder.OperationBlocked
	in.Exists, in.Done, in.Changed = true, ro.Done, in.Changed || plan.Changes() || pending
	if canary != nil {
		moves, err := r.stepCanary(ctx, i, canary, g.workload.(*appsv1.Deployment), live.(*appsv1.Deployment), &ro)
		if err != nil {
			return in, nil, err
		}
		if canary.step.HoldMain {
			// The rollout's step is the canary's: the main Deployment
			// changes only once it is approved.
			in.Done, in.Changed = false, moves
		}
		r.canaries[i][j] = canary
	}
	r.judged[i][j] = &ro
	in.Revert = r.reverts(i, plan, r.o.restartDue(r.owner, r.built[i].name, live))
	return in, live, nil
}

// pin prepares the desired StatefulSet of a node type with hooks for its
// pod-by-pod step: while it exists, it is compared with the live replicas
// and partition (pinStatefulSet). It returns the StatefulSet, or nil when
// nothing is stepped, and the replicas the build function asked for.
func (r *passRun[T]) pin(ctx context.Context, i int, workload client.Object) (*appsv1.StatefulSet, *int32, error) {
	desired, ok := workload.(*appsv1.StatefulSet)
	if !ok || !r.o.podByPod(r.built[i].name) {
		return nil, nil, nil
	}
	var live appsv1.StatefulSet
	if err := r.o.client.Get(ctx, client.ObjectKeyFromObject(desired), &live); err != nil {
		if apierrors.IsNotFound(err) {
			// Created as built: a new StatefulSet's pods start at its
			// only revision.
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("orchestrate: read StatefulSet %s: %w", desired.Name, err)
	}
	return desired, pinStatefulSet(desired, &live), nil
}

// judgeable returns the live workload as its rollout is judged: a
// StatefulSet's status inherited from an earlier object of its name counts
// as observed when it describes the live pods (inherited.go).
func (r *passRun[T]) judgeable(ctx context.Context, live client.Object) client.Object {
	sts, ok := live.(*appsv1.StatefulSet)
	if !ok || sts.Status.ObservedGeneration <= sts.Generation {
		return live
	}
	fixed, err := r.o.inheritedStatus(ctx, sts)
	if err != nil {
		r.errs = append(r.errs, err)
	}
	return fixed
}

// apply writes the children in three tiers: configuration and services
// first, then the workloads that may change, then what refers to
// workloads. A failure in the first tier keeps every workload as it is: no
// workload is rolled onto a configuration that failed to apply.
func (r *passRun[T]) apply(ctx context.Context) error {
	r.refused = newRefusals(r.built)
	r.reconcileEach(ctx, slices.DeleteFunc(slices.Clone(r.desired), func(obj client.Object) bool {
		return isWorkload(obj) || r.o.refersToWorkload(obj)
	}))
	r.out.nodeTypes = make([]nodeTypeObserved, len(r.built))
	for i, nt := range r.built {
		obs := nodeTypeObserved{Name: nt.name, Decision: r.decisions[i]}
		for j := range nt.groups {
			gobs, err := r.applyGroup(ctx, i, j, &obs)
			if err != nil {
				return err
			}
			obs.Groups = append(obs.Groups, gobs)
		}
		r.out.nodeTypes[i] = obs
	}
	if len(r.errs) == 0 {
		r.reconcileEach(ctx, slices.DeleteFunc(slices.Clone(r.desired), func(obj client.Object) bool {
			return !r.o.refersToWorkload(obj)
		}))
	}
	for i := range r.out.nodeTypes {
		r.out.nodeTypes[i].Refused = r.refused.of(i)
	}
	return nil
}

// applyGroup writes the workload of group j of node type i when the decision
// lets it, and observes it for the status.
func (r *passRun[T]) applyGroup(ctx context.Context, i, j int, obs *nodeTypeObserved) (groupObserved, error) {
	g, gd := r.built[i].groups[j], r.decisions[i].Groups[j]
	gobs := groupObserved{Name: g.name, HasWorkload: g.workload != nil, Budget: g.budget, Decision: gd}
	if g.workload == nil {
		return gobs, nil
	}
	// Status reads the same view of the workload as the decision did,
	// unless this pass wrote it: a newer cached copy read meanwhile could
	// contradict the decision (a group held for one that now looks rolled
	// out).
	current := r.lives[i][j]
	var res builder.Result
	switch {
	case r.carryCanary(ctx, i, j, gd):
		if gd.Apply && (len(r.errs) > 0 || r.refused.any(i)) {
			gobs.Decision = groupDecision{Hold: heldForFailure}
		}
	case gd.Apply && len(r.errs) == 0 && !r.refused.any(i):
		if err := r.markFirstToGo(ctx, r.victims[i][j]); err != nil {
			r.errs = append(r.errs, err)
			gobs.Decision = groupDecision{Hold: heldForFailure}
			break
		}
		var err error
		res, err = r.reconcileChild(ctx, g.workload)
		switch {
		case err != nil:
		case res.Operation == builder.OperationRecreating:
			current = nil
		case res.Changed() || current == nil:
			current = res.Object
		}
		if err == nil && gd.Reverting && res.Operation == builder.OperationUpdated {
			r.o.reverts.remember(res.Object, rollsBack(r.lives[i][j], res.Object))
		}
		if err == nil && current != nil && restartable(res.Operation) &&
			r.restartGroup(ctx, i, j, current, res.Operation == builder.OperationCreated) {
			// Its controller has not seen the new template yet.
			gobs.Rollout = rollout{Updating: true, Message: "restarting, as the CR asks"}
			return gobs, nil
		}
	case gd.Changing || gd.Apply:
		// Not written: an object of the first tier failed, or one of the
		// node type's objects was not written (its pods would consume
		// someone else's ConfigMap, or be selected by someone else's
		// Service).
		gobs.Decision = groupDecision{Hold: heldForFailure}
	}
	if sts, ok := g.workload.(*appsv1.StatefulSet); ok && resizeCheck(previousStatus(r.owner, r.built[i].name), res) {
		below, err := r.o.claimsBelowRequest(ctx, r.owner.GetNamespace(), sts)
		if err != nil {
			r.errs = append(r.errs, err)
		}
		obs.Resizing = append(obs.Resizing, below...)
	}
	if current == nil {
		gobs.Rollout = rollout{Message: "the workload is being created"}
		return gobs, nil
	}
	if current == r.lives[i][j] && r.judged[i][j] != nil {
		// Not written in this pass: judged already, by observe. Judging
		// it again (kstatus converts it, the gate reads its pods) would
		// find the same.
		gobs.Rollout = *r.judged[i][j]
		return gobs, nil
	}
	current = r.judgeable(ctx, current)
	ro, err := r.o.rollout(current)
	if err != nil {
		return gobs, err
	}
	if err := r.gate(ctx, i, current, &ro, r.steps[i][j]); err != nil {
		return gobs, err
	}
	gobs.Rollout = ro
	return gobs, nil
}

// restartGroup carries out the restart group j of node type i is due for,
// or records a workload created while a restart is asked as restarted. It
// reports whether it restarted the workload's pods.
func (r *passRun[T]) restartGroup(ctx context.Context, i, j int, live client.Object, created bool) bool {
	tokens := r.restarts[i][j]
	if created {
		tokens = keys.RestartTokens(r.owner.GetAnnotations(), r.built[i].name)
	}
	if len(tokens) == 0 {
		return false
	}
	if err := r.o.restart(ctx, r.owner, live, tokens, created); err != nil {
		r.errs = append(r.errs, err)
		return false
	}
	return !created
}

// restartable reports whether a workload the Builder reconciled with op may
// be restarted: not one held for missing config (its new pods could not
// start), blocked, refused or being recreated.
func restartable(op builder.Operation) bool {
	switch op {
	case builder.OperationHeld, builder.OperationBlocked, builder.OperationRefused, builder.OperationRecreating:
		return false
	}
	return true
}

// reconcileChild writes one child through the pass's Builder, noting a
// refusal and failing the store's pass on an error.
func (r *passRun[T]) reconcileChild(ctx context.Context, obj client.Object) (builder.Result, error) {
	res, err := r.b.ReconcileObject(ctx, obj)
	r.noteChild(obj, res, err)
	return res, err
}

// applyParallelism bounds how many children reconcileEach reconciles at once.
const applyParallelism = 8

// reconcileEach reconciles objs, children none of which depends on another
// (config and Services, or what refers to a workload), up to
// applyParallelism at a time: creating a CR's children then waits for about
// one round trip to the API server per kind of dependency, not one per
// child. Their results are noted in the order of objs, so what the pass
// reports does not depend on which request came back first.
func (r *passRun[T]) reconcileEach(ctx context.Context, objs []client.Object) {
	type outcome struct {
		res builder.Result
		err error
	}
	out := make([]outcome, len(objs))
	sem := make(chan struct{}, applyParallelism)
	var wg sync.WaitGroup
	for i, obj := range objs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			defer func() {
				// As controller-runtime would recover it from the pass.
				if p := recover(); p != nil {
					out[i].err = fmt.Errorf("orchestrate: panic reconciling %s %q: %v", kindOf(obj), obj.GetName(), p)
				}
			}()
			out[i].res, out[i].err = r.b.ReconcileObject(ctx, obj)
		})
	}
	wg.Wait()
	for i, obj := range objs {
		r.noteChild(obj, out[i].res, out[i].err)
	}
}

// noteChild takes in the result of reconciling obj: a refusal, a create the
// cache does not show yet, a failure.
func (r *passRun[T]) noteChild(obj client.Object, res builder.Result, err error) {
	r.refused.note(obj, res)
	if res.Requeue && res.Operation == builder.OperationUnchanged {
		r.unseen = true
	}
	if err != nil {
		r.st.Fail(err)
		r.errs = append(r.errs, err)
		if r.out.failure == "" {
			r.out.failure = fmt.Sprintf("could not apply %s %q; see the operator's log", kindOf(obj), obj.GetName())
		}
	}
}

// keep records in the store what is no longer desired but still needed
// (keep.go): the ConfigMaps and Secrets of a node type that is held or
// rolling, and, while paused, the workloads of a removed group or node type.
func (r *passRun[T]) keep(ctx context.Context) {
	for i, nt := range r.built {
		if r.decisions[i].RolledOut {
			continue
		}
		if err := r.o.keepConfig(ctx, r.owner, r.st, nt.name); err != nil {
			r.st.Fail(err)
			r.errs = append(r.errs, err)
		}
	}
	if r.out.paused {
		if err := r.o.keepWorkloads(ctx, r.owner, r.st, r.desired); err != nil {
			r.st.Fail(err)
			r.errs = append(r.errs, err)
		}
	}
}

// unseenRecheck is how soon a pass runs again after taking a child as
// created although the cache did not show it: just after the Builder stops
// trusting such a create (10 s), so the child is created again if it is gone.
const unseenRecheck = 11 * time.Second

// requeue runs the stuck-pod recovery and says when the pass must run again
// without a watch event.
func (r *passRun[T]) requeue(ctx context.Context) ctrl.Result {
	var res ctrl.Result
	if r.o.cfg.StuckPodRecovery != nil {
		after, err := r.o.recoverStuckPods(ctx, r.owner, r.built, r.decisions)
		if err != nil {
			r.errs = append(r.errs, err)
		}
		res.RequeueAfter = after
	}
	waiting := !r.refused.empty() || len(r.missing) > 0 || resizing(r.out.nodeTypes) || draining(r.out.nodeTypes)
	if waiting && (res.RequeueAfter == 0 || res.RequeueAfter > refusalRetry) {
		// What the pass waits for is outside the scoped cache: the
		// rename, deletion or adopt annotation of the object in the way,
		// the creation of a missing ConfigMap or Secret, or the growth of
		// a claim, brings no watch event.
		res.RequeueAfter = refusalRetry
	}
	if r.unseen && (res.RequeueAfter == 0 || res.RequeueAfter > unseenRecheck) {
		// Should the child have been deleted before the cache saw it, no
		// watch event would come to create it again.
		res.RequeueAfter = unseenRecheck
	}
	if r.hookRecheck > 0 && (res.RequeueAfter == 0 || res.RequeueAfter > r.hookRecheck) {
		res.RequeueAfter = r.hookRecheck
	}
	return res
}

// prune deletes what is no longer desired, by the store's safety rules, and
// forgets its expectations.
func (r *passRun[T]) prune(ctx context.Context) {
	if err := r.st.Prune(ctx); err != nil {
		r.errs = append(r.errs, fmt.Errorf("orchestrate: prune: %w", err))
		if r.out.failure == "" {
			r.out.failure = "could not prune children that are no longer desired; see the operator's log"
		}
	}
	if pruned := r.st.Result().Pruned; len(pruned) > 0 {
		log.FromContext(ctx).V(1).Info("pruned children that are no longer desired", "count", len(pruned))
		r.o.metrics.observePruned(client.ObjectKeyFromObject(r.owner), pruned)
		for _, id := range pruned {
			r.o.expectations.Forget(id.GroupKind(), client.ObjectKey{Namespace: id.Namespace, Name: id.Name})
		}
	}
}

// newBuilder returns the Builder of one pass: it reads through the manager's
// client (the cache) and writes through it, recording events with the
// orchestrator's recorder.
func (o *Orchestrator[T]) newBuilder(owner T, desired []client.Object) (*builder.Builder, error) {
	return builder.New(
		builder.WithClient(o.client),
		builder.WithOwner(owner),
		builder.WithRecorder(o.recorder),
		builder.WithFieldOwner(o.cfg.FieldOwner),
		builder.WithApp(o.cfg.App),
		builder.WithObjects(desired...),
		builder.WithExpectations(o.expectations),
		builder.WithAPIReader(o.apiReader),
	)
}

// refersToWorkload reports whether obj is of a kind that names a workload
// or its pods (internal/kinds) and is therefore applied after the workloads.
func (o *Orchestrator[T]) refersToWorkload(obj client.Object) bool {
	gvk, err := apiutil.GVKForObject(obj, o.scheme)
	// An object of a kind the scheme does not know fails to apply anyway,
	// in whichever tier.
	return err == nil && kinds.TierOf(gvk.GroupKind()) == kinds.RefersToWorkload
}
