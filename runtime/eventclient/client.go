package eventclient

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Client is a client.Client that records an Event on the owning custom
// resource for every create, update, patch, apply and delete it makes. Reads,
// status and subresource writes, and DeleteAllOf go to the wrapped client
// unchanged. Errors are returned exactly as the wrapped client returns them,
// so apierrors helpers such as IsNotFound keep working.
type Client struct {
	client.Client
	recorder events.EventRecorder
	owner    client.Object
}

var _ client.Client = &Client{}

// New wraps c so that its writes record events through recorder, which is
// normally mgr.GetEventRecorder(name). Both are required.
func New(c client.Client, recorder events.EventRecorder, opts ...Option) (*Client, error) {
	if c == nil {
		return nil, errors.New("eventclient: a client is required")
	}
	if recorder == nil {
		return nil, errors.New("eventclient: an events.k8s.io/v1 event recorder is required")
	}
	ec := &Client{Client: c, recorder: recorder}
	for _, o := range opts {
		o(ec)
	}
	return ec, nil
}

// Unwrap returns the wrapped client.
func (c *Client) Unwrap() client.Client { return c.Client }

// Create creates obj and records ReasonCreated, or ReasonCreateFailed.
func (c *Client) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	co := (&client.CreateOptions{}).ApplyOptions(opts)
	ci := scan(opts)
	err := c.Client.Create(ctx, obj, opts...)
	if len(co.DryRun) > 0 {
		return err
	}
	if err != nil {
		c.recordFailure(ctx, obj, ActionCreate, ReasonCreateFailed, err)
		return err
	}
	c.record(ctx, obj, ActionCreate, ReasonCreated, ci.detail)
	return nil
}

// Update updates obj and records ReasonUpdated (or ReasonRolloutTriggered
// with the Rollout intent) when the resourceVersion changed, or
// ReasonUpdateFailed.
func (c *Client) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	uo := (&client.UpdateOptions{}).ApplyOptions(opts)
	ci := scan(opts)
	before := obj.GetResourceVersion()
	err := c.Client.Update(ctx, obj, opts...)
	if len(uo.DryRun) > 0 {
		return err
	}
	if err != nil {
		c.recordFailure(ctx, obj, ActionUpdate, ReasonUpdateFailed, err)
		return err
	}
	if obj.GetResourceVersion() != before {
		c.record(ctx, obj, ActionUpdate, changeReason(ci.intent), ci.detail)
	}
	return nil
}

// Patch patches obj. A server-side apply patch (client.Apply) that created the
// object records ReasonCreated; any patch that changed the resourceVersion
// records ReasonUpdated (or ReasonRolloutTriggered with the Rollout intent);
// a failure records ReasonUpdateFailed.
func (c *Client) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	po := (&client.PatchOptions{}).ApplyOptions(opts)
	if len(po.DryRun) > 0 {
		return c.Client.Patch(ctx, obj, patch, opts...)
	}
	ci := scan(opts)
	var (
		beforeRV string
		existed  = true
	)
	switch {
	case ci.hasBefore:
		existed = ci.before != nil
		if existed {
			beforeRV = ci.before.GetResourceVersion()
		}
	case obj.GetResourceVersion() != "":
		beforeRV = obj.GetResourceVersion()
	default:
		var err error
		beforeRV, existed, err = c.currentResourceVersion(ctx, obj, obj.GetNamespace(), obj.GetName())
		if err != nil {
			return err
		}
	}
	action := ActionPatch
	if patch.Type() == types.ApplyPatchType {
		action = ActionApply
	}
	if err := c.Client.Patch(ctx, obj, patch, opts...); err != nil {
		reason := ReasonUpdateFailed
		if !existed {
			reason = ReasonCreateFailed
		}
		c.recordFailure(ctx, obj, action, reason, err)
		return err
	}
	switch {
	case !existed:
		c.record(ctx, obj, action, ReasonCreated, ci.detail)
	case obj.GetResourceVersion() != beforeRV:
		c.record(ctx, obj, action, changeReason(ci.intent), ci.detail)
	}
	return nil
}

// Apply server-side applies cfg. It records ReasonCreated when the object did
// not exist, ReasonUpdated (or ReasonRolloutTriggered with the Rollout intent)
// when the resourceVersion changed, nothing when it did not, and
// ReasonUpdateFailed or ReasonCreateFailed on failure.
func (c *Client) Apply(ctx context.Context, cfg runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	ao := (&client.ApplyOptions{}).ApplyOptions(opts)
	if len(ao.DryRun) > 0 {
		return c.Client.Apply(ctx, cfg, opts...)
	}
	ci := scan(opts)
	target, err := applyTarget(cfg)
	if err != nil {
		// Not an object we can describe: apply without an event.
		return c.Client.Apply(ctx, cfg, opts...)
	}
	var (
		beforeRV string
		existed  bool
	)
	if ci.hasBefore {
		existed = ci.before != nil
		if existed {
			beforeRV = ci.before.GetResourceVersion()
		}
	} else {
		beforeRV, existed, err = c.currentResourceVersion(ctx, target, target.GetNamespace(), target.GetName())
		if err != nil {
			return err
		}
	}
	if err := c.Client.Apply(ctx, cfg, opts...); err != nil {
		reason := ReasonUpdateFailed
		if !existed {
			reason = ReasonCreateFailed
		}
		c.recordFailure(ctx, target, ActionApply, reason, err)
		return err
	}
	after, err := applyTarget(cfg)
	if err != nil {
		return nil //nolint:nilerr // the apply succeeded; only the event is lost.
	}
	switch {
	case !existed:
		c.record(ctx, after, ActionApply, ReasonCreated, ci.detail)
	case after.GetResourceVersion() != beforeRV:
		c.record(ctx, after, ActionApply, changeReason(ci.intent), ci.detail)
	}
	return nil
}

// Delete deletes obj and records ReasonDeleted (ReasonPruned with the Prune
// intent, ReasonRecreated with the Recreate intent), or ReasonDeleteFailed
// (ReasonPruneFailed). Deleting an object that is already gone records
// nothing and returns the NotFound error.
func (c *Client) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	do := (&client.DeleteOptions{}).ApplyOptions(opts)
	ci := scan(opts)
	err := c.Client.Delete(ctx, obj, opts...)
	if len(do.DryRun) > 0 {
		return err
	}
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		reason := ReasonDeleteFailed
		if ci.intent == Prune {
			reason = ReasonPruneFailed
		}
		c.recordFailure(ctx, obj, ActionDelete, reason, err)
		return err
	}
	reason := ReasonDeleted
	switch ci.intent {
	case Prune:
		reason = ReasonPruned
	case Recreate:
		reason = ReasonRecreated
	}
	c.record(ctx, obj, ActionDelete, reason, ci.detail)
	return nil
}

func changeReason(i Intent) string {
	if i == Rollout {
		return ReasonRolloutTriggered
	}
	return ReasonUpdated
}

// currentResourceVersion reads the object named by namespace/name with the
// kind of like through the wrapped client.
func (c *Client) currentResourceVersion(ctx context.Context, like runtime.Object, namespace, name string) (string, bool, error) {
	cur, err := c.emptyLike(like)
	if err != nil {
		return "", false, fmt.Errorf("eventclient: read %s/%s before writing: %w", namespace, name, err)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cur); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return "", false, nil
		}
		return "", false, fmt.Errorf("eventclient: read %s/%s before writing: %w", namespace, name, err)
	}
	return cur.GetResourceVersion(), true, nil
}
