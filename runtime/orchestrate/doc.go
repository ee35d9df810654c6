// Package orchestrate runs the node types of a multi-node-type data system
// (Druid, Pinot, Kafka-like) from one custom resource: it builds and applies
// every node type's desired objects, records them in the desired-state store,
// prunes what is no longer desired, rolls workload changes out one node type
// at a time in the CR's deployment order (each waiting for the previous one to
// be fully rolled out), keeps a PodDisruptionBudget per workload, honours the
// pause and disable annotations, and writes the CR's status.
//
// An operator registers its node types once and calls Reconcile from its
// controller:
//
//	o, err := orchestrate.New[*datav1alpha1.Druid](mgr,
//		orchestrate.Config{App: "druid", FieldOwner: "druid-operator"},
//		orchestrate.NodeType[*datav1alpha1.Druid]{Name: "historical", Build: buildHistorical},
//		orchestrate.NodeType[*datav1alpha1.Druid]{Name: "broker", Build: buildBroker},
//	)
//	...
//	return o.Controller(mgr).Complete(r) // For the CR, Owns every child kind
//
//	// in Reconcile:
//	var druid datav1alpha1.Druid
//	if err := r.Get(ctx, req.NamespacedName, &druid); err != nil {
//		return ctrl.Result{}, client.IgnoreNotFound(err)
//	}
//	return o.Reconcile(ctx, &druid)
//
// # Rollout rules
//
// A workload (Deployment or StatefulSet) that does not exist yet is created at
// once, so a first install starts every node type in parallel. A change to an
// existing workload is applied only when every node type earlier in the
// deployment order is fully rolled out (generation observed, every replica
// updated and ready, StatefulSet revisions converged, Deployment not stalled).
// Until then the workload is held: it is recorded in the store but not
// applied, so its spec and its config-hash annotation stay as they are, while
// the node type's other objects (ConfigMaps, Services, ...) are applied as
// usual. When its turn comes the builder stamps the hash of the configuration
// as it is then, in the same write as the spec change, so the held workload
// rolls exactly once. The groups of one node type roll one at a time in the
// order the build function lists them.
//
// Progress is observed through watches on the owned workloads; Reconcile never
// asks to be requeued after a fixed delay.
//
// # Annotations on the CR
//
// All keys come from package keys (one prefix):
//   - pause-rollout "true": workload changes are held; status, events, pruning
//     and config-hash bookkeeping continue, so lifting the pause rolls once.
//   - reconcile "disabled": Reconcile does nothing for the CR; it says so once,
//     with an event and a condition.
//   - force-rollout "<node type>[,<node type>]": the named node types roll even
//     though an earlier node type is not rolled out.
package orchestrate
