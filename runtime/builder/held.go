package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// ReasonConfigMissing is the reason of OperationHeld, also the reason of its
// Warning event, when a ConfigMap or Secret the workload's pods need does not
// exist. A workload that consumes a ConfigMap or Secret whose name is taken
// is held with ReasonNameTaken.
const ReasonConfigMissing = "ConfigMissing"

// The missing-config rule: a Deployment or StatefulSet whose pod template
// consumes a ConfigMap or Secret that does not exist, and not as optional, is
// not written, neither created nor updated. Its pods would start, or restart,
// into CreateContainerConfigError (or fail to mount the volume), so an update
// would take down pods that run well on what they read before the object
// went. The live workload keeps its spec and its config hash: when the object
// is back with the content the pods last hashed, the hash is unchanged and
// nothing rolls; with other content, it rolls once.
//
// Whether an object exists is asked of the API server when the client (a
// label-scoped cache) does not hold it and the Builder has an API reader
// (WithAPIReader), so an object the cache has not seen yet is neither held
// for nor hashed as absent.

// refusedAmong returns the refs that name a ConfigMap or Secret this Builder
// refused to write: the object of that name is someone else's.
func (b *Builder) refusedAmong(refs []confighash.Ref) []confighash.Ref {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []confighash.Ref
	for _, r := range refs {
		if slices.ContainsFunc(b.refusedConfig, func(c confighash.Ref) bool { return c.Kind == r.Kind && c.Name == r.Name }) {
			out = append(out, r)
		}
	}
	return out
}

// requiredMissing returns the consumed objects of sum that do not exist and
// are not optional.
func requiredMissing(sum confighash.Hash) []confighash.Ref {
	var out []confighash.Ref
	for _, r := range sum.Missing {
		if !r.Optional {
			out = append(out, r)
		}
	}
	return out
}

// holdForMissingConfig turns a decision that writes p into OperationHeld when
// p is a workload whose pods need an object that does not exist, or consume
// one whose name the Builder found taken (they would read someone else's
// data).
func holdForMissingConfig(p *prepared, d decision) decision {
	switch d.op {
	case OperationCreated, OperationUpdated, OperationRecreated:
	default:
		return d
	}
	if len(p.taken) > 0 {
		return decision{op: OperationHeld, live: d.live, reason: ReasonNameTaken,
			why: fmt.Sprintf("%s %s/%s consumes %s, whose name is taken by an object the operator did not create, so it is not written",
				p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), refNames(p, p.taken))}
	}
	if len(p.missing) == 0 {
		return d
	}
	what := "its live spec is kept"
	if d.live == nil {
		what = "it is not created"
	}
	exist, fix := "which does not exist", "create it, or mark the reference optional"
	if len(p.missing) > 1 {
		exist, fix = "which do not exist", "create them, or mark the references optional"
	}
	why := fmt.Sprintf("%s %s/%s consumes %s, %s, so %s; %s",
		p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), refNames(p, p.missing), exist, what, fix)
	return decision{op: OperationHeld, live: d.live, reason: ReasonConfigMissing, why: why}
}

// hold records the Warning of a hold once per desired state (the config hash
// covers what is consumed and what is missing), and returns OperationHeld. It
// writes nothing.
func (b *Builder) hold(ctx context.Context, p *prepared, d decision) Result {
	if b.cfg.expectations.firstWarning(p.key(), "held "+p.configHash) {
		log.FromContext(ctx).Info("holding a workload: its pods would not start on what they consume",
			"kind", p.gvk.Kind, "namespace", p.obj.GetNamespace(), "name", p.obj.GetName(), "reason", d.reason)
		regarding := d.live
		if regarding == nil {
			regarding = p.obj
		}
		b.client.Record(ctx, regarding, corev1.EventTypeWarning, d.reason, eventclient.ActionUpdate, d.why)
	}
	return Result{Object: d.live, Operation: OperationHeld, Reason: d.reason, Message: d.why, Requeue: true}
}

// refNames names refs, in p's namespace, for a message.
func refNames(p *prepared, refs []confighash.Ref) string {
	names := make([]string, 0, len(refs))
	for _, r := range refs {
		names = append(names, fmt.Sprintf("%s %s/%s", r.Kind, p.obj.GetNamespace(), r.Name))
	}
	return strings.Join(names, " and ")
}
