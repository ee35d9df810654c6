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

package controller

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/opbuilder/opbuilder/runtime/keys"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// The objects below carry no owner reference, standard labels or config
// hash: the opbuilder runtime adds those when it applies them.

const (
	// druidPortName names the port every node type serves on.
	druidPortName = "http"
	// druidConfigVolumeName names the volume holding a group's ConfigMap.
	druidConfigVolumeName = "config"
)

// druidObjectName returns the name of the objects of one group of a node
// type: "<druid>-<node type>-<group>".
func druidObjectName(druid *datav1alpha1.Druid, nodeType, group string) string {
	return fmt.Sprintf("%s-%s-%s", druid.Name, nodeType, group)
}

// druidSelector returns the labels that select the pods of one group of a node
// type.
func druidSelector(druid *datav1alpha1.Druid, nodeType, group string) map[string]string {
	return keys.Merge(
		keys.SelectorLabels(druidApp, druid.Name, nodeType),
		map[string]string{keys.LabelGroup: group},
	)
}

// druidImage returns the image of a group: its own when it sets one,
// otherwise spec.image.
func druidImage(druid *datav1alpha1.Druid, groupImage string) string {
	if groupImage != "" {
		return groupImage
	}
	return druid.Spec.Image
}

// druidPodTemplate returns a pod template that runs container with the
// settings every node type shares: image pull policy, environment, service
// account, node selector, tolerations, and extra pod labels and annotations.
// The selector labels are applied last, so extra labels cannot break them.
func druidPodTemplate(druid *datav1alpha1.Druid, selector map[string]string,
	container corev1.Container, volumes ...corev1.Volume) corev1.PodTemplateSpec {
	container.ImagePullPolicy = druid.Spec.ImagePullPolicy
	container.Env = append(slices.Clone(druid.Spec.Env), container.Env...)
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      keys.Merge(druid.Spec.PodMetadata.Labels, selector),
			Annotations: druid.Spec.PodMetadata.Annotations,
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: druid.Spec.ServiceAccountName,
			NodeSelector:       druid.Spec.NodeSelector,
			Tolerations:        druid.Spec.Tolerations,
			Containers:         []corev1.Container{container},
			Volumes:            volumes,
		},
	}
}

// druidConfigVolume returns the volume holding the ConfigMap configMapName.
// Mounting a ConfigMap is what ties pods to it: the runtime hashes every
// ConfigMap a pod template mounts into the template's config-hash
// annotation, so changing the ConfigMap rolls exactly the pods that use it.
func druidConfigVolume(configMapName string) corev1.Volume {
	return corev1.Volume{
		Name: druidConfigVolumeName,
		VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: configMapName},
			},
		},
	}
}

// druidReadinessProbe returns probe when it is set, otherwise a check that
// port accepts TCP connections.
func druidReadinessProbe(probe *corev1.Probe, port int32) *corev1.Probe {
	if probe != nil {
		return probe
	}
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(port)},
		},
		PeriodSeconds: 10,
	}
}

// druidService returns the Service through which clients reach the pods that
// selector selects on port.
func druidService(druid *datav1alpha1.Druid, name string, selector map[string]string,
	port int32, spec datav1alpha1.ServiceSpec) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace, Annotations: spec.Annotations},
		Spec: corev1.ServiceSpec{
			Type:     spec.Type,
			Selector: selector,
			Ports:    druidServicePorts(port),
		},
	}
}

// druidServicePorts returns the ports of a Service in front of pods that
// serve on port.
func druidServicePorts(port int32) []corev1.ServicePort {
	return []corev1.ServicePort{{Name: druidPortName, Port: port, TargetPort: intstr.FromInt32(port)}}
}

// druidPodDisruptionBudget returns the PodDisruptionBudget of the pods that
// selector selects. Without a setting in spec it lets one pod at a time be
// disrupted.
func druidPodDisruptionBudget(druid *datav1alpha1.Druid, name string, selector map[string]string,
	spec datav1alpha1.DisruptionSpec) *policyv1.PodDisruptionBudget {
	budget := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace},
		Spec: policyv1.PodDisruptionBudgetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: selector},
			MaxUnavailable: spec.MaxUnavailable,
			MinAvailable:   spec.MinAvailable,
		},
	}
	if spec.MaxUnavailable == nil && spec.MinAvailable == nil {
		one := intstr.FromInt32(1)
		budget.Spec.MaxUnavailable = &one
	}
	return budget
}
