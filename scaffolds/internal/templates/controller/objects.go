package controller

import (
	"path/filepath"
	"strings"

	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
)

var _ machinery.Template = &Objects{}

// Objects writes internal/controller/<kind>_objects.go: the pieces every node
// type of the kind builds its objects from, so that the node types' builders
// stay short and alike. The first node type of the kind writes it; later ones
// leave it alone.
type Objects struct {
	machinery.TemplateMixin
	machinery.BoilerplateMixin
	machinery.ResourceMixin

	// RuntimeModule is the import path of the opbuilder runtime module.
	RuntimeModule string
}

// SetTemplateDefaults implements machinery.Template.
func (f *Objects) SetTemplateDefaults() error {
	if f.Path == "" {
		f.Path = ObjectsPath(strings.ToLower(f.Resource.Kind))
	}
	f.TemplateBody = objectsTemplate
	f.IfExistsAction = machinery.SkipFile
	return nil
}

// ObjectsPath returns the path of the objects file of the kind whose
// lowercased name is kind.
func ObjectsPath(kind string) string {
	return filepath.Join("internal", "controller", kind+"_objects.go")
}

// Var is the name of a variable that holds one resource of the kind.
func (f *Objects) Var() string { return varFor(f.Resource.Kind) }

// App is the application name, the lowercased kind.
func (f *Objects) App() string { return strings.ToLower(f.Resource.Kind) }

//nolint:lll
const objectsTemplate = `{{ .Boilerplate }}

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

	"{{ .RuntimeModule }}/keys"
	"{{ .RuntimeModule }}/orchestrate"
	"{{ .RuntimeModule }}/podtemplate"

	{{ .Resource.ImportAlias }} "{{ .Resource.Path }}"
)

// This file builds what every group of every node type has. A node type's
// file (for example {{ lower .Resource.Kind }}_<node type>.go) adds what is its own: its
// workload, its mounts, its extra objects. Change a function here to change
// every node type; to change one node type only, change its file instead.
//
// The objects carry no owner reference, standard labels or config hash: the
// opbuilder runtime adds those when it applies them.

const (
	// {{ .Var }}PortName names the port every node type serves on.
	{{ .Var }}PortName = "http"
	// {{ .Var }}ConfigVolumeName names the volume holding a group's ConfigMap.
	{{ .Var }}ConfigVolumeName = "config"
	// {{ .Var }}SharedConfigVolumeName names the volume holding the files of
	// spec.config, which every pod finds in {{ .Var }}SharedConfigDir.
	{{ .Var }}SharedConfigVolumeName = "shared-config"
	{{ .Var }}SharedConfigDir        = "/etc/{{ .App }}/shared"
	// {{ .Var }}DefaultCPUTarget is the average CPU use, in percent of the
	// request, that an autoscaler aims at when a group names no target.
	{{ .Var }}DefaultCPUTarget = 80
)

// {{ .Var }}Group is one group being built: its name, the labels that select its
// pods, and its main container, which a node type's builder completes
// before asking for the pod template.
type {{ .Var }}Group struct {
	{{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}
	spec  {{ .Resource.ImportAlias }}.GroupSpec
	// name is the name of the group's objects: "<{{ .Var }}>-<node type>-<group>".
	name     string
	selector map[string]string
	port     int32
	// container is the group's main container.
	container corev1.Container
}

// new{{ .Resource.Kind }}Group starts building a group of nodeType whose pods serve on
// port and find the group's config files in configDir, and the shared ones
// in {{ .Var }}SharedConfigDir.
func new{{ .Resource.Kind }}Group({{ .Var }} *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, nodeType string, spec {{ .Resource.ImportAlias }}.GroupSpec, port int32, configDir string) *{{ .Var }}Group {
	image := spec.Image
	if image == "" {
		image = {{ .Var }}.Spec.Image
	}
	return &{{ .Var }}Group{
		{{ .Var }}: {{ .Var }},
		spec:  spec,
		name:  fmt.Sprintf("%s-%s-%s", {{ .Var }}.Name, nodeType, spec.Name),
		selector: keys.Merge(
			keys.SelectorLabels({{ .Var }}App, {{ .Var }}.Name, nodeType),
			map[string]string{keys.LabelGroup: spec.Name},
		),
		port: port,
		container: corev1.Container{
			Name:            nodeType,
			Image:           image,
			ImagePullPolicy: {{ .Var }}.Spec.ImagePullPolicy,
			Env:             slices.Clone({{ .Var }}.Spec.Env),
			Ports:           []corev1.ContainerPort{{"{{"}}Name: {{ .Var }}PortName, ContainerPort: port{{"}}"}},
			Resources:       spec.Resources,
			ReadinessProbe:  {{ .Var }}ReadinessProbe(spec.ReadinessProbe, port),
			LivenessProbe:   spec.LivenessProbe,
			StartupProbe:    spec.StartupProbe,
			VolumeMounts: []corev1.VolumeMount{
				{Name: {{ .Var }}ConfigVolumeName, MountPath: configDir, ReadOnly: true},
				{Name: {{ .Var }}SharedConfigVolumeName, MountPath: {{ .Var }}SharedConfigDir, ReadOnly: true},
			},
		},
	}
}

// meta returns the metadata of the group's objects.
func (g *{{ .Var }}Group) meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: g.name, Namespace: g.{{ .Var }}.Namespace}
}

// labelSelector returns the selector of the group's workload.
func (g *{{ .Var }}Group) labelSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: g.selector}
}

// replicas returns the replicas of the group's workload: nil when the group
// autoscales, so that the runtime never sets them and the
// HorizontalPodAutoscaler owns them.
func (g *{{ .Var }}Group) replicas(replicas *int32) *int32 {
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
func (g *{{ .Var }}Group) podTemplate() (corev1.PodTemplateSpec, error) {
	{{ .Var }} := g.{{ .Var }}
	built := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      keys.Merge({{ .Var }}.Spec.PodMetadata.Labels, g.selector),
			Annotations: {{ .Var }}.Spec.PodMetadata.Annotations,
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: {{ .Var }}.Spec.ServiceAccountName,
			NodeSelector:       {{ .Var }}.Spec.NodeSelector,
			Tolerations:        {{ .Var }}.Spec.Tolerations,
			Containers:         []corev1.Container{g.container},
			Volumes: []corev1.Volume{
				{{ .Var }}ConfigMapVolume({{ .Var }}ConfigVolumeName, g.name),
				{{ .Var }}ConfigMapVolume({{ .Var }}SharedConfigVolumeName, {{ .Var }}SharedConfigName({{ .Var }})),
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
func (g *{{ .Var }}Group) group(workload client.Object, extra ...client.Object) (orchestrate.Group, error) {
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
func (g *{{ .Var }}Group) service() *corev1.Service {
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
func (g *{{ .Var }}Group) servicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{{"{{"}}Name: {{ .Var }}PortName, Port: g.port, TargetPort: intstr.FromInt32(g.port){{"}}"}}
}

// autoscaler returns the HorizontalPodAutoscaler that scales workload when
// the group autoscales, otherwise nil.
func (g *{{ .Var }}Group) autoscaler(workload client.Object) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	spec := g.spec.Autoscaling
	if spec == nil {
		return nil, nil
	}
	kind := "Deployment"
	if _, ok := workload.(*appsv1.StatefulSet); ok {
		kind = "StatefulSet"
	}
	metrics, err := {{ .Var }}Metrics(spec.Metrics)
	if err != nil {
		return nil, err
	}
	if spec.TargetCPUUtilizationPercentage != nil || len(metrics) == 0 {
		target := int32({{ .Var }}DefaultCPUTarget)
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

// {{ .Var }}Metrics decodes the metrics of spec.autoscaling, which the CRD keeps
// without a schema. An unknown field is an error, so a typo is reported
// rather than silently dropped.
func {{ .Var }}Metrics(raw []runtime.RawExtension) ([]autoscalingv2.MetricSpec, error) {
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

// {{ .Var }}ConfigMapVolume returns the volume, called name, that holds the
// ConfigMap configMapName.
func {{ .Var }}ConfigMapVolume(name, configMapName string) corev1.Volume {
	return corev1.Volume{
		Name: name,
		VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: configMapName},
			},
		},
	}
}

// {{ .Var }}ReadinessProbe returns probe when it is set, otherwise a check that
// port accepts TCP connections.
func {{ .Var }}ReadinessProbe(probe *corev1.Probe, port int32) *corev1.Probe {
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
//	func {{ .Var }}HealthyByHTTP(path string, port int) orchestrate.PodHook[*{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}] {
//		return func(ctx context.Context, _ *{{ .Resource.ImportAlias }}.{{ .Resource.Kind }}, pod *corev1.Pod) (orchestrate.Verdict, error) {
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
// set as Hooks: orchestrate.Hooks[...]{Healthy: {{ .Var }}HealthyByHTTP("/status/health", 8080)}.
// BeforeRemove is written the same way, for example to ask the pod whether
// its data has been moved off. The runtime calls a hook with a deadline
// (Hooks.Timeout), and not again for a pod until its answer is older than
// Hooks.Recheck. It lists the pods to ask about, and marks the pod a
// Deployment's removal is to take first, so a project that sets a hook
// grants the operator list on pods, and patch for a Deployment's node type:
// add them to the RBAC markers of the controller.
`
