package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// pass is one reconcile of an enabled CR: build, observe, decide, apply,
// unstick, prune. It fills out with what the status must say.
func (o *Orchestrator[T]) pass(ctx context.Context, owner T, out *outcome) (ctrl.Result, error) {
	logger := log.FromContext(ctx)
	annotations := owner.GetAnnotations()
	out.paused = keys.RolloutPaused(annotations)
	forced := map[string]bool{}
	for _, name := range keys.ForceRolloutNodeTypes(annotations) {
		forced[name] = true
	}

	order, err := o.deploymentOrder(owner)
	if err != nil {
		out.failure = err.Error()
		// Retrying cannot help: the CR must change, which triggers a
		// reconcile by itself.
		return ctrl.Result{}, reconcile.TerminalError(fmt.Errorf("orchestrate: %w", err))
	}
	built, err := o.build(ctx, owner, order)
	if err != nil {
		out.failure = err.Error()
		return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
	}
	var desired []client.Object
	for _, nt := range built {
		for _, g := range nt.groups {
			desired = append(desired, g.objects...)
		}
	}

	// External ConfigMaps and Secrets the workloads consume get the watch
	// label first, so the config hash below reads them and their changes
	// reconcile the CR.
	var external []confighash.Ref
	configs := desiredConfig(desired)
	for _, obj := range desired {
		if isWorkload(obj) {
			for _, r := range externalRefs(obj, configs) {
				if !slices.ContainsFunc(external, func(e confighash.Ref) bool { return e.Kind == r.Kind && e.Name == r.Name }) {
					external = append(external, r)
				}
			}
		}
	}
	missing, err := o.watchExternal(ctx, owner.GetNamespace(), external)
	if err != nil {
		out.failure = "could not label the ConfigMaps and Secrets the workloads consume; see the operator's log"
		return ctrl.Result{}, err
	}
	// And external objects no workload consumes any more lose the label.
	if err := o.releaseExternal(ctx, owner.GetNamespace(), external); err != nil {
		out.failure = "could not unlabel the ConfigMaps and Secrets the workloads no longer consume; see the operator's log"
		return ctrl.Result{}, err
	}
	missing = slices.DeleteFunc(missing, func(r confighash.Ref) bool { return r.Optional })

	// The store deletes through an event-recording client, so every prune
	// is recorded on the CR.
	pruner, err := eventclient.New(o.client, o.recorder, eventclient.WithOwner(owner))
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
	}
	st, err := store.New(owner, pruner, store.WithKinds(o.kinds...))
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
	}
	// Everything desired is recorded up front, held workloads included:
	// holding a workload must never make the pruner delete it.
	for _, obj := range desired {
		if err := st.Record(obj); err != nil {
			out.failure = err.Error()
			return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
		}
	}
	b, err := o.newBuilder(owner, desired)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
	}

	// Observe every workload and decide what may change.
	inputs := make([]nodeTypeInput, len(built))
	lives := make([][]client.Object, len(built))
	for i, nt := range built {
		inputs[i] = nodeTypeInput{Name: nt.name, Forced: forced[nt.name]}
		lives[i] = make([]client.Object, len(nt.groups))
		for j, g := range nt.groups {
			in := groupInput{Name: g.name, HasWorkload: g.workload != nil}
			if g.workload != nil {
				// The builder's own comparison, without writing, says
				// whether the workload has a change pending.
				plan, err := b.Plan(ctx, g.workload)
				if err != nil {
					st.Fail(err)
					out.failure = fmt.Sprintf("could not compare %s %q with its desired state", kindOf(g.workload), g.workload.GetName())
					return ctrl.Result{}, fmt.Errorf("orchestrate: %w", err)
				}
				if plan.Live != nil {
					r, err := workloadRollout(plan.Live)
					if err != nil {
						return ctrl.Result{}, err
					}
					// A held or blocked workload has a change to make
					// all the same: the node type is not rolled out, so
					// the order waits and its old config is kept, and
					// its turn reports why the change is not made.
					pending := plan.Operation == builder.OperationHeld || plan.Operation == builder.OperationBlocked
					in.Exists, in.Done, in.Changed = true, r.Done, plan.Changes() || pending
				}
				lives[i][j] = plan.Live
			}
			inputs[i].Groups = append(inputs[i].Groups, in)
		}
	}
	decisions := decide(inputs, out.paused)

	// Apply: configuration and services first, then the workloads that may
	// change, then what refers to workloads. A failure in the first tier
	// keeps every workload as it is: no workload is rolled onto a
	// configuration that failed to apply.
	var errs []error
	refused := newRefusals(built)
	reconcileChild := func(obj client.Object) (builder.Result, error) {
		res, err := b.ReconcileObject(ctx, obj)
		refused.note(obj, res)
		if err != nil {
			st.Fail(err)
			errs = append(errs, err)
			if out.failure == "" {
				out.failure = fmt.Sprintf("could not apply %s %q; see the operator's log", kindOf(obj), obj.GetName())
			}
		}
		return res, err
	}
	for _, obj := range desired {
		if !isWorkload(obj) && !refersToWorkload(obj) {
			_, _ = reconcileChild(obj)
		}
	}
	out.nodeTypes = make([]nodeTypeObserved, len(built))
	for i, nt := range built {
		obs := nodeTypeObserved{Name: nt.name, Disruption: nt.disruption, Decision: decisions[i]}
		for j, g := range nt.groups {
			gd := decisions[i].Groups[j]
			gobs := groupObserved{Name: g.name, HasWorkload: g.workload != nil, Decision: gd}
			if g.workload != nil {
				// Status reads the same view of the workload as the
				// decision did, unless this pass wrote it: a newer cached
				// copy read meanwhile could contradict the decision (a group
				// held for one that now looks rolled out).
				current := lives[i][j]
				var res builder.Result
				switch {
				case gd.Apply && len(errs) == 0 && !refused.any(i):
					var err error
					res, err = reconcileChild(g.workload)
					switch {
					case err != nil:
					case res.Operation == builder.OperationRecreating:
						current = nil
					case res.Changed() || current == nil:
						current = res.Object
					}
				case gd.Changing || gd.Apply:
					// Not written: an object of the first tier failed,
					// or one of the node type's objects has a name that
					// is not the operator's (its pods would consume
					// someone else's ConfigMap, or be selected by
					// someone else's Service).
					gobs.Decision = groupDecision{Hold: heldForFailure}
				}
				if sts, ok := g.workload.(*appsv1.StatefulSet); ok && resizeCheck(previousStatus(owner, nt.name), res) {
					below, err := o.claimsBelowRequest(ctx, owner.GetNamespace(), sts)
					if err != nil {
						errs = append(errs, err)
					}
					obs.Resizing = append(obs.Resizing, below...)
				}
				if current != nil {
					r, err := workloadRollout(current)
					if err != nil {
						return ctrl.Result{}, err
					}
					gobs.Rollout = r
				} else {
					gobs.Rollout = rollout{Message: "the workload is being created"}
				}
			}
			obs.Groups = append(obs.Groups, gobs)
		}
		out.nodeTypes[i] = obs
	}
	if len(errs) == 0 {
		for _, obj := range desired {
			if refersToWorkload(obj) {
				_, _ = reconcileChild(obj)
			}
		}
	}
	for i := range out.nodeTypes {
		out.nodeTypes[i].Refused = refused.of(i)
	}

	// Until a node type is rolled out, some of its pods still run an old pod
	// template, and a pod that restarts reads what that template names. So
	// the ConfigMaps and Secrets of a node type that is held or rolling are
	// kept even when no longer desired (an operator that names its
	// ConfigMaps after their content makes a new one per change); they are
	// pruned once the node type is rolled out.
	for i, nt := range built {
		if decisions[i].RolledOut {
			continue
		}
		if err := o.keepConfig(ctx, owner, st, nt.name); err != nil {
			st.Fail(err)
			errs = append(errs, err)
		}
	}
	// A pause holds every change to workloads, deletion included.
	if out.paused {
		if _, err := o.keepWorkloads(ctx, owner, st, desired); err != nil {
			st.Fail(err)
			errs = append(errs, err)
		}
	}

	var res ctrl.Result
	if o.cfg.StuckPodRecovery != nil {
		after, err := o.recoverStuckPods(ctx, owner, built, decisions)
		if err != nil {
			errs = append(errs, err)
		}
		res.RequeueAfter = after
	}
	if (!refused.empty() || len(missing) > 0 || resizing(out.nodeTypes)) && (res.RequeueAfter == 0 || res.RequeueAfter > refusalRetry) {
		// What the pass waits for is outside the scoped cache: the
		// rename, deletion or adopt annotation of the object in the way,
		// the creation of a missing ConfigMap or Secret, or the growth of
		// a claim, brings no watch event.
		res.RequeueAfter = refusalRetry
	}

	if err := st.Prune(ctx); err != nil {
		errs = append(errs, fmt.Errorf("orchestrate: prune: %w", err))
		if out.failure == "" {
			out.failure = "could not prune children that are no longer desired; see the operator's log"
		}
	}
	if pruned := st.Result().Pruned; len(pruned) > 0 {
		logger.V(1).Info("pruned children that are no longer desired", "count", len(pruned))
		for _, id := range pruned {
			o.expectations.Forget(id.GroupKind(), client.ObjectKey{Namespace: id.Namespace, Name: id.Name})
		}
	}
	out.inventory, out.inventorySet = owner.GetClusterStatus().Inventory, true
	out.observed = len(errs) == 0
	return res, errors.Join(errs...)
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

// refersToWorkload reports whether obj is a kind that refers to a workload
// and is therefore applied after the workloads.
func refersToWorkload(obj client.Object) bool {
	switch obj.(type) {
	case *policyv1.PodDisruptionBudget, *autoscalingv2.HorizontalPodAutoscaler,
		*networkingv1.Ingress, *networkingv1.NetworkPolicy:
		return true
	}
	return false
}
