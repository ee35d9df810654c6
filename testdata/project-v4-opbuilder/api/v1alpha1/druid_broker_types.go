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
)

// BrokerSpec is one group of Druid's broker nodes. A Druid lists
// its broker groups in spec.brokers, for example to run tiers with different
// hardware; each group runs in a Deployment of its own, with its own ConfigMap,
// Services and PodDisruptionBudget.
type BrokerSpec struct {
	// name of the group, for example "hot". It is part of the names of the
	// group's objects.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// replicas is the number of pods in the group.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// image overrides spec.image for this group.
	// +optional
	Image string `json:"image,omitempty"`

	// resources are the compute resources of the broker container.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitzero"`

	// config holds the group's configuration files, file name to content. They
	// are mounted into every pod of the group, and changing one rolls the
	// group's pods.
	// +optional
	Config map[string]string `json:"config,omitempty"`

	// port the broker nodes serve on.
	// +kubebuilder:default=8082
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`

	// service configures the Service through which clients reach the group.
	// +optional
	Service ServiceSpec `json:"service,omitzero"`

	// podDisruptionBudget limits voluntary disruptions of the group.
	// +optional
	PodDisruptionBudget DisruptionSpec `json:"podDisruptionBudget,omitzero"`

	// readinessProbe replaces the default readiness probe, a TCP check of
	// port.
	// +optional
	ReadinessProbe *corev1.Probe `json:"readinessProbe,omitempty"`

	// livenessProbe is the liveness probe of the broker container. By default there
	// is none.
	// +optional
	LivenessProbe *corev1.Probe `json:"livenessProbe,omitempty"`
}
