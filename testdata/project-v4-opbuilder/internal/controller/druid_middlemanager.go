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

// A StatefulSet recreated under its name can inherit its predecessor's
// status; the runtime reads the revision that status names to tell whether
// it still describes the pods.
// +kubebuilder:rbac:groups=apps,resources=controllerrevisions,verbs=get

const (
	// druidMiddlemanagerName is the name of the node type: the app.kubernetes.io/component
	// label of its objects and its name in the deployment order and the status.
	druidMiddlemanagerName = "middlemanager"
	// druidMiddlemanagerConfigDir is where the middlemanager pods find the files of
	// spec.middlemanagers[].config.
	druidMiddlemanagerConfigDir = "/etc/druid/middlemanager"
)

// druidMiddlemanagerNodeType registers the middlemanager nodes of a Druid with the
// orchestrator.
func druidMiddlemanagerNodeType() orchestrate.NodeType[*datav1alpha1.Druid] {
	return orchestrate.NodeType[*datav1alpha1.Druid]{
		Name:  druidMiddlemanagerName,
		Build: buildDruidMiddlemanagers,
	}
}

// buildDruidMiddlemanagers returns the objects of every group in spec.middlemanagers. The
// groups of a node type roll out one at a time, in the order listed.
func buildDruidMiddlemanagers(_ context.Context, druid *datav1alpha1.Druid) ([]orchestrate.Group, error) {
	groups := make([]orchestrate.Group, 0, len(druid.Spec.Middlemanagers))
	for _, group := range druid.Spec.Middlemanagers {
		groups = append(groups, orchestrate.Group{
			Name:    group.Name,
			Objects: buildDruidMiddlemanagerGroup(druid, group),
		})
	}
	return groups, nil
}

// buildDruidMiddlemanagerGroup returns the objects of one middlemanager group: a ConfigMap
// with the group's configuration, the StatefulSet that runs it,
// a headless Service that gives each of its pods a stable DNS name,
// the Service clients use, and a PodDisruptionBudget.
func buildDruidMiddlemanagerGroup(druid *datav1alpha1.Druid, group datav1alpha1.MiddlemanagerSpec) []client.Object {
	name := druidObjectName(druid, druidMiddlemanagerName, group.Name)
	selector := druidSelector(druid, druidMiddlemanagerName, group.Name)

	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace},
		Data:       group.Config,
	}

	container := corev1.Container{
		Name:           druidMiddlemanagerName,
		Image:          druidImage(druid, group.Image),
		Ports:          []corev1.ContainerPort{{Name: druidPortName, ContainerPort: group.Port}},
		Resources:      group.Resources,
		ReadinessProbe: druidReadinessProbe(group.ReadinessProbe, group.Port),
		LivenessProbe:  group.LivenessProbe,
		VolumeMounts: []corev1.VolumeMount{
			{Name: druidConfigVolumeName, MountPath: druidMiddlemanagerConfigDir, ReadOnly: true},
		},
	}
	// Mounting the ConfigMap ties the pods to it: a change of the group's
	// config rolls this group's pods, and no others.
	template := druidPodTemplate(druid, selector, container, druidConfigVolume(config.Name))

	headless := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-headless", Namespace: druid.Namespace},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			// Pods can find each other while they start.
			PublishNotReadyAddresses: true,
			Selector:                 selector,
			Ports:                    druidServicePorts(group.Port),
		},
	}

	statefulSet := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: druid.Namespace},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: headless.Name,
			Replicas:    group.Replicas,
			Selector:    &metav1.LabelSelector{MatchLabels: selector},
			Template:    template,
		},
	}

	return []client.Object{
		config,
		statefulSet,
		headless,
		druidService(druid, name, selector, group.Port, group.Service),
		druidPodDisruptionBudget(druid, name, selector, group.PodDisruptionBudget),
	}
}
