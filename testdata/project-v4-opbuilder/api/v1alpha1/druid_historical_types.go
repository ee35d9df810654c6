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

// HistoricalSpec is one group of Druid's historical nodes. A Druid lists
// its historical groups in spec.historicals, for example to run tiers with different
// hardware; each group runs in a StatefulSet of its own, with its own ConfigMap,
// Services and PodDisruptionBudget. The settings every node type's groups
// have are in GroupSpec; the fields below are the historical nodes' own.
type HistoricalSpec struct {
	GroupSpec `json:",inline"`

	// replicas is the number of pods in the group, unless autoscaling is
	// set.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// port the historical nodes serve on.
	// +kubebuilder:default=8083
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// storage is the data volume that each pod of the group gets.
	// +kubebuilder:default={size: "10Gi"}
	// +optional
	Storage StorageSpec `json:"storage,omitzero"`
}
