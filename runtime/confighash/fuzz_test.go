package confighash

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// envFromAll consumes every key of the ConfigMaps named.
func envFromAll(names ...string) *corev1.PodSpec {
	c := corev1.Container{Name: "c"}
	for _, n := range names {
		c.EnvFrom = append(c.EnvFrom, corev1.EnvFromSource{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: n}}})
	}
	return &corev1.PodSpec{Containers: []corev1.Container{c}}
}

func fuzzHash(t *testing.T, s *corev1.PodSpec, objs ...client.Object) string {
	h, err := Compute(context.Background(), FromObjects(objs...), ns, s)
	if err != nil {
		t.Fatal(err)
	}
	return h.Value
}

// FuzzHashOrderIndependence: neither the order of the consumers in the pod
// spec nor the order entries are added to the maps changes the hash.
func FuzzHashOrderIndependence(f *testing.F) {
	f.Add("k1", "v1", "k2", "v2", []byte{1, 2})
	f.Add("", "", "a", "", []byte{})
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string, bin []byte) {
		if k1 == k2 {
			return
		}
		a1 := cm("a", map[string]string{}, nil)
		a1.Data[k1], a1.Data[k2] = v1, v2
		a2 := cm("a", map[string]string{}, nil)
		a2.Data[k2], a2.Data[k1] = v2, v1
		b := cm("b", nil, map[string][]byte{k1: bin})

		h1 := fuzzHash(t, envFromAll("a", "b"), a1, b)
		h2 := fuzzHash(t, envFromAll("b", "a"), b, a2)
		if h1 != h2 {
			t.Errorf("order changed the hash: %s != %s", h1, h2)
		}
		// Key-level references in a different order, too.
		keys := func(order []string) *corev1.PodSpec {
			s := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}
			for _, k := range order {
				s.Containers[0].Env = append(s.Containers[0].Env, corev1.EnvVar{Name: "E", ValueFrom: &corev1.EnvVarSource{
					ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "a"}, Key: k},
				}})
			}
			return s
		}
		order := []string{k1, k2}
		rev := slices.Clone(order)
		slices.Reverse(rev)
		if fuzzHash(t, keys(order), a1) != fuzzHash(t, keys(rev), a2) {
			t.Error("key reference order changed the hash")
		}
	})
}

// FuzzHashDataBinaryDataSeparation: the same key and value in data and in
// binaryData hash differently, and so do inputs that only differ in where
// one field ends and the next begins.
func FuzzHashDataBinaryDataSeparation(f *testing.F) {
	f.Add("key", "value", "ke", "yvalue")
	f.Add("", "", "", "x")
	f.Fuzz(func(t *testing.T, k, v, k2, v2 string) {
		asData := cm("a", map[string]string{k: v}, nil)
		asBinary := cm("a", nil, map[string][]byte{k: []byte(v)})
		if fuzzHash(t, envFromAll("a"), asData) == fuzzHash(t, envFromAll("a"), asBinary) {
			t.Errorf("data and binaryData {%q: %q} collide", k, v)
		}
		// An empty object, an object with one empty entry and an absent
		// object are three different things.
		empty := cm("a", nil, nil)
		oneEmpty := cm("a", map[string]string{k: ""}, nil)
		hEmpty, hOne, hAbsent := fuzzHash(t, envFromAll("a"), empty), fuzzHash(t, envFromAll("a"), oneEmpty), fuzzHash(t, envFromAll("a"))
		if hEmpty == hOne || hEmpty == hAbsent || hOne == hAbsent {
			t.Error("empty, one empty entry and absent collide")
		}
		// Moving the boundary between key and value.
		if k+v == k2+v2 && k != k2 {
			if fuzzHash(t, envFromAll("a"), cm("a", map[string]string{k: v}, nil)) ==
				fuzzHash(t, envFromAll("a"), cm("a", map[string]string{k2: v2}, nil)) {
				t.Errorf("{%q:%q} and {%q:%q} collide", k, v, k2, v2)
			}
		}
		// Any different content differs.
		if k != k2 || v != v2 {
			if fuzzHash(t, envFromAll("a"), cm("a", map[string]string{k: v}, nil)) ==
				fuzzHash(t, envFromAll("a"), cm("a", map[string]string{k2: v2}, nil)) {
				t.Errorf("{%q:%q} and {%q:%q} collide", k, v, k2, v2)
			}
		}
	})
}
