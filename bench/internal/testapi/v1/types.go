package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// GroupVersion is the API group and version of the test resource.
var GroupVersion = schema.GroupVersion{Group: "test.opbuilder.io", Version: "v1"}

// AddToScheme registers Cluster and ClusterList.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Cluster{}, &ClusterList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// ClusterSpec is the desired state of a test cluster.
type ClusterSpec struct {
	// Image is the image every node type runs unless it overrides it.
	Image string `json:"image,omitempty"`
	// Order lists node type names in rollout order.
	Order []string `json:"deploymentOrder,omitempty"`
	// NodeTypes are the node types of the cluster.
	NodeTypes []NodeTypeSpec `json:"nodeTypes,omitempty"`
}

// NodeTypeSpec is one node type of a test cluster.
type NodeTypeSpec struct {
	Name     string            `json:"name"`
	Replicas int32             `json:"replicas,omitempty"`
	Image    string            `json:"image,omitempty"`
	Config   map[string]string `json:"config,omitempty"`
	// Groups names the node type's groups; empty means one group "default".
	Groups []string `json:"groups,omitempty"`
	// PodLabels are added to the pod template, e.g. to steer kwok stages.
	PodLabels map[string]string `json:"podLabels,omitempty"`
}

// ClusterStatus is the observed state of a test cluster.
type ClusterStatus struct {
	status.ClusterStatus `json:",inline"`
}

// Cluster is the test owner resource.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ClusterSpec   `json:"spec,omitempty"`
	Status ClusterStatus `json:"status,omitempty"`
}

// GetClusterStatus implements status.Object.
func (c *Cluster) GetClusterStatus() *status.ClusterStatus { return &c.Status.ClusterStatus }

// DeploymentOrder returns the node type names in rollout order.
func (c *Cluster) DeploymentOrder() []string { return c.Spec.Order }

// ClusterList is a list of Cluster.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cluster `json:"items"`
}
