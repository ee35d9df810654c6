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
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/orchestrate"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

const (
	// druidBrokerName is the name of the node type: the app.kubernetes.io/component
	// label of its objects and its name in the deployment order and the status.
	druidBrokerName = "broker"
	// druidBrokerConfigDir is where the broker pods find the files of
	// spec.brokers[].config.
	druidBrokerConfigDir = "/etc/druid/broker"
)

// druidBrokerNodeType registers the broker nodes of a Druid with the
// orchestrator.
func druidBrokerNodeType() orchestrate.NodeType[*datav1alpha1.Druid] {
	return orchestrate.NodeType[*datav1alpha1.Druid]{
		Name:  druidBrokerName,
		Build: buildDruidBrokers,
	}
}

// buildDruidBrokers returns the objects of every group in spec.brokers. The
// groups of a node type roll out one at a time, in the order listed.
func buildDruidBrokers(_ context.Context, druid *datav1alpha1.Druid) ([]orchestrate.Group, error) {
	groups := make([]orchestrate.Group, 0, len(druid.Spec.Brokers))
	for _, group := range druid.Spec.Brokers {
		groups = append(groups, orchestrate.Group{
			Name:    group.Name,
			Objects: buildDruidBrokerGroup(druid, group),
		})
	}
	return groups, nil
}

// buildDruidBrokerGroup returns the objects of one broker group: a ConfigMap
// with the group's configuration, the Deployment that runs it,
// the Service clients use, and a PodDisruptionBudget.
func buildDruidBrokerGroup(druid *datav1alpha1.Druid, group datav1alpha1.BrokerSpec) []client.Object {
	name := druidObjectName(druid, druidBrokerName, group.Name)
	selector := druidSelector(druid, druidBrokerName, group.Name)

	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace},
		Data:       group.Config,
	}

	container := corev1.Container{
		Name:           druidBrokerName,
		Image:          druidImage(druid, group.Image),
		Ports:          []corev1.ContainerPort{{Name: druidPortName, ContainerPort: group.Port}},
		Resources:      group.Resources,
		ReadinessProbe: druidReadinessProbe(group.ReadinessProbe, group.Port),
		LivenessProbe:  group.LivenessProbe,
		VolumeMounts: []corev1.VolumeMount{
			{Name: druidConfigVolumeName, MountPath: druidBrokerConfigDir, ReadOnly: true},
		},
	}
	// Mounting the ConfigMap ties the pods to it: a change of the group's
	// config rolls this group's pods, and no others.
	template := druidPodTemplate(druid, selector, container, druidConfigVolume(config.Name))

	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: group.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: template,
		},
	}

	return []client.Object{
		config,
		deployment,
		druidService(druid, name, selector, group.Port, group.Service),
		druidPodDisruptionBudget(druid, name, selector, group.PodDisruptionBudget),
	}
}
