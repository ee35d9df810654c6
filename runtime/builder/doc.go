// Package builder reconciles the children of a custom resource: the
// ConfigMaps, Secrets, workloads, Services and other objects a node type of a
// data system needs.
//
// A Builder is made from options (the client, the owner, the event recorder,
// the field owner, the application name, optionally the store and the desired
// objects). Its Reconcile… methods make one child look as desired and return
// what they did (Created, Updated, Unchanged, Recreated, Recreating, Blocked);
// ReconcileAll does so for every desired object in dependency order, and
// ReconcileStore lets the store prune what is no longer desired. Plan answers,
// without writing, what reconciling an object would do (create, update,
// recreate or nothing); it runs the very comparison the Reconcile… methods
// run, so a caller such as runtime/orchestrate can hold a change back before
// it is written.
//
// # What every child gets
//
//   - the owner's namespace (a child in another namespace, or a cluster-scoped
//     owner, is refused with an error);
//   - a controller owner reference to the owner (an existing object that is
//     not the owner's child is never written: OperationRefused, unless a
//     human asked for adoption with opbuilder.io/adopt; the rules are in
//     ownership.go; a child the client does not hold is created on the
//     condition that no object has its name, so the API server refuses a
//     create that would overwrite one, see WithAPIReader);
//   - the labels app.kubernetes.io/name, instance, component (when known) and
//     managed-by, and opbuilder.io/owner-uid (see runtime/keys), and
//     ConfigMaps and Secrets also opbuilder.io/watch, so that the
//     label-scoped cache of runtime/cachescope holds them;
//   - the annotation opbuilder.io/applied-hash: the hash of the desired state
//     last applied.
//
// Deployments and StatefulSets also get opbuilder.io/config-hash on their pod
// template: the runtime/confighash hash of the ConfigMaps and Secrets the pods
// consume, read from the desired objects of this Builder when they are among
// them and through the client otherwise. It is set in the same write as any
// other change, so one change makes exactly one rollout. When it changes on an
// existing workload, a RolloutTriggered event is recorded. A workload whose
// pods need a ConfigMap or Secret that does not exist (and not as optional)
// is not written at all: OperationHeld keeps the live workload on what its
// pods run (the missing-config rule, held.go).
//
// # How writes are made
//
// Writes are server-side applies with the field owner given by
// WithFieldOwner and forced ownership: the Builder owns exactly the fields it
// sets and nothing else is sent. Fields other actors set are therefore left
// alone: replicas managed by a HorizontalPodAutoscaler (leave Replicas nil in
// the desired workload and no replicas are sent), the
// kubectl.kubernetes.io/restartedAt annotation of `kubectl rollout restart`,
// and labels and annotations others add.
//
// An apply is made only when needed. The desired object is converted to
// unstructured form (with the apimachinery converter; nulls, status, server-
// set metadata and zero-valued optional structs such as an unset Service
// targetPort are dropped, and a Secret's stringData is folded into data), and
// its hash is compared with the live object's applied-hash annotation. When
// they match and every field the Builder sets has the desired value on the
// live object (a subset comparison: maps by key, lists of objects with a name
// by name, other lists by position and length), nothing is written. So a
// steady-state reconcile makes zero write requests, fields the API server
// defaults (a Deployment's dnsPolicy, a Service's clusterIP and
// sessionAffinity, …) never cause a write because the desired object does not
// set them, and a field someone edits by hand is applied again on the next
// reconcile.
//
// One hand edit server-side apply cannot revert: a change of the key of a
// list item the Builder applied, such as a Service port's port or a
// container's containerPort. The edited item belongs to the editor, and the
// desired item applied beside it is a duplicate the API server refuses as
// invalid. The Builder then sends a JSON merge patch of the desired object's
// top-level fields other than metadata, which replaces its lists as wholes
// while merging maps, and applies again; the refused apply's UpdateFailed
// event and the two Updated events record it.
//
// Reads go through the client given to WithClient, which in a controller is
// the manager's cache, and the cache lags behind the writes. A pass that runs
// right after an apply but before the cache has seen it (routinely: a config
// change applies a ConfigMap and a workload, and the ConfigMap's watch event
// starts the next pass before the workload's write reached the cache) would
// compare with the old object and apply again: the API server changes
// nothing, but it is one more request and one more event. Expectations,
// shared by every pass with WithExpectations, prevent this. After each apply
// they remember the object's resourceVersion read before the apply, the one
// the apply returned, and the applied-hash applied. A pass that reads the
// object still at the resourceVersion from before the apply, and desires the
// same applied-hash, writes nothing and reports OperationUnchanged with the
// object as the apply returned it; the watch event of the apply triggers
// another pass anyway. As soon as the object read has any other
// resourceVersion (the cache caught up, or someone changed the object since)
// the entry is dropped and the comparison above applies, so drift is
// reverted. resourceVersions are only compared for equality, never ordered.
// Entries are also dropped when the Builder deletes the object, on
// Expectations.Forget (runtime/orchestrate forgets what it prunes) and after
// five minutes, so memory stays bounded. Creates are not covered: a cache that
// does not hold an object cannot tell "not seen yet" from "deleted since", so
// the Builder creates again (an apply the API server answers without a
// change when the object exists).
//
// Expectations also make the steady state cheap in CPU. Converting and
// hashing the desired object and converting and comparing the live one is
// most of what a pass that writes nothing costs. Expectations remember, per
// child, the desired object with its applied-hash and the UID and
// resourceVersion of the live object a full comparison found to need no
// apply; a later pass with an equal desired object reuses the hash, and
// when the live object still has that UID and resourceVersion it is
// unchanged without converting or comparing anything. A hand edit, like any
// write, gives the object a new resourceVersion, so it is compared in full
// and reverted. Plan uses the same memory, so it still agrees with
// Reconcile.
//
// Leave a workload's Replicas nil when a HorizontalPodAutoscaler scales it: a
// set value is applied (and drift reverted) on every change. Turning
// autoscaling on for a workload whose replicas the Builder set keeps its
// pods: the replicas are first handed, at their live value, to a field
// manager the autoscaler takes them from (the replicas rule, replicas.go),
// instead of falling back to the API server's default of one.
//
// # Fields that cannot be updated
//
// When the selector of a Deployment or StatefulSet, or the
// volumeClaimTemplates (or any other field the API server refuses to update)
// of a StatefulSet, change, the object is deleted with orphan propagation and
// a UID precondition and created again, and a Recreated event is recorded:
// its pods and PersistentVolumeClaims are kept and adopted by the new object.
// A new selector that does not match the old pods' labels cannot adopt them:
// a Deployment is then deleted with its ReplicaSets and pods (background
// propagation) rather than leave them running, stranded, behind its
// Services; a StatefulSet is not changed at all (OperationBlocked), since a
// new one could neither adopt its pods nor create pods of the same names.
// A StatefulSet whose volumeClaimTemplates only grow their storage requests
// first grows its existing claims, then is recreated; a shrink is refused
// (the storage rules, storage.go). A PersistentVolumeClaim's storage request
// may grow (it is applied); a shrink, or a change to another field that
// cannot be updated, is not made: the call returns OperationBlocked and one
// Warning event per desired state, not an error, so it does not requeue
// forever.
//
// # Errors and conflicts
//
// Every error is returned, wrapped with the kind and name of the child, and
// marks the store's pass failed so nothing is pruned. A 409 Conflict is
// retried with retry.RetryOnConflict and, if it persists, returned for the
// caller to requeue; it records no Warning event.
package builder
