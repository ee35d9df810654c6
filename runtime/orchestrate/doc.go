// Package orchestrate runs the node types of a multi-node-type data system
// (Druid, Pinot, Kafka-like) from one custom resource: it builds and applies
// every node type's desired objects through runtime/builder, records them in
// the desired-state store (runtime/store), prunes what is no longer desired,
// rolls workload changes out one node type at a time in the CR's deployment
// order, each waiting for the previous one to be fully rolled out, keeps a
// PodDisruptionBudget per workload, honours the pause and disable
// annotations, and writes the CR's status.
//
// An operator registers its node types once and hands the CR to Reconcile:
//
//	// SetupWithManager of the operator's reconciler
//	o, err := orchestrate.New(mgr, orchestrate.Config{App: "druid", FieldOwner: "druid-operator"},
//		orchestrate.NodeType[*datav1alpha1.Druid]{Name: "historical", Build: buildHistorical},
//		orchestrate.NodeType[*datav1alpha1.Druid]{Name: "broker", Build: buildBroker},
//	)
//	if err != nil {
//		return err
//	}
//	r.orchestrator = o
//	return o.SetupWithManager(mgr, r) // For the CR, Owns every child kind
//
//	// Reconcile
//	var druid datav1alpha1.Druid
//	if err := r.Get(ctx, req.NamespacedName, &druid); err != nil {
//		return ctrl.Result{}, client.IgnoreNotFound(err)
//	}
//	return r.orchestrator.Reconcile(ctx, &druid)
//
// A build function returns one Group per workload, for example
// Group{Name: "hot", Objects: []client.Object{configMap, statefulSet, headless}}.
// The CR implements status.Object and, to let its users choose the order,
// DeploymentOrderer.
//
// # Rollout rules
//
// A Deployment or StatefulSet that does not exist yet is created at once, so
// a first install starts every node type in parallel (and a pause does not
// stop a deleted workload from being restored). A change to an existing
// workload is applied only when every node type earlier in the deployment
// order is fully rolled out: its workloads' controllers observed their
// generation, updatedReplicas == replicas == readyReplicas, a StatefulSet's
// currentRevision == updateRevision (an OnDelete StatefulSet only needs its
// replicas ready), and a Deployment has not exceeded its progress deadline
// (kstatus, plus the checks it lacks). The groups of one node type roll one
// at a time in the order the build function lists them, unless the node
// type has a change budget.
//
// NodeType.ChangeBudget (budget.go) lets the groups of a node type roll in
// parallel within a budget of pods that may be unavailable at once across
// them all (a count, or a percentage of the node type's desired replicas
// rounded up), on top of each group's PodDisruptionBudget. Every pod that
// is not Ready, from whatever cause, spends it; a group whose rollout is
// under way spends at least the pods one step of it takes down (a
// StatefulSet's rollingUpdate.maxUnavailable or one, one when rolled pod by
// pod; a Deployment's maxUnavailable, 25% by default, or one; all its pods
// with Recreate). A group with a change starts, in the build function's
// order, when its step fits in what is left; a group whose step alone
// exceeds the budget, or whose own unready pods spend it, starts when
// nothing else of the node type spends any, so it rolls alone rather than
// never. A rollout under way is not stopped by the budget. A group held by
// it shows on RolloutBlocked as WaitingForChangeBudget, quoting the budget.
// The groups after a canary's still wait for that group, a forced node type
// ignores its budget, a pause holds it as any other, and the node types
// after it wait until every one of its groups is rolled out.
//
// Until its turn a workload is held: recorded in the store so that it is
// not pruned, but not written, so its spec and its config-hash annotation
// stay as they are while the node type's other objects (ConfigMaps,
// Services, ...) are applied as usual. Whether a workload has a change
// pending is decided by builder.Plan, which runs the same comparison as the
// write path without writing. All passes share one builder.Expectations: a
// pass that reads a child from a cache that has not yet seen the previous
// pass's apply of the same desired state does not apply it again, and judges
// the rollout on the object as that apply returned it rather than on the old
// cached one. When its turn comes the builder stamps the
// hash of the configuration as it is then, in the same write as the spec
// change, so every accumulated change rolls the workload exactly once.
//
// A pass applies a node type's other objects before its workloads, and
// what refers to a workload (its PodDisruptionBudget, an autoscaler) after
// them. The objects of each of those two sets depend on none of the others,
// so they are applied several at a time and their requests overlap;
// workloads are applied one at a time, in the order the rollout rules
// decide.
//
// A revert of drift is not a rollout (revert.go). When someone scales a
// workload by hand or changes its image, the change is put back, by the
// same ordering rules; but if the node type was rolled out for the CR's
// generation and the config hash stays, the CR asked for nothing new, so
// its status and events say nothing new either: the Builder's Updated event
// records the revert, Progressing stays False while the workload's
// controller catches up (observes the generation, removes the pods a hand
// scale-up added), and the CR's status is not written. Pods the hand edit
// took away or replaced before it was put back (a scale-down, an image
// change the Deployment had begun to roll out) do have to come back: until
// they have, the node type is Progressing with reason RevertingDrift, which
// records no rollout event. Node types with hooks or a canary are left
// out: their steps follow every generation.
//
// The ConfigMaps and Secrets of a node type that is held or still rolling are
// never pruned, even when no longer desired: some of its pods still run the
// old template. Note that a held workload's pods read a ConfigMap's new
// content if they restart (or through the kubelet's refresh of mounted
// volumes); an operator that needs every pod to run exactly the
// configuration of its template names its ConfigMaps after their content.
//
// Progress is observed through watches on the owned workloads; Reconcile
// asks to be requeued only for what brings no watch event (a hook's answer,
// an object in the way, a missing ConfigMap, a claim growing, progress whose
// status write was held back).
//
// # The application's say: hooks
//
// NodeType.Hooks lets the application decide what Kubernetes cannot see
// (gate.go carries it out, hooks.go calls them):
//
//   - Healthy: a workload counts as rolled out, so the next group and node
//     type may start, only once every pod of it also passes this check;
//   - BeforeRemove: asked before a pod goes away. A hooked StatefulSet with
//     the RollingUpdate strategy rolls one pod at a time, highest ordinal
//     first, through its partition, which the Orchestrator then owns: each
//     pod is asked before it is replaced, and the next goes once the
//     replaced one is Ready and Healthy (the rules are in podbypod.go). A
//     scale-down removes one pod at a time the same way; a Deployment's,
//     the pod the hook agreed to, given the lowest pod-deletion cost
//     (scaledown.go). The workload of a
//     removed group or node type is scaled down one pod at a time, each
//     once the hook agrees (for a Deployment, the pod the hook agreed to
//     is given the lowest pod-deletion cost), and deleted after its last
//     pod (drain.go). The rest of its group, its Services and its
//     PodDisruptionBudget among them, stays as long; a
//     HorizontalPodAutoscaler goes at once, as it would scale the workload
//     back up.
//
// NodeType.Canary stops each rollout of a node type once a few pods of the
// new revision are Ready and Healthy: the rest of the node type and the node
// types after it wait until the CR's annotation
// opbuilder.io/approve-rollout.<node type> names that revision, or until the
// canary's pods have been Ready for Canary.Soak (canary.go; RolloutBlocked
// CanaryWaiting says what to set, with one RolloutBlocked event). When the
// first group is a StatefulSet, the canary is its highest pods, rolled pod
// by pod as with hooks. When it is a Deployment, whose controller replaces
// its pods by itself, the Deployment is not written at all: a Deployment of
// its own, <name>-canary, runs the new template on the canary's pods beside
// it (its selector is the main one plus opbuilder.io/canary, and its pods
// carry the revision, opbuilder.io/canary-revision), the approval lets the
// main Deployment roll as usual, and the canary is pruned once that
// Deployment has rolled out, so capacity never drops (canarydeploy.go). A
// pause holds the canary too; removing the canary, its group or its node
// type prunes it at once, without BeforeRemove: its pods are extra ones.
//
// A no, an error or a call that outlives Hooks.Timeout shows on the node
// type's RolloutBlocked condition (WaitingForHook, HookFailed) naming the
// pod, with one Warning event per pod and answer; the pod is asked again
// once its answer is older than Hooks.Recheck, by a requeue. Hooks are
// asked only while something moves: at steady state no pod is listed. A
// Deployment's rolling update and restart are the Deployment controller's,
// so BeforeRemove is not asked for the pods they replace; nor for pods the
// garbage collector removes when the CR is deleted.
//
// # Escape hatches
//
// The force-rollout annotation lets the named node types roll even though an
// earlier node type, or an earlier group of their own, is not rolled out. A
// pause still holds them.
//
// Config.StuckPodRecovery opts in to deleting a pod of an old revision that
// blocks a StatefulSet's rolling update (the OrderedReady deadlock of
// kubernetes/kubernetes#60164): one pod at a time, when it is crash-looping
// or has been unready for longer than the configured time.
//
// # Status and events
//
// Each node type's entry in status.nodeTypes has the conditions Available,
// Progressing and RolloutBlocked (whose message names the node type waited
// for), its ready and desired replicas and the config hash its pods run
// with. The CR gets Ready, RolloutPaused or ReconcileDisabled while those
// annotations are set, and what tools that read kstatus (kubectl wait, Flux,
// Argo CD) need: Reconciling while a change rolls out, Stalled while a
// rollout is blocked by something retrying will not fix (the rule is the
// table verdicts in kstatus.go), and an observedGeneration that catches up
// only once its generation is Ready or Stalled. readyNodeTypes ("2/3") and
// rollingNodeType ("broker", "broker (blocked)") are for printer columns.
// The status is written
// with one JSON merge patch (carrying the resourceVersion read, so a pass
// that read a stale copy cannot overwrite a newer one), and only when it
// changed: a steady-state pass writes nothing. Transitions are written when
// they happen; a rollout's progress alone (replica counts and the messages
// quoting them) only once it has stood still for a few seconds, so a
// rollout writes the status when it starts and ends whatever its number of
// pods, and one that stops half-way shows where (statuspace.go). The Orchestrator remembers the
// status it last wrote per CR, so a pass that reads the CR from a cache that
// has not yet seen that write starts from it rather than meeting a 409
// Conflict (statusmemo.go).
//
// Events (RolloutStarted, RolloutBlocked, RolloutCompleted, RolloutStalled,
// RolloutPaused, RolloutResumed, ReconcileDisabled, ReconcileEnabled) are
// derived from condition transitions and recorded after the status write
// that persisted them, so each state change is recorded once, never once per
// pass. An event about one node type regards the CR with the field path
// status.nodeTypes{<name>}, so that client-go's events recorder, which folds
// events on the same object with the same reason into one series whatever
// their notes, keeps one Event per node type. Writes to children are
// recorded by runtime/eventclient.
//
// # Metrics
//
// The Orchestrator registers its metrics in controller-runtime's registry,
// which the manager's metrics endpoint serves (metrics.go):
// opbuilder_node_type_state (ready, rolling, waiting, blocked or
// unavailable), opbuilder_rollout_duration_seconds,
// opbuilder_hook_waiting_pods, opbuilder_hook_errors_total,
// opbuilder_pruned_objects_total and opbuilder_refused_objects. They are
// labelled by the CR's kind, namespace and name and by node type, never by
// pod, and a CR's series are removed when it is deleted.
//
// # PodDisruptionBudgets
//
// Every workload gets a PodDisruptionBudget named after it, selecting its
// pods with its own selector, with maxUnavailable 1 unless the group's
// Disruption, or else its node type's, says otherwise (or a group brings its
// own budget object). It belongs to the node type like any other child and
// is pruned with it. A node type is Available when each workload has the
// replicas available that its budget protects: the group's own budget when
// it brings one, else the generated one.
//
// # Shared objects
//
// Objects that belong to no node type, such as a ConfigMap of settings every
// node type mounts, come from the function given to SetShared. They are
// applied with the configuration, before any workload, and pruned when no
// longer returned. A change of such a ConfigMap changes the config hash of
// every workload that consumes it, and the deployment order rolls them one
// node type after the other, like any other change.
//
// # Annotations on the CR
//
// All keys come from package keys (one prefix):
//   - pause-rollout "true": workload changes are held, deletion included:
//     the workloads of a removed group or node type, the other children of
//     their group (Services, disruption budget, autoscaler) and that node
//     type's ConfigMaps and Secrets stay until the pause is lifted. Status,
//     events, the pruning of other children and config-hash bookkeeping
//     continue, so lifting it rolls each workload once.
//   - reconcile "disabled": Reconcile does nothing for the CR; it says so
//     once, with an event and the ReconcileDisabled condition.
//   - force-rollout "<node type>[,<node type>]": see Escape hatches.
//   - restart "<token>": each new token restarts every node type once, in
//     the deployment order and gated like any rollout; restart.<node type>
//     does so for one node type. The tokens are recorded on the workloads,
//     so a restart survives an operator restart, and removing the
//     annotation restarts nothing (restart.go).
//
// # Consumed ConfigMaps and Secrets the operator does not own
//
// Before hashing, Reconcile labels the ConfigMaps and Secrets a workload
// consumes but the operator does not own with cachescope's Labeler, so that
// a cache scoped with cachescope.Options holds them and
// cachescope.WatchReferencedConfig (set up by Controller) reconciles the CR
// when they change. A workload whose pods need (not optionally) a consumed
// object that does not exist is held at its live spec and config hash (the
// Builder's missing-config rule): its node type reports RolloutBlocked with
// reason ConfigMissing, the CR's Ready says so, one Warning event names the
// object, and the pass runs again within 30 seconds, since an object created
// without the watch label brings no event. When the object is back with the
// content the pods last hashed, nothing rolls. Once no workload of the
// operator in the namespace consumes such an object any more (the workload
// that stopped referencing it was written or deleted, so a held workload
// keeps it), a pass removes the label again, and only when the Labeler's own
// field manager alone owns it. A deleted CR gets no pass: its external
// objects keep the label until another CR's pass in the namespace runs.
//
// # RBAC
//
// The operator needs: get, list, watch, create, patch and delete on every
// child kind it builds (Deployments, StatefulSets, ConfigMaps, Services,
// PodDisruptionBudgets and Config.OwnedKinds; Secrets only if it builds
// them), and never update: children are written with server-side apply;
// get, list, watch and patch on the ConfigMaps and Secrets its pods consume
// (to hash them and add the watch label); list and patch on
// PersistentVolumeClaims when a StatefulSet has storage (to grow it); get,
// list, watch on the CR, patch on its status and update on its finalizers
// (for the owner references' blockOwnerDeletion); create and patch on
// events.k8s.io events; with StuckPodRecovery, list and delete on pods; and
// with hooks or a canary, list on pods, and patch on pods when a hooked node type runs
// a Deployment (the deletion cost of the pod a removal takes).
package orchestrate
