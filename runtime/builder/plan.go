package builder

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Plan is what reconciling one desired object would do, as Builder.Plan found
// it without writing.
type Plan struct {
	// Operation is what a Reconcile call would do now: OperationCreated,
	// OperationUpdated (an apply is needed), OperationUnchanged (no write),
	// OperationRecreated (a field that cannot be updated changed, so the
	// object would be deleted with orphan propagation and created again),
	// OperationRecreating (the old object is still being deleted; nothing
	// would be written) or OperationBlocked (the change cannot be made; only
	// a Warning event would be recorded), OperationRefused (an object the
	// owner does not control has the name; Live is then nil) or
	// OperationHeld (the pods need a ConfigMap or Secret that does not
	// exist; nothing would be written).
	//
	// A Reconcile call may still end differently when the API server
	// refuses an apply planned as OperationUpdated (it then recreates or
	// blocks), when the name of an object planned as OperationCreated
	// turns out to be taken by an object the client does not hold (with
	// WithAPIReader; it then refuses or adopts, by the ownership rules),
	// or when the object changes between the two calls.
	Operation Operation
	// Live is the object the plan was made against, as read through the
	// Builder's client, of the same Go type as the desired object; nil when
	// it does not exist.
	Live client.Object
	// RolloutTriggered is true when the apply would change the config hash on
	// a workload's pod template, so its pods would roll.
	RolloutTriggered bool
	// Reason is the reason of OperationRefused (ReasonNameTaken or
	// ReasonControlledByOther) and of OperationHeld (ReasonConfigMissing).
	Reason string
	// Message explains OperationRecreated, OperationRecreating,
	// OperationBlocked, OperationRefused and OperationHeld.
	Message string
}

// Changes reports whether reconciling the object would change it or is in
// the middle of changing it: the operations for which Result.Changed is true.
func (p Plan) Changes() bool {
	return Result{Operation: p.Operation}.Changed()
}

// Plan answers, without writing, whether reconciling obj would create,
// update, recreate it or leave it unchanged. It prepares obj exactly as the
// Reconcile… methods do (namespace, labels, owner reference, config hash),
// reads the live object through the client and runs the same comparison, so
// that when Plan returns OperationUnchanged a Reconcile call right after it
// makes no write, and when it returns anything that Changes, a Reconcile call
// writes.
//
// Plan makes no write request, records no event, neither records obj in the
// store nor marks the store's pass failed, and does not count obj as
// reconciled for the config hashes of later workloads. obj is not modified.
func (b *Builder) Plan(ctx context.Context, obj client.Object) (Plan, error) {
	p, err := b.prepare(ctx, obj)
	if err != nil {
		return Plan{}, fmt.Errorf("builder: plan: %w", err)
	}
	d, err := b.decide(ctx, p)
	if err != nil {
		return Plan{}, fmt.Errorf("builder: plan %s %s/%s: %w", p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), err)
	}
	return Plan{Operation: d.op, Live: d.live, RolloutTriggered: d.rollout, Reason: d.reason, Message: d.why}, nil
}
