package builder

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// reconcile is the one path every kind goes through.
func (b *Builder) reconcile(ctx context.Context, obj client.Object) (Result, error) {
	res, err := b.reconcileOne(ctx, obj, true)
	if err != nil && b.cfg.store != nil {
		b.cfg.store.Fail(err)
	}
	return res, err
}

func (b *Builder) reconcileOne(ctx context.Context, obj client.Object, record bool) (Result, error) {
	p, err := b.prepare(ctx, obj)
	if err != nil {
		return Result{}, fmt.Errorf("builder: %w", err)
	}
	if record && b.cfg.store != nil {
		if err := b.cfg.store.Record(p.obj); err != nil {
			return Result{}, fmt.Errorf("builder: record %s %s/%s in the store: %w", p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), err)
		}
	}
	var res Result
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		res, err = b.ensure(ctx, p)
		return redact(p, err)
	})
	if err != nil {
		return Result{}, fmt.Errorf("builder: %s %s/%s: %w", p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case isConfig(p.gvk) && res.Operation == OperationRefused:
		b.refusedConfig = append(b.refusedConfig, confighash.Ref{Kind: confighash.Kind(p.gvk.Kind), Name: p.obj.GetName()})
	case isConfig(p.gvk):
		b.reconciledConfig = append(b.reconciledConfig, p.obj)
	}
	return res, nil
}

// ensure carries out what decide found reconciling p has to do.
func (b *Builder) ensure(ctx context.Context, p *prepared) (Result, error) {
	d, err := b.decide(ctx, p)
	if err != nil {
		return Result{}, err
	}
	if d.op == OperationUnchanged {
		// The steady state: nothing to log.
		return Result{Object: d.live, Operation: OperationUnchanged, Requeue: d.unseen}, nil
	}
	logger := log.FromContext(ctx).WithValues("kind", p.gvk.Kind, "namespace", p.obj.GetNamespace(), "name", p.obj.GetName())
	switch d.op {
	case OperationCreated:
		return b.apply(ctx, p, nil, OperationCreated)
	case OperationRecreating:
		logger.V(1).Info(d.why)
		return Result{Operation: OperationRecreating, Requeue: true, Message: d.why}, nil
	case OperationRecreated:
		if len(d.grow) > 0 {
			if res, blocked, err := b.growClaims(ctx, p, d.live, d.grow); err != nil || blocked {
				return res, err
			}
		}
		return b.recreate(ctx, p, d.live, d.why, d.replaceDependents)
	case OperationBlocked:
		if d.warned {
			return Result{Object: d.live, Operation: OperationBlocked, Reason: d.reason, Message: d.why}, nil
		}
		return b.block(ctx, p, d.live, d.reason, d.why), nil
	case OperationRefused:
		return b.refuse(ctx, p, d.refused, d.reason, d.why), nil
	case OperationHeld:
		return b.hold(ctx, p, d), nil
	case OperationUpdated:
	default:
		return Result{}, fmt.Errorf("unexpected decision %q", d.op)
	}
	logger.V(1).Info("applying: desired state differs from the live object")
	var opts []client.ApplyOption
	if d.adopt {
		logger.Info("adopting the object, as its annotation asks", "annotation", keys.AnnotationAdopt)
		opts = append(opts, eventclient.Detail(fmt.Sprintf("adopted, as its %s annotation asks; the fields the operator does not set are kept", keys.AnnotationAdopt)))
	}
	if err := b.handOverReplicas(ctx, p, d.live); err != nil {
		return Result{}, err
	}
	res, err := b.apply(ctx, p, d.live, OperationUpdated, opts...)
	switch {
	case err == nil:
		return res, nil
	case b.recreateOnInvalid(p, err):
		return b.recreate(ctx, p, d.live, "the API server refused to update a field that cannot be changed", false)
	case isPVC(p) && (apierrors.IsForbidden(err) || apierrors.IsInvalid(err)):
		// The UpdateFailed Warning is already recorded; retrying the same
		// change would fail the same way until the desired state changes.
		logger.Info("the API server refused the change", "error", err.Error())
		return Result{Object: d.live, Operation: OperationBlocked, Reason: ReasonUpdateRejected, Message: err.Error()}, nil
	case apierrors.IsInvalid(err):
		logger.Info("server-side apply was refused; replacing the desired lists and applying again", "error", redact(p, err).Error())
		return b.replaceLists(ctx, p, d.live)
	}
	return res, err
}

// replaceLists reverts a hand edit that server-side apply cannot revert, and
// then applies p again.
//
// Server-side apply merges list items by their keys. When someone changes
// the key of an item the Builder applied (a Service port's port, a
// container's containerPort), the edited item is a new item owned by the
// editor, and applying the desired item beside it gives, for example, two
// ports with the same name, which the API server refuses as invalid. A JSON
// merge patch replaces lists as a whole, so one with the desired top-level
// fields (not metadata: owner references and other actors' labels stay)
// puts every list the Builder sets back to exactly what it desires. Maps
// are merged and absent fields untouched, so replicas an autoscaler owns
// and a rollout-restart annotation survive. The apply that follows takes
// the fields' ownership back and sets the applied-hash.
func (b *Builder) replaceLists(ctx context.Context, p *prepared, live client.Object) (Result, error) {
	if err := p.ensureContent(); err != nil {
		return Result{}, err
	}
	patch := map[string]any{}
	for k, v := range p.content {
		switch k {
		case "apiVersion", "kind", "metadata", "status":
		default:
			patch[k] = v
		}
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return Result{}, fmt.Errorf("replace lists: %w", err)
	}
	target, ok := live.DeepCopyObject().(client.Object)
	if !ok {
		return Result{}, fmt.Errorf("replace lists: %T.DeepCopyObject is not a client.Object", live)
	}
	if err := b.client.Patch(ctx, target, client.RawPatch(types.MergePatchType, data), client.FieldOwner(b.cfg.fieldOwner),
		eventclient.Before(live), eventclient.Detail("server-side apply could not revert a hand edit of a list item's key, so the lists were replaced")); err != nil {
		return Result{}, fmt.Errorf("replace lists: %w", err)
	}
	res, err := b.apply(ctx, p, target, OperationUpdated)
	if err == nil && res.Operation == OperationUnchanged {
		// The patch made the change; the apply only confirmed it.
		res.Operation = OperationUpdated
	}
	return res, err
}

// createOnlyVersion is the resourceVersion a create is applied with when the
// client has no object of its name and the Builder has an API reader (see
// decideAbsent). Server-side apply takes a resourceVersion as a
// precondition on an object that exists, and none has this one (etcd
// revisions are int64), so an object the cache does not hold (someone
// else's, or one made since the read) gets a 409 Conflict instead of being
// taken over; an object that does not exist is created with a
// resourceVersion of its own.
const createOnlyVersion = "18446744073709551615"

// apply server-side applies p. live is the object as last read, nil when it
// did not exist.
func (b *Builder) apply(ctx context.Context, p *prepared, live client.Object, op Operation, extra ...client.ApplyOption) (Result, error) {
	if err := p.ensureContent(); err != nil {
		return Result{}, err
	}
	u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(p.content)}
	createOnly := live == nil && op == OperationCreated && b.cfg.apiReader != nil
	if createOnly {
		u.SetResourceVersion(createOnlyVersion)
	}
	opts := []client.ApplyOption{client.FieldOwner(b.cfg.fieldOwner), client.ForceOwnership}
	opts = append(opts, eventclient.Before(live))
	opts = append(opts, extra...)
	rollout := configHashChanges(p, live)
	if rollout {
		opts = append(opts, eventclient.Rollout, eventclient.Detail("the ConfigMaps or Secrets its pods consume changed"))
	}
	if err := b.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), opts...); err != nil {
		if createOnly && apierrors.IsConflict(err) {
			// The name is taken: the retry reads the object from the API
			// server and applies the ownership rules to it.
			b.setTaken(p.key(), true)
		}
		return Result{}, fmt.Errorf("apply: %w", err)
	}
	out, err := b.newLike(p)
	if err != nil {
		return Result{}, err
	}
	if err := fromContent(u.Object, out); err != nil {
		return Result{}, err
	}
	switch {
	case live != nil:
		b.cfg.expectations.expect(p.key(), live.GetResourceVersion(), p.hash, out)
	case op == OperationCreated:
		b.cfg.expectations.expectCreated(p.key(), p.hash, out)
	default:
		b.cfg.expectations.forget(p.key())
	}
	if live != nil && out.GetResourceVersion() == live.GetResourceVersion() {
		// The server found nothing to change (for example the live object
		// was stale in the cache but already up to date).
		return Result{Object: out, Operation: OperationUnchanged}, nil
	}
	return Result{Object: out, Operation: op, RolloutTriggered: rollout}, nil
}

// newLike returns an empty object of the Go type (or, for unstructured
// objects, the kind) of p's desired object.
func (b *Builder) newLike(p *prepared) (client.Object, error) {
	if _, ok := p.obj.(runtime.Unstructured); ok {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(p.gvk)
		return u, nil
	}
	t := reflect.TypeOf(p.obj)
	if t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("%T is not a pointer", p.obj)
	}
	o, ok := reflect.New(t.Elem()).Interface().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%T is not a client.Object", p.obj)
	}
	return o, nil
}

// toContent converts a live object to unstructured form with the same
// converter as the desired one.
func toContent(obj client.Object) (map[string]any, error) {
	if u, ok := obj.(runtime.Unstructured); ok {
		return u.UnstructuredContent(), nil
	}
	c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert live object: %w", err)
	}
	return c, nil
}

func fromContent(content map[string]any, into client.Object) error {
	if u, ok := into.(runtime.Unstructured); ok {
		u.SetUnstructuredContent(content)
		return nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(content, into); err != nil {
		return fmt.Errorf("convert applied object: %w", err)
	}
	return nil
}

// podTemplateAnnotation returns an annotation of a workload's pod template.
// A typed workload is read as it is; converting it to unstructured form
// would cost as much as the whole comparison.
func podTemplateAnnotation(obj client.Object, key string) string {
	if u, ok := obj.(runtime.Unstructured); ok {
		v, _, _ := unstructured.NestedString(u.UnstructuredContent(), "spec", "template", "metadata", "annotations", key)
		return v
	}
	if tmpl := confighash.PodTemplateOf(obj); tmpl != nil {
		return tmpl.Annotations[key]
	}
	c, err := toContent(obj)
	if err != nil {
		return ""
	}
	v, _, _ := unstructured.NestedString(c, "spec", "template", "metadata", "annotations", key)
	return v
}

// withoutTypeMeta returns a shallow copy of content without apiVersion and
// kind, which typed objects read from a cache do not carry.
func withoutTypeMeta(content map[string]any) map[string]any {
	out := make(map[string]any, len(content))
	for k, v := range content {
		if k != "apiVersion" && k != "kind" {
			out[k] = v
		}
	}
	return out
}
