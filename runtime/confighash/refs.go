package confighash

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Kind is the kind of a consumed object.
type Kind string

const (
	// KindConfigMap is a core/v1 ConfigMap.
	KindConfigMap Kind = "ConfigMap"
	// KindSecret is a core/v1 Secret.
	KindSecret Kind = "Secret"
)

// Ref is one ConfigMap or Secret a pod template consumes, merged over all its
// consumers.
type Ref struct {
	// Kind is KindConfigMap or KindSecret.
	Kind Kind
	// Name is the object's name, in the pod's namespace.
	Name string
	// Keys are the keys the pods read, sorted. Nil means every key: at least
	// one consumer (an envFrom, or a volume without items) reads them all.
	Keys []string
	// Optional is true when every consumer marks the reference optional.
	Optional bool
}

// References returns the ConfigMaps and Secrets spec consumes, sorted by kind
// and name. A nil spec consumes nothing.
func References(spec *corev1.PodSpec) []Ref {
	if spec == nil {
		return nil
	}
	acc := map[refKey]*refAcc{}
	add := func(kind Kind, name string, keys []string, all bool, optional *bool) {
		if name == "" {
			return
		}
		k := refKey{kind, name}
		a, ok := acc[k]
		if !ok {
			a = &refAcc{keys: map[string]bool{}, optional: true}
			acc[k] = a
		}
		a.all = a.all || all
		for _, key := range keys {
			a.keys[key] = true
		}
		a.optional = a.optional && optional != nil && *optional
	}
	itemKeys := func(items []corev1.KeyToPath) ([]string, bool) {
		if len(items) == 0 {
			return nil, true
		}
		keys := make([]string, 0, len(items))
		for _, it := range items {
			keys = append(keys, it.Key)
		}
		return keys, false
	}

	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if cm := v.ConfigMap; cm != nil {
			keys, all := itemKeys(cm.Items)
			add(KindConfigMap, cm.Name, keys, all, cm.Optional)
		}
		if s := v.Secret; s != nil {
			keys, all := itemKeys(s.Items)
			add(KindSecret, s.SecretName, keys, all, s.Optional)
		}
		if p := v.Projected; p != nil {
			for j := range p.Sources {
				src := &p.Sources[j]
				if cm := src.ConfigMap; cm != nil {
					keys, all := itemKeys(cm.Items)
					add(KindConfigMap, cm.Name, keys, all, cm.Optional)
				}
				if s := src.Secret; s != nil {
					keys, all := itemKeys(s.Items)
					add(KindSecret, s.Name, keys, all, s.Optional)
				}
			}
		}
	}
	containerRefs := func(envFrom []corev1.EnvFromSource, env []corev1.EnvVar) {
		for _, ef := range envFrom {
			if r := ef.ConfigMapRef; r != nil {
				add(KindConfigMap, r.Name, nil, true, r.Optional)
			}
			if r := ef.SecretRef; r != nil {
				add(KindSecret, r.Name, nil, true, r.Optional)
			}
		}
		for _, e := range env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				add(KindConfigMap, r.Name, []string{r.Key}, false, r.Optional)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				add(KindSecret, r.Name, []string{r.Key}, false, r.Optional)
			}
		}
	}
	for i := range spec.InitContainers {
		containerRefs(spec.InitContainers[i].EnvFrom, spec.InitContainers[i].Env)
	}
	for i := range spec.Containers {
		containerRefs(spec.Containers[i].EnvFrom, spec.Containers[i].Env)
	}
	for i := range spec.EphemeralContainers {
		containerRefs(spec.EphemeralContainers[i].EnvFrom, spec.EphemeralContainers[i].Env)
	}

	out := make([]Ref, 0, len(acc))
	for k, a := range acc {
		r := Ref{Kind: k.kind, Name: k.name, Optional: a.optional}
		if !a.all {
			r.Keys = make([]string, 0, len(a.keys))
			for key := range a.keys {
				r.Keys = append(r.Keys, key)
			}
			slices.Sort(r.Keys)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Ref) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Names returns the names of the ConfigMaps and of the Secrets spec
// consumes, each sorted and without duplicates.
func Names(spec *corev1.PodSpec) (configMaps, secrets []string) {
	for _, r := range References(spec) {
		switch r.Kind {
		case KindConfigMap:
			configMaps = append(configMaps, r.Name)
		case KindSecret:
			secrets = append(secrets, r.Name)
		}
	}
	return configMaps, secrets
}

type refKey struct {
	kind Kind
	name string
}

type refAcc struct {
	all      bool
	keys     map[string]bool
	optional bool
}
