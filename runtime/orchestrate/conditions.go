package orchestrate

import kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

// Condition types the Orchestrator maintains. Ready, Reconciling, Stalled,
// RolloutPaused and ReconcileDisabled are set on the CR's status; Available,
// Progressing and RolloutBlocked on each node type's entry in
// status.nodeTypes.
const (
	// ConditionReady is True when every node type is rolled out, has no
	// change pending and is available.
	ConditionReady = "Ready"
	// ConditionReconciling is kstatus's Reconciling: True while a change
	// rolls out, with the reason and message of the first node type, in
	// deployment order, that is rolling out or waiting for something that
	// comes by itself (see verdicts in kstatus.go). Removed otherwise.
	ConditionReconciling = string(kstatus.ConditionReconciling)
	// ConditionStalled is kstatus's Stalled: True while a rollout is
	// blocked by something retrying will not fix, with the reason and
	// message of the first node type so blocked (see verdicts). Removed
	// otherwise.
	ConditionStalled = string(kstatus.ConditionStalled)
	// ConditionRolloutPaused is True while the pause-rollout annotation holds
	// workload changes; it is removed when the pause is lifted.
	ConditionRolloutPaused = "RolloutPaused"
	// ConditionReconcileDisabled is True while the reconcile annotation
	// disables the controller for the CR; it is removed when lifted.
	ConditionReconcileDisabled = "ReconcileDisabled"

	// ConditionAvailable is True when every workload of the node type has the
	// replicas available that its PodDisruptionBudget protects (at least one).
	ConditionAvailable = "Available"
	// ConditionProgressing is True while a workload of the node type is
	// rolling out or waiting for replicas to become ready.
	ConditionProgressing = "Progressing"
	// ConditionRolloutBlocked is True when a change to the node type's
	// workloads is held, because an earlier node type is not rolled out (the
	// message names it), because rollouts are paused, or because an object
	// the operator does not own has the name of one of the node type's
	// children (reason builder.ReasonNameTaken or
	// builder.ReasonControlledByOther; the message names the object and the
	// fix, and the CR's Ready condition carries the same reason), because
	// its pods need a ConfigMap or Secret that does not exist
	// (builder.ReasonConfigMissing), or because the change cannot be made
	// (builder.ReasonUpdateRejected, such as a storage request that
	// shrinks, or builder.ReasonStorageResizeRefused).
	ConditionRolloutBlocked = "RolloutBlocked"
	// ConditionStorageResizing is True while a claim of one of the node
	// type's StatefulSets has less capacity than its grown storage request
	// (the message names the claims); it is removed once every claim has
	// its capacity. The CR is not Ready meanwhile.
	ConditionStorageResizing = "StorageResizing"
)

// Condition reasons.
const (
	ReasonReady                = "Ready"
	ReasonRolloutInProgress    = "RolloutInProgress"
	ReasonRolloutPending       = "RolloutPending"
	ReasonNodeTypeUnavailable  = "NodeTypeUnavailable"
	ReasonReconcileFailed      = "ReconcileFailed"
	ReasonPausedByAnnotation   = "PausedByAnnotation"
	ReasonDisabledByAnnotation = "DisabledByAnnotation"

	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	ReasonNoWorkload                 = "NoWorkload"

	ReasonRollingOut       = "RollingOut"
	ReasonReplicasNotReady = "ReplicasNotReady"
	// ReasonCreating is Progressing's reason from the pass that creates a
	// workload of the node type until the node type is rolled out. Its
	// start and end record no RolloutStarted or RolloutCompleted: the
	// Builder's Created events say what was made, and Ready says when it
	// is up.
	ReasonCreating = "Creating"
	// ReasonRevertingDrift is Progressing's reason while a workload's pods
	// come back after the operator put back a hand change that had already
	// replaced or removed some (kubectl set image, kubectl scale down). As
	// with ReasonCreating, its start and end record no
	// RolloutStarted or RolloutCompleted: the CR asked for nothing new, and
	// the Builder's Updated event says what was put back.
	ReasonRevertingDrift  = "RevertingDrift"
	ReasonRolloutComplete = "RolloutComplete"
	ReasonRolloutStalled  = "RolloutStalled"
	ReasonRolloutPaused   = "RolloutPaused"
	ReasonRolloutBlocked  = "RolloutBlocked"

	ReasonWaitingForNodeType = "WaitingForNodeType"
	ReasonNotBlocked         = "NotBlocked"

	ReasonStorageResizing = "StorageResizing"

	// ReasonWaitingForHook is RolloutBlocked's reason while a hook (Hooks)
	// has not said yes to a pod; the message names the pod and the hook's
	// reason. ReasonHookFailed: the hook returned an error or did not
	// answer in time.
	ReasonWaitingForHook = "WaitingForHook"
	// ReasonRemovingPods is Progressing's reason while a workload no longer
	// desired is removed one pod at a time (Hooks.BeforeRemove).
	ReasonRemovingPods = "RemovingPods"
	ReasonHookFailed   = "HookFailed"
	// ReasonCanaryWaiting is RolloutBlocked's reason while the node type's
	// rollout waits at its canary for an approval (NodeType.Canary); the
	// message says which annotation lets it go on.
	ReasonCanaryWaiting = "CanaryWaiting"
	// ReasonWaitingForChangeBudget is RolloutBlocked's reason while a
	// group's change waits for room in its node type's change budget
	// (NodeType.ChangeBudget): other groups' pods are unavailable, being
	// replaced or not Ready.
	ReasonWaitingForChangeBudget = "WaitingForChangeBudget"
)

// Event reasons. Each is recorded once per change of state, on the CR.
const (
	// EventRolloutStarted: a node type started rolling out (or being
	// created).
	EventRolloutStarted = "RolloutStarted"
	// EventRolloutBlocked: a change to a node type is held because an
	// earlier node type is not rolled out, or waits at its canary.
	EventRolloutBlocked = "RolloutBlocked"
	// EventRolloutCompleted: every workload of a node type is rolled out.
	EventRolloutCompleted = "RolloutCompleted"
	// EventRolloutStalled (Warning): a node type's workload stopped making
	// progress (Deployment progress deadline exceeded).
	EventRolloutStalled = "RolloutStalled"
	// EventRolloutPaused and EventRolloutResumed: the pause annotation was set
	// or lifted.
	EventRolloutPaused  = "RolloutPaused"
	EventRolloutResumed = "RolloutResumed"
	// EventReconcileDisabled and EventReconcileEnabled: the reconcile
	// annotation disabled or re-enabled the controller for the CR.
	EventReconcileDisabled = "ReconcileDisabled"
	EventReconcileEnabled  = "ReconcileEnabled"
	// EventStuckPodDeleted (Warning): StuckPodRecovery deleted a pod that
	// blocked a StatefulSet's rolling update.
	EventStuckPodDeleted = "StuckPodDeleted"
	// EventPodNotHealthy (Warning): a node type's Healthy hook said no to a
	// pod, so its rollout waits; once per pod and reason.
	EventPodNotHealthy = "PodNotHealthy"
	// EventPodRemovalHeld (Warning): a node type's BeforeRemove hook said
	// no to a pod, so its replacement or removal waits; once per pod and
	// reason.
	EventPodRemovalHeld = "PodRemovalHeld"
	// EventHookFailed (Warning): a hook returned an error or did not answer
	// within its timeout; once per pod and error.
	EventHookFailed = "HookFailed"
)
