package confighash

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file holds the keys an application reloads by itself
// (keys.AnnotationReload): they are not hashed, so changing one rolls no
// pod. That only helps when the change reaches the running pods, which the
// kubelet does for a ConfigMap or Secret volume (after its sync period and
// cache delay, a minute or so by default), but never for environment
// variables or files mounted with subPath. Consuming a reloadable key in one
// of those ways is therefore an error: the change would never be seen.

// reloadable returns what obj's AnnotationReload names: every key, or the
// set of keys.
func reloadable(annotations map[string]string) (all bool, names map[string]bool) {
	v, ok := annotations[keys.AnnotationReload]
	if !ok {
		return false, nil
	}
	names = map[string]bool{}
	for _, k := range strings.Split(v, ",") {
		switch k = strings.TrimSpace(k); k {
		case "":
		case "*":
			all = true
		default:
			names[k] = true
		}
	}
	return all, names
}

// withoutReloadable drops the keys annotations name as reloadable from o.
func (o object) withoutReloadable(annotations map[string]string) object {
	all, names := reloadable(annotations)
	if !all && len(names) == 0 {
		return o
	}
	keep := func(m map[string][]byte) map[string][]byte {
		out := make(map[string][]byte, len(m))
		for k, v := range m {
			if !all && !names[k] {
				out[k] = v
			}
		}
		return out
	}
	return object{secretType: o.secretType, data: keep(o.data), binaryData: keep(o.binaryData)}
}

// checkReloadable returns an error when spec consumes a key of r that
// annotations name as reloadable in a way that never refreshes: through an
// environment variable, or a volume mount with subPath.
func checkReloadable(spec *corev1.PodSpec, r Ref, annotations map[string]string) error {
	all, names := reloadable(annotations)
	if !all && len(names) == 0 {
		return nil
	}
	for _, c := range staticConsumers(spec, r) {
		// envFrom reads every key, so any reloadable one counts.
		if c.key == "" || all || names[c.key] {
			what := "every key"
			if c.key != "" {
				what = fmt.Sprintf("key %q", c.key)
			}
			return fmt.Errorf("container %q reads %s of %s %s %s, which the kubelet never refreshes in a running pod, "+
				"but the %s annotation says the application reloads it: read it from a volume mounted without subPath, "+
				"or take it out of the annotation", c.container, what, r.Kind, r.Name, c.how, keys.AnnotationReload)
		}
	}
	return nil
}

// staticConsumer is one way a container reads a ConfigMap or Secret that
// never refreshes. key is empty when it reads every key (envFrom).
type staticConsumer struct {
	container, key, how string
}

// staticConsumers returns how the containers of spec read r through
// environment variables and subPath mounts.
func staticConsumers(spec *corev1.PodSpec, r Ref) []staticConsumer {
	var out []staticConsumer
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, ef := range c.EnvFrom {
			if refersTo(ef.ConfigMapRef, ef.SecretRef, r) {
				out = append(out, staticConsumer{container: c.Name, how: "through envFrom"})
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if cm := e.ValueFrom.ConfigMapKeyRef; cm != nil && r.Kind == KindConfigMap && cm.Name == r.Name {
				out = append(out, staticConsumer{container: c.Name, key: cm.Key, how: "through env " + e.Name})
			}
			if s := e.ValueFrom.SecretKeyRef; s != nil && r.Kind == KindSecret && s.Name == r.Name {
				out = append(out, staticConsumer{container: c.Name, key: s.Key, how: "through env " + e.Name})
			}
		}
		for _, m := range c.VolumeMounts {
			if m.SubPath == "" {
				continue
			}
			if key, ok := subPathKey(spec.Volumes, m, r); ok {
				out = append(out, staticConsumer{container: c.Name, key: key, how: "mounted with subPath " + m.SubPath})
			}
		}
	}
	return out
}

// refersTo reports whether an envFrom source refers to r.
func refersTo(cm *corev1.ConfigMapEnvSource, s *corev1.SecretEnvSource, r Ref) bool {
	return cm != nil && r.Kind == KindConfigMap && cm.Name == r.Name ||
		s != nil && r.Kind == KindSecret && s.Name == r.Name
}

// subPathKey returns the key of r that mount m reads with its subPath, when
// m mounts a volume of r.
func subPathKey(volumes []corev1.Volume, m corev1.VolumeMount, r Ref) (string, bool) {
	i := slices.IndexFunc(volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
	if i < 0 {
		return "", false
	}
	var items []corev1.KeyToPath
	switch v := volumes[i]; {
	case v.ConfigMap != nil && r.Kind == KindConfigMap && v.ConfigMap.Name == r.Name:
		items = v.ConfigMap.Items
	case v.Secret != nil && r.Kind == KindSecret && v.Secret.SecretName == r.Name:
		items = v.Secret.Items
	default:
		return "", false
	}
	// The first path element is the file the key is projected to.
	file, _, _ := strings.Cut(m.SubPath, "/")
	for _, it := range items {
		if it.Path == file || strings.HasPrefix(it.Path, file+"/") {
			return it.Key, true
		}
	}
	if len(items) > 0 {
		return "", false
	}
	return file, true
}
