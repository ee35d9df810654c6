package podtemplate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var selector = map[string]string{"app.kubernetes.io/instance": "demo", "opbuilder.io/group": "hot"}

// built is what an operator's builder makes: one container with an env
// var, a config volume, a toleration and the selector labels.
func built() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"app.kubernetes.io/instance": "demo", "opbuilder.io/group": "hot", "team": "data"},
			Annotations: map[string]string{"opbuilder.io/config-hash": "abc"},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: "druid",
			Containers: []corev1.Container{{
				Name:  "broker",
				Image: "druid:30",
				Env:   []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xmx1g"}},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8082}},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "config", MountPath: "/etc/druid", ReadOnly: true},
				},
			}},
			Volumes:     []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "demo-broker-hot"}}}}},
			Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "druid", Effect: corev1.TaintEffectNoSchedule}},
		},
	}
}

func TestMerge(t *testing.T) {
	sidecar := corev1.Container{Name: "exporter", Image: "exporter:1", Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9090}}}
	spread := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule}
	secretVolume := corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "demo-tls"}}}

	tests := []struct {
		name     string
		override *corev1.PodTemplateSpec
		want     func(*corev1.PodTemplateSpec)
	}{{
		name:     "no override: the built template as it is",
		override: nil,
		want:     func(*corev1.PodTemplateSpec) {},
	}, {
		name:     "an empty override changes nothing",
		override: &corev1.PodTemplateSpec{},
		want:     func(*corev1.PodTemplateSpec) {},
	}, {
		name: "a sidecar is added after the built container, which keeps its fields",
		override: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{sidecar},
		}},
		want: func(p *corev1.PodTemplateSpec) { p.Spec.Containers = append(p.Spec.Containers, sidecar) },
	}, {
		name: "the built container is merged by name: env by name, a new mount added, resources set",
		override: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:         "broker",
				Env:          []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xmx4g"}, {Name: "TZ", Value: "UTC"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "tls", MountPath: "/etc/tls"}},
			}},
			Volumes: []corev1.Volume{secretVolume},
		}},
		want: func(p *corev1.PodTemplateSpec) {
			c := &p.Spec.Containers[0]
			c.Env = []corev1.EnvVar{{Name: "JAVA_OPTS", Value: "-Xmx4g"}, {Name: "TZ", Value: "UTC"}}
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "tls", MountPath: "/etc/tls"})
			p.Spec.Volumes = append(p.Spec.Volumes, secretVolume)
		},
	}, {
		name: "init containers, topology spread, security context and scalars are set",
		override: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			InitContainers:            []corev1.Container{{Name: "init", Image: "busybox"}},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{spread},
			SecurityContext:           &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			PriorityClassName:         "high",
			ServiceAccountName:        "other",
			ImagePullSecrets:          []corev1.LocalObjectReference{{Name: "registry"}},
		}},
		want: func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{spread}
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}
			p.Spec.PriorityClassName = "high"
			p.Spec.ServiceAccountName = "other"
			p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "registry"}}
		},
	}, {
		name: "tolerations have no merge key: the override's replace the built ones",
		override: &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Tolerations: []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}},
		}},
		want: func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}}
		},
	}, {
		name: "labels and annotations are merged; the selector labels keep their values",
		override: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"opbuilder.io/group": "stolen", "team": "search", "tier": "gold"},
			Annotations: map[string]string{"prometheus.io/scrape": "true"},
		}},
		want: func(p *corev1.PodTemplateSpec) {
			p.Labels["team"] = "search"
			p.Labels["tier"] = "gold"
			p.Annotations["prometheus.io/scrape"] = "true"
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := built()
			var before *corev1.PodTemplateSpec
			if tt.override != nil {
				before = tt.override.DeepCopy()
			}
			got, err := Merge(in, tt.override, selector)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			want := built()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("merged template (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(built(), in); diff != "" {
				t.Errorf("Merge modified the built template (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(before, tt.override); diff != "" {
				t.Errorf("Merge modified the override (-before +after):\n%s", diff)
			}
		})
	}
}

// A selector label the built template lacks is still set: the workload's
// selector must match its pods.
func TestMergeSetsMissingSelectorLabels(t *testing.T) {
	got, err := Merge(corev1.PodTemplateSpec{}, &corev1.PodTemplateSpec{}, selector)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(selector, got.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}
