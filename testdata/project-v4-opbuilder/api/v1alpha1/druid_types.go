/*
Copyright 2026 The opbuilder Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opbuilder/opbuilder/runtime/status"
)

// DruidSpec is the desired state of a Druid cluster: the settings all of
// its node types share, the order in which a change rolls out across them,
// and for every node type the list of its groups. Add node types with
// "create nodetype"; each adds a field below.
type DruidSpec struct {
	// image is the container image every node type runs unless a group sets
	// its own.
	// +required
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`

	// imagePullPolicy applies to every container.
	// +kubebuilder:validation:Enum=Always;IfNotPresent;Never
	// +kubebuilder:default=IfNotPresent
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// serviceAccountName is the service account every pod runs as. Empty means
	// the namespace's default service account.
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// podMetadata holds labels and annotations added to every pod.
	// +optional
	PodMetadata PodMetadata `json:"podMetadata,omitzero"`

	// env is added to every container.
	// +listType=map
	// +listMapKey=name
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// nodeSelector restricts every pod to nodes that carry these labels.
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`

	// tolerations let every pod run on nodes with matching taints.
	// +listType=atomic
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`

	// config holds configuration files every node type shares, file name to
	// content, such as a common.runtime.properties. They are mounted into
	// every pod, and changing one rolls every node type, one after the other
	// in the deployment order.
	// +optional
	Config map[string]string `json:"config,omitempty"`

	// deploymentOrder lists node types in the order a change rolls out: the
	// pods of a node type are only updated once every node type before it is
	// fully rolled out. Node types it leaves out follow in the default order
	// (see DeploymentOrder).
	// +listType=set
	// +optional
	DeploymentOrder []DruidNodeType `json:"deploymentOrder,omitempty"`

	// historicals lists the groups of historical nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// +opbuilder:nodetype=historical
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Historicals []HistoricalSpec `json:"historicals,omitempty"`

	// middlemanagers lists the groups of middlemanager nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// +opbuilder:nodetype=middlemanager
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Middlemanagers []MiddlemanagerSpec `json:"middlemanagers,omitempty"`

	// brokers lists the groups of broker nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// +opbuilder:nodetype=broker
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Brokers []BrokerSpec `json:"brokers,omitempty"`

	// coordinators lists the groups of coordinator nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// +opbuilder:nodetype=coordinator
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Coordinators []CoordinatorSpec `json:"coordinators,omitempty"`

	// routers lists the groups of router nodes. Each group has its own
	// workload, ConfigMap, Services and PodDisruptionBudget.
	// +opbuilder:nodetype=router
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=32
	// +optional
	Routers []RouterSpec `json:"routers,omitempty"`

	// +opbuilder:scaffold:nodetype-fields
}

// DruidStatus is the observed state of a Druid. The opbuilder runtime
// keeps all of it: the Ready condition, one entry per node type, and the
// inventory of the objects it created.
type DruidStatus struct {
	status.ClusterStatus `json:",inline"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Node Types",type=string,JSONPath=`.status.readyNodeTypes`,description="node types ready of those the Druid runs"
// +kubebuilder:printcolumn:name="Rolling",type=string,JSONPath=`.status.rollingNodeType`,description="the node type rolling out now, or blocked"
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// The names of a group's objects must fit the API server's limits; each
// node type checks it for its groups here.
// +kubebuilder:validation:XValidation:rule="!has(self.spec.historicals) || self.spec.historicals.all(g, size(self.metadata.name) + size(g.name) <= 40)",message="metadata.name and a spec.historicals[].name together may have at most 40 characters: the group's objects are named <name>-historical-<group>, and a StatefulSet's name at most 52; shorten the name or the group's name"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.middlemanagers) || self.spec.middlemanagers.all(g, size(self.metadata.name) + size(g.name) <= 37)",message="metadata.name and a spec.middlemanagers[].name together may have at most 37 characters: the group's objects are named <name>-middlemanager-<group>, and a StatefulSet's name at most 52; shorten the name or the group's name"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.brokers) || self.spec.brokers.all(g, size(self.metadata.name) + size(g.name) <= 55)",message="metadata.name and a spec.brokers[].name together may have at most 55 characters: the group's objects are named <name>-broker-<group>, and a Service's name at most 63; shorten the name or the group's name"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.coordinators) || self.spec.coordinators.all(g, size(self.metadata.name) + size(g.name) <= 50)",message="metadata.name and a spec.coordinators[].name together may have at most 50 characters: the group's objects are named <name>-coordinator-<group>, and a Service's name at most 63; shorten the name or the group's name"
// +kubebuilder:validation:XValidation:rule="!has(self.spec.routers) || self.spec.routers.all(g, size(self.metadata.name) + size(g.name) <= 55)",message="metadata.name and a spec.routers[].name together may have at most 55 characters: the group's objects are named <name>-router-<group>, and a Service's name at most 63; shorten the name or the group's name"
// +opbuilder:scaffold:kind-validations

// Druid is the Schema for the druids API.
type Druid struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is a standard object metadata
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// spec defines the desired state of Druid
	// +required
	Spec DruidSpec `json:"spec"`

	// status defines the observed state of Druid
	// +optional
	Status DruidStatus `json:"status,omitzero"`
}

// GetClusterStatus returns the part of the status the opbuilder runtime
// keeps.
func (d *Druid) GetClusterStatus() *status.ClusterStatus {
	return &d.Status.ClusterStatus
}

// DeploymentOrder returns the node types in the order a change rolls out:
// spec.deploymentOrder when it is set, otherwise the order in which the node
// types were added to Druid.
func (d *Druid) DeploymentOrder() []string {
	if len(d.Spec.DeploymentOrder) > 0 {
		order := make([]string, len(d.Spec.DeploymentOrder))
		for i, name := range d.Spec.DeploymentOrder {
			order[i] = string(name)
		}
		return order
	}
	return []string{
		"historical",
		"middlemanager",
		"broker",
		"coordinator",
		"router",
		// +opbuilder:scaffold:deployment-order
	}
}

// +kubebuilder:object:root=true

// DruidList contains a list of Druid
type DruidList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []Druid `json:"items"`
}

func init() {
	SchemeBuilder.Register(func(s *runtime.Scheme) error {
		s.AddKnownTypes(SchemeGroupVersion, &Druid{}, &DruidList{})
		return nil
	})
}
