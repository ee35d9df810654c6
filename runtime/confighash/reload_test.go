package confighash

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// volumeSpec mounts ConfigMap "conf" as a volume, whole, at /etc/app.
func volumeSpec() *corev1.PodSpec {
	return &corev1.PodSpec{
		Containers: []corev1.Container{{Name: "main", VolumeMounts: []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/app"}}}},
		Volumes: []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "conf"},
		}}}},
	}
}

func reloadConf(reload string, data map[string]string) *corev1.ConfigMap {
	c := cm("conf", data, nil)
	if reload != "" {
		c.Annotations = map[string]string{keys.AnnotationReload: reload}
	}
	return c
}

// A key the application reloads is not hashed; any other key is.
func TestReloadableKeysAreNotHashed(t *testing.T) {
	base := map[string]string{"log.level": "info", "server.properties": "a=1"}
	with := func(reload, key, value string) string {
		data := map[string]string{}
		for k, v := range base {
			data[k] = v
		}
		data[key] = value
		return hashOf(t, volumeSpec(), reloadConf(reload, data)).Value
	}
	for _, tt := range []struct {
		name, reload, key string
		rolls             bool
	}{
		{"a reloadable key", "log.level", "log.level", false},
		{"another key of the same ConfigMap", "log.level", "server.properties", true},
		{"a key added to a ConfigMap all of whose keys reload", "*", "new", false},
		{"any key of a ConfigMap all of whose keys reload", "*", "server.properties", false},
		{"one of several listed keys", "a, log.level", "log.level", false},
		{"a key without the annotation", "", "log.level", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := with(tt.reload, tt.key, base[tt.key])
			after := with(tt.reload, tt.key, "changed")
			if rolled := before != after; rolled != tt.rolls {
				t.Errorf("hash changed: %v, want %v", rolled, tt.rolls)
			}
		})
	}
}

// Reading a reloadable key in a way the kubelet never refreshes is an
// error that names the container, the key and the fix.
func TestReloadableKeysMustBeRefreshable(t *testing.T) {
	conf := reloadConf("log.level", map[string]string{"log.level": "info", "server.properties": "a=1"})
	tests := []struct {
		name    string
		mutate  func(*corev1.PodSpec)
		wantErr string
	}{
		{"mounted as a volume", func(*corev1.PodSpec) {}, ""},
		{"a subPath mount of the reloadable key", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts[0].SubPath = "log.level"
		}, `container "main" reads key "log.level" of ConfigMap conf mounted with subPath log.level`},
		{"a subPath mount of another key", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts[0].SubPath = "server.properties"
		}, ""},
		{"a subPath mount of the key projected to another path", func(s *corev1.PodSpec) {
			s.Volumes[0].ConfigMap.Items = []corev1.KeyToPath{{Key: "log.level", Path: "logging/level"}}
			s.Containers[0].VolumeMounts[0].SubPath = "logging"
		}, `reads key "log.level"`},
		{"an env var of the reloadable key", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "LEVEL", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}, Key: "log.level",
			}}}}
		}, "through env LEVEL"},
		{"envFrom of the whole ConfigMap", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", EnvFrom: []corev1.EnvFromSource{{
				ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "conf"}},
			}}}}
		}, `container "init" reads every key of ConfigMap conf through envFrom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := volumeSpec()
			tt.mutate(s)
			_, err := Compute(context.Background(), FromObjects(conf), ns, s)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Compute: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Compute: %v, want an error containing %q", err, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), keys.AnnotationReload):
				t.Errorf("the error %q does not name the annotation to fix", err)
			}
		})
	}
}
