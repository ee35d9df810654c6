package orchestrate

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// Object is a custom resource whose node types an Orchestrator runs. It embeds
// status.ClusterStatus in its status. It may also implement DeploymentOrderer.
type Object interface {
	status.Object
}

// DeploymentOrderer is implemented by a CR that lets its user choose the order
// in which node types roll out. DeploymentOrder returns node-type names,
// earliest first; node types it does not name follow in registration order.
// An empty result, or a CR that does not implement the interface, means
// registration order.
type DeploymentOrderer interface {
	DeploymentOrder() []string
}

// BuildFunc returns a node type's desired objects for the given CR, one Group
// per workload. Returning no group means the CR does not run the node type:
// its children are pruned and it leaves the status. A build function must
// not modify owner and must not write to the API server; the Orchestrator
// makes every write. Its objects are labelled and placed in the owner's
// namespace in place, so return new objects on every call.
type BuildFunc[T Object] func(ctx context.Context, owner T) ([]Group, error)

// NodeType registers one node type of the data system.
type NodeType[T Object] struct {
	// Name is the node type's name (e.g. "historical"). It becomes the
	// app.kubernetes.io/component label of its children and the name used in
	// the CR's deployment order and status. It must be a valid DNS label.
	Name string

	// Build returns the node type's desired objects. Required.
	Build BuildFunc[T]

	// Disruption configures the PodDisruptionBudget generated for each of the
	// node type's workloads, unless a group sets its own. The zero value
	// generates one with maxUnavailable: 1.
	Disruption Disruption

	// Hooks are the application's own say in the node type's rollouts and
	// removals. The zero value leaves them to Kubernetes readiness.
	Hooks Hooks[T]

	// Canary, when set, stops each rollout of the node type once a few
	// pods of its first group (or, for a Deployment, a few pods beside
	// it) run the new revision, and holds the rest of the node type, and
	// the node types after it, until the canary is approved. Nil rolls
	// without stopping.
	Canary *Canary

	// ChangeBudget, when set, bounds how many pods of the node type may be
	// unavailable at once across all its groups, on top of each group's
	// PodDisruptionBudget, and lets its groups roll in parallel as far as
	// the budget allows instead of one after another: a group starts
	// rolling when the pods one step of its rollout takes down (a
	// StatefulSet's rollingUpdate.maxUnavailable or one, a Deployment's
	// maxUnavailable or one) fit in what the node type's unavailable pods,
	// from any cause, and the rollouts under way leave. A rollout under way
	// is not stopped. The groups after a canary's still wait for it, and
	// the node type is rolled out, for the deployment order, only once
	// every group is. Nil rolls the groups one at a time.
	ChangeBudget *ChangeBudget
}

// Canary is where a node type's rollout stops, and what lets it go on.
//
// It applies to the node type's first group, whose workload is either:
//
//   - a StatefulSet with the RollingUpdate strategy: the Orchestrator owns
//     its partition and rolls it one pod at a time, highest ordinal first,
//     as with Hooks, and the rollout stops once Pods of its pods run the new
//     revision (the StatefulSet's update revision);
//   - a Deployment: it is not written; a second Deployment, its name with
//     "-canary" appended, runs the new pod template on Pods pods beside it,
//     selected by the main selector plus keys.LabelCanary, so the group's
//     Services and PodDisruptionBudget cover them too. The revision is
//     keys.AnnotationCanaryRevision, which the canary's pods carry. Once
//     the canary is approved the Deployment is written as in any rollout,
//     and the canary is deleted once it has rolled out. A new change while
//     the canary waits replaces the canary's pods and waits again.
//
// Either waits until the canary's pods are Ready and pass Hooks.Healthy,
// then goes on when the CR's annotation keys.AnnotationApproveRollout +
// "." + <node type> names the revision, or once those pods have been Ready
// for Soak; meanwhile the rest of the node type and the node types after
// it wait, and RolloutBlocked (reason CanaryWaiting) says what to set. A
// StatefulSet with the OnDelete strategy has no canary: the CR stalls, its
// Ready condition saying why, and nothing is applied. The state lives in
// the workloads and the CR, so an operator restart does not lose a
// canary's place.
type Canary struct {
	// Pods is how many pods run the new revision before the rollout
	// stops: a number, or a percentage of the first group's replicas
	// rounded up. At least one pod and at most all but one are used, so a
	// group of one pod has no canary.
	Pods intstr.IntOrString

	// Soak, when positive, lets the rollout go on by itself once the
	// canary's pods have been Ready (and Healthy) for this long. Zero
	// waits for the approval annotation.
	Soak time.Duration
}

// Hooks let a node type's application decide what Kubernetes cannot see:
// whether a pod that is Ready is also healthy in the application's terms,
// and whether a pod may go away now. Each hook is given the CR and one pod.
// The Orchestrator calls them while a rollout, a restart or a scale-down is
// under way, never at steady state, never while holding a lock, and not
// again for a pod whose answer is younger than Recheck.
//
// With either hook set, the Orchestrator owns the partition of the node
// type's StatefulSets that use the RollingUpdate strategy and rolls them
// one pod at a time, highest ordinal first; do not set it in the build
// function. Listing the pods needs the list verb on pods in the operator's
// RBAC.
type Hooks[T Object] struct {
	// Healthy reports whether a ready pod running the workload's new
	// revision is healthy, for example by asking the pod's own health
	// endpoint. A StatefulSet's rollout moves to its next pod, and a
	// workload counts as rolled out (so the next group and node type may
	// start), only once every pod of it is Ready and Healthy says yes. Nil
	// means Kubernetes readiness alone.
	Healthy PodHook[T]

	// BeforeRemove reports whether a pod may be removed now, for example
	// once its data has been moved off. It is asked before each pod a
	// StatefulSet's rolling update would replace, before each pod a
	// scale-down would delete (one pod at a time: a StatefulSet's highest
	// ordinal first, a Deployment's pod the hook agrees to), and before
	// each pod of a group or node type the CR no longer runs (the workload
	// is deleted after its last pod is gone). A Deployment's rolling update
	// and restart replace pods without asking it.
	// Nil means pods may go at any time.
	BeforeRemove PodHook[T]

	// Timeout bounds one hook call: a call still running after it is
	// reported as blocked, and the pod is asked again once that call has
	// returned and its answer is older than Recheck. Defaults to ten
	// seconds.
	Timeout time.Duration

	// Recheck is how long an answer stays fresh. A pod a hook said no to
	// is asked again after it, by a requeue, since the application's state
	// brings no watch event. Defaults to ten seconds.
	Recheck time.Duration
}

// PodHook is a hook of Hooks. It must not modify owner or pod. An error is
// reported on the CR (condition and Warning event) and counts as a no.
type PodHook[T Object] func(ctx context.Context, owner T, pod *corev1.Pod) (Verdict, error)

// Verdict is a hook's answer.
type Verdict struct {
	// OK is the hook's yes.
	OK bool
	// Reason says why not, in the application's terms; it is shown in the
	// node type's conditions and in one Warning event per pod and reason,
	// so keep it free of secrets and of figures that change on every call.
	Reason string
}

// SharedFunc returns the desired objects of a CR that belong to no node
// type, such as a ConfigMap of settings every node type mounts. They are
// applied before any workload, are never held by the deployment order, and
// are pruned when no longer returned. Like a BuildFunc it must not modify
// owner or write, and must return new objects on every call.
type SharedFunc[T Object] func(ctx context.Context, owner T) ([]client.Object, error)

// Group is one named group of a node type, such as the "hot" or "cold" tier
// of Druid historicals. A group holds at most one workload (Deployment or
// StatefulSet) plus the objects that go with it: ConfigMaps, Secrets,
// Services, a PodDisruptionBudget and so on. Groups of one node type roll one
// at a time, in the order the build function returns them.
type Group struct {
	// Name is the group's name, set as the group label on its children. It may
	// be empty only when the node type has a single group, and must be unique
	// within the node type.
	Name string

	// Objects are the group's desired objects, in the namespace of the CR.
	// Owner references, standard labels and the config hash are added by the
	// runtime; do not set them. The workload must be a typed
	// *appsv1.Deployment or *appsv1.StatefulSet to be rolled out in order; an
	// unstructured one is applied like any other object. When a node type
	// has several groups, give each workload's selector the group label
	// (keys.LabelGroup) so that their pods, and their budgets, do not
	// overlap.
	Objects []client.Object

	// Disruption, when set, replaces the node type's Disruption for this
	// group's generated PodDisruptionBudget, so each group of a CR can have
	// a budget of its own.
	Disruption *Disruption
}

// Disruption configures the PodDisruptionBudget the Orchestrator generates for
// each workload of a node type or group. A group whose Objects already
// contain a PodDisruptionBudget gets no generated one. Either way, the
// node type is Available only while each group has the pods its budget
// protects.
type Disruption struct {
	// Disabled turns off the generated PodDisruptionBudget.
	Disabled bool

	// MaxUnavailable is the budget's maxUnavailable. Used when MinAvailable is
	// nil; defaults to 1.
	MaxUnavailable *intstr.IntOrString

	// MinAvailable is the budget's minAvailable. When set, MaxUnavailable is
	// ignored.
	MinAvailable *intstr.IntOrString
}

// Config configures an Orchestrator.
type Config struct {
	// App is the application name, set as the app.kubernetes.io/name label on
	// every child (e.g. "druid"). Required.
	App string

	// FieldOwner is the server-side-apply field manager and the
	// app.kubernetes.io/managed-by label value (e.g. "druid-operator").
	// Required.
	FieldOwner string

	// EventRecorderName names the events.k8s.io/v1 event source. Defaults to
	// FieldOwner.
	EventRecorderName string

	// EventRecorder records the events. Defaults to the manager's
	// events.k8s.io/v1 recorder named EventRecorderName; set it to add to
	// what happens to events, for example to count them in a test.
	EventRecorder events.EventRecorder

	// OwnedKinds are further kinds of children the build functions return,
	// as empty typed objects (for example &autoscalingv2.HorizontalPodAutoscaler{}).
	// Deployments, StatefulSets, ConfigMaps, Secrets, Services and
	// PodDisruptionBudgets are always owned. Each owned kind is watched by the
	// controller and scanned by the pruner, so a child of a kind is found even
	// after it stopped being desired.
	OwnedKinds []client.Object

	// StuckPodRecovery, when set, opts in to deleting pods that keep a
	// StatefulSet's rolling update from making progress. Nil disables it.
	StuckPodRecovery *StuckPodRecovery
}

// StuckPodRecovery is the opt-in policy for the StatefulSet OrderedReady
// deadlock (kubernetes/kubernetes#60164): a StatefulSet with OrderedReady pod
// management does not replace a pod of the old revision that is not ready, so
// a broken revision fixed by a new spec never rolls forward. With this policy,
// during a rolling update the Orchestrator deletes such a pod so that the
// StatefulSet controller recreates it at the update revision.
type StuckPodRecovery struct {
	// UnreadyFor is how long a pod of the old revision must have been not
	// ready before it is deleted. A pod whose container is crash-looping or
	// cannot pull its image is deleted without waiting. Defaults to five
	// minutes.
	UnreadyFor time.Duration
}
