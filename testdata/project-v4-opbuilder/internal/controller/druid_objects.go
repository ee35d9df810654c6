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
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
	"github.com/opbuilder/opbuilder/runtime/podtemplate"

	datav1alpha1 "example.com/druid-operator/api/v1alpha1"
)

// This file builds what every group of every node type has. A node type's
// file (for example druid_<node type>.go) adds what is its own: its
// workload, its mounts, its extra objects. Change a function here to change
// every node type; to change one node type only, change its file instead.
//
// The objects carry no owner reference, standard labels or config hash: the
// opbuilder runtime adds those when it applies them.

const (
	// druidPortName names the port every node type serves on.
	druidPortName = "http"
	// druidConfigVolumeName names the volume holding a group's ConfigMap.
	druidConfigVolumeName = "config"
	// druidSharedConfigVolumeName names the volume holding the files of
	// spec.config, which every pod finds in druidSharedConfigDir.
	druidSharedConfigVolumeName = "shared-config"
	druidSharedConfigDir        = "/etc/druid/shared"
	// druidDefaultCPUTarget is the average CPU use, in percent of the
	// request, that an autoscaler aims at when a group names no target.
	druidDefaultCPUTarget = 80
)

// druidGroup is one group being built: its name, the labels that select its
// pods, and its main container, which a node type's builder completes
// before asking for the pod template.
type druidGroup struct {
	druid *datav1alpha1.Druid
	spec  datav1alpha1.GroupSpec
	// name is the name of the group's objects: "<druid>-<node type>-<group>".
	name     string
	selector map[string]string
	port     int32
	// container is the group's main container.
	container corev1.Container
}

// newDruidGroup starts building a group of nodeType whose pods serve on
// port and find the group's config files in configDir, and the shared ones
// in druidSharedConfigDir.
func newDruidGroup(druid *datav1alpha1.Druid, nodeType string, spec datav1alpha1.GroupSpec, port int32, configDir string) *druidGroup {
	image := spec.Image
	if image == "" {
		image = druid.Spec.Image
	}
	return &druidGroup{
		druid: druid,
		spec:  spec,
		name:  fmt.Sprintf("%s-%s-%s", druid.Name, nodeType, spec.Name),
		selector: keys.Merge(
			keys.SelectorLabels(druidApp, druid.Name, nodeType),
			map[string]string{keys.LabelGroup: spec.Name},
		),
		port: port,
		container: corev1.Container{
			Name:            nodeType,
			Image:           image,
			ImagePullPolicy: druid.Spec.ImagePullPolicy,
			Env:             slices.Clone(druid.Spec.Env),
			Ports:           []corev1.ContainerPort{{Name: druidPortName, ContainerPort: port}},
			Resources:       spec.Resources,
			ReadinessProbe:  druidReadinessProbe(spec.ReadinessProbe, port),
			LivenessProbe:   spec.LivenessProbe,
			StartupProbe:    spec.StartupProbe,
			VolumeMounts: []corev1.VolumeMount{
				{Name: druidConfigVolumeName, MountPath: configDir, ReadOnly: true},
				{Name: druidSharedConfigVolumeName, MountPath: druidSharedConfigDir, ReadOnly: true},
			},
		},
	}
}

// meta returns the metadata of the group's objects.
func (g *druidGroup) meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: g.name, Namespace: g.druid.Namespace}
}

// labelSelector returns the selector of the group's workload.
func (g *druidGroup) labelSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: g.selector}
}

// replicas returns the replicas of the group's workload: nil when the group
// autoscales, so that the runtime never sets them and the
// HorizontalPodAutoscaler owns them.
func (g *druidGroup) replicas(replicas *int32) *int32 {
	if g.spec.Autoscaling != nil {
		return nil
	}
	return replicas
}

// podTemplate returns the pod template of the group: the main container, the
// settings every node type shares, and the config volumes, with the group's
// spec.podTemplate merged over them. Mounting the ConfigMaps is what ties
// the pods to them: the runtime hashes what a pod template consumes, so a
// change of the group's config rolls the group, and one of spec.config rolls
// every group, each node type in turn.
func (g *druidGroup) podTemplate() (corev1.PodTemplateSpec, error) {
	druid := g.druid
	built := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      keys.Merge(druid.Spec.PodMetadata.Labels, g.selector),
			Annotations: druid.Spec.PodMetadata.Annotations,
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: druid.Spec.ServiceAccountName,
			NodeSelector:       druid.Spec.NodeSelector,
			Tolerations:        druid.Spec.Tolerations,
			Containers:         []corev1.Container{g.container},
			Volumes: []corev1.Volume{
				druidConfigMapVolume(druidConfigVolumeName, g.name),
				druidConfigMapVolume(druidSharedConfigVolumeName, druidSharedConfigName(druid)),
			},
		},
	}
	override := g.spec.PodTemplate
	if override == nil {
		return built, nil
	}
	merged, err := podtemplate.Merge(built, &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: override.Metadata.Labels, Annotations: override.Metadata.Annotations},
		Spec:       override.Spec,
	}, g.selector)
	if err != nil {
		return built, fmt.Errorf("podTemplate: %w", err)
	}
	return merged, nil
}

// group returns the group with its workload, the objects every group has
// (its ConfigMap, its Service and, when it autoscales, its
// HorizontalPodAutoscaler) and the node type's extra objects. The runtime
// adds the PodDisruptionBudget from spec.podDisruptionBudget.
func (g *druidGroup) group(workload client.Object, extra ...client.Object) (orchestrate.Group, error) {
	objects := []client.Object{
		&corev1.ConfigMap{ObjectMeta: g.meta(), Data: g.spec.Config},
		workload,
		g.service(),
	}
	hpa, err := g.autoscaler(workload)
	if err != nil {
		return orchestrate.Group{}, err
	}
	if hpa != nil {
		objects = append(objects, hpa)
	}
	return orchestrate.Group{
		Name:    g.spec.Name,
		Objects: append(objects, extra...),
		Disruption: &orchestrate.Disruption{
			MaxUnavailable: g.spec.PodDisruptionBudget.MaxUnavailable,
			MinAvailable:   g.spec.PodDisruptionBudget.MinAvailable,
		},
	}, nil
}

// service returns the Service through which clients reach the group.
func (g *druidGroup) service() *corev1.Service {
	meta := g.meta()
	meta.Annotations = g.spec.Service.Annotations
	return &corev1.Service{
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Type:     g.spec.Service.Type,
			Selector: g.selector,
			Ports:    g.servicePorts(),
		},
	}
}

// servicePorts returns the ports of a Service in front of the group's pods.
func (g *druidGroup) servicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{{Name: druidPortName, Port: g.port, TargetPort: intstr.FromInt32(g.port)}}
}

// autoscaler returns the HorizontalPodAutoscaler that scales workload when
// the group autoscales, otherwise nil.
func (g *druidGroup) autoscaler(workload client.Object) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	spec := g.spec.Autoscaling
	if spec == nil {
		return nil, nil
	}
	kind := "Deployment"
	if _, ok := workload.(*appsv1.StatefulSet); ok {
		kind = "StatefulSet"
	}
	metrics, err := druidMetrics(spec.Metrics)
	if err != nil {
		return nil, err
	}
	if spec.TargetCPUUtilizationPercentage != nil || len(metrics) == 0 {
		target := int32(druidDefaultCPUTarget)
		if spec.TargetCPUUtilizationPercentage != nil {
			target = *spec.TargetCPUUtilizationPercentage
		}
		metrics = append(metrics, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target},
			},
		})
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: g.meta(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: kind, Name: g.name},
			MinReplicas:    spec.MinReplicas,
			MaxReplicas:    spec.MaxReplicas,
			Metrics:        metrics,
		},
	}, nil
}

// druidMetrics decodes the metrics of spec.autoscaling, which the CRD keeps
// without a schema. An unknown field is an error, so a typo is reported
// rather than silently dropped.
func druidMetrics(raw []runtime.RawExtension) ([]autoscalingv2.MetricSpec, error) {
	metrics := make([]autoscalingv2.MetricSpec, 0, len(raw)+1)
	for i, r := range raw {
		var m autoscalingv2.MetricSpec
		decoder := json.NewDecoder(bytes.NewReader(r.Raw))
		decoder.DisallowUnknownFields()
		if err := decoder.Decode(&m); err != nil {
			return nil, fmt.Errorf("autoscaling.metrics[%d]: %w", i, err)
		}
		metrics = append(metrics, m)
	}
	return metrics, nil
}

// druidConfigMapVolume returns the volume, called name, that holds the
// ConfigMap configMapName.
func druidConfigMapVolume(name, configMapName string) corev1.Volume {
	return corev1.Volume{
		Name: name,
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

// Each node type's Hooks (in its registration) give the application a say
// in rollouts and removals. Empty, a rollout moves on when Kubernetes says
// the pods are Ready. A health gate that asks a pod's own health endpoint,
// by the pod's IP, could read:
//
//	func druidHealthyByHTTP(path string, port int) orchestrate.PodHook[*datav1alpha1.Druid] {
//		return func(ctx context.Context, _ *datav1alpha1.Druid, pod *corev1.Pod) (orchestrate.Verdict, error) {
//			url := "http://" + net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)) + path
//			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
//			if err != nil {
//				return orchestrate.Verdict{}, err
//			}
//			resp, err := http.DefaultClient.Do(req)
//			if err != nil {
//				// Not up yet: a no, asked again later, rather than an error.
//				return orchestrate.Verdict{Reason: "the health endpoint does not answer"}, nil
//			}
//			defer resp.Body.Close()
//			if resp.StatusCode != http.StatusOK {
//				return orchestrate.Verdict{Reason: "the health endpoint answers " + resp.Status}, nil
//			}
//			return orchestrate.Verdict{OK: true}, nil
//		}
//	}
//
// set as Hooks: orchestrate.Hooks[...]{Healthy: druidHealthyByHTTP("/status/health", 8080)}.
// BeforeRemove is written the same way, for example to ask the pod whether
// its data has been moved off. The runtime calls a hook with a deadline
// (Hooks.Timeout), and not again for a pod until its answer is older than
// Hooks.Recheck. It lists the pods to ask about, and marks the pod a
// Deployment's removal is to take first, so a project that sets a hook
// grants the operator list on pods, and patch for a Deployment's node type:
// add them to the RBAC markers of the controller.
