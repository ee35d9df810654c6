package status

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Object is a custom resource whose status embeds ClusterStatus.
type Object interface {
	client.Object
	// GetClusterStatus returns a pointer to the status the runtime maintains.
	// It must never return nil.
	GetClusterStatus() *ClusterStatus
}

// ClusterStatus is the part of a CR's status that the runtime maintains.
// +kubebuilder:object:generate=true
type ClusterStatus struct {
	// ObservedGeneration is the latest CR generation whose rollout is
	// settled: every node type rolled out and available (Ready is True), or
	// blocked by something retrying will not fix (Stalled is True). While a
	// change rolls out it stays at the previous such generation, so that
	// kstatus, and the tools built on it, report the CR as in progress.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions describe the cluster as a whole: Ready is True once every
	// node type is rolled out and available; Reconciling is True while a
	// change rolls out and Stalled while a rollout is blocked by something
	// retrying will not fix, as kstatus defines them.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ReadyNodeTypes is "<ready>/<total>": how many of the node types the CR
	// runs are rolled out and available, out of how many it runs.
	// +optional
	ReadyNodeTypes string `json:"readyNodeTypes,omitempty"`

	// RollingNodeType is the first node type, in deployment order, that is
	// not rolled out: the one rolling out now, followed by " (blocked)"
	// when its RolloutBlocked condition or a stalled rollout holds it.
	// Empty when every node type is rolled out.
	// +optional
	RollingNodeType string `json:"rollingNodeType,omitempty"`

	// NodeTypes reports each node type's rollout, one entry per node type.
	// +listType=map
	// +listMapKey=name
	// +optional
	NodeTypes []NodeTypeStatus `json:"nodeTypes,omitempty"`

	// Inventory lists the children the runtime created and still owns, as
	// compact IDs. It lets stale children be pruned after an operator restart.
	// +listType=set
	// +optional
	Inventory []string `json:"inventory,omitempty"`
}

// NodeTypeStatus reports one node type's rollout.
// +kubebuilder:object:generate=true
type NodeTypeStatus struct {
	// Name of the node type, e.g. "historical".
	Name string `json:"name"`

	// Conditions: Available, Progressing and RolloutBlocked.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Replicas is the number of pods desired across the node type's groups.
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// ReadyReplicas is the number of ready pods across the node type's groups.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// ConfigHash is the hash of consumed configuration that the node type's
	// pods run with, per group as "group=hash" when it has several groups.
	// +optional
	ConfigHash string `json:"configHash,omitempty"`
}
