// Package eventclient wraps a controller-runtime client.Client so that every
// write it makes to a child object records an events.k8s.io/v1 Event on the
// custom resource that owns the child.
//
// Each event has:
//
//   - regarding: the owning custom resource, taken from WithOwner or else
//     from the child's controller owner reference;
//   - related: the child that was written;
//   - reason: the outcome (ReasonCreated, ReasonUpdated, ReasonDeleted,
//     ReasonPruned, ReasonRecreated, ReasonRolloutTriggered, and the Warning
//     reasons ReasonCreateFailed, ReasonUpdateFailed, ReasonDeleteFailed,
//     ReasonPruneFailed);
//   - action: the verb (ActionCreate, ActionUpdate, ActionPatch, ActionApply,
//     ActionDelete).
//
// Events are recorded only for changes: an update, patch or apply that leaves
// the object's resourceVersion as it was records nothing, and neither does a
// delete of an object that is already gone. A 409 Conflict records no Warning,
// because the caller retries or requeues it. Notes name the kind, namespace and
// name of the child and never its contents; for ConfigMaps and Secrets even the
// API server's error message is left out of a failure note, as validation
// messages can quote keys and values.
//
// Callers say why they write with per-call options that also satisfy the
// controller-runtime option interfaces, so the wrapper keeps the exact
// client.Client method set and can be used anywhere a client.Client is:
//
//	c.Delete(ctx, obj, eventclient.Prune)                 // reason Pruned / PruneFailed
//	c.Delete(ctx, obj, eventclient.Recreate, ...)         // reason Recreated
//	c.Apply(ctx, cfg, eventclient.Rollout, ...)           // reason RolloutTriggered
//	c.Apply(ctx, cfg, eventclient.Before(live), ...)      // the caller's last read
//
// Passed to any other client these options do nothing.
//
// To tell a create from an update, and a change from a no-op, a server-side
// apply (Apply, or Patch with client.Apply) needs the object's state before the
// write. Pass it with Before (nil when the object did not exist); without it,
// the wrapper reads the object through the wrapped client first (the
// manager's cache in a controller).
//
// Status and other subresource writes, and DeleteAllOf, are passed through
// without events: the first are not changes to a child, and the last does not
// say which objects it removed.
//
// The wrapper is independent of runtime/builder: any reconciler can wrap its
// client with New and get the same events.
package eventclient
