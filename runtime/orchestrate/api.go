package orchestrate

import (
	"context"
	"time"

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
