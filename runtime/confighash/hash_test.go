package confighash

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const ns = "ns"

func cm(name string, data map[string]string, binary map[string][]byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: data, BinaryData: binary}
}

func sec(name string, typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: data}
}

// spec consumes: ConfigMap "app" key "a" (env) and keys "f1","f2" (volume
// items), ConfigMap "all" whole (envFrom), Secret "s" key "pw" (init
// container env), Secret "proj" whole (projected), optional ConfigMap "opt".
func spec() *corev1.PodSpec {
	return &corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Env: []corev1.EnvVar{{Name: "PW", ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "pw"},
		}}}}},
		Containers: []corev1.Container{{
			Name: "main",
			Env: []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}, Key: "a"},
			}}, {Name: "PLAIN", Value: "x"}},
			EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "all"}}}},
		}},
		Volumes: []corev1.Volume{
			{Name: "files", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "app"},
				Items:                []corev1.KeyToPath{{Key: "f2", Path: "2"}, {Key: "f1", Path: "1"}},
			}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "proj"}}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "opt"}, Optional: ptr.To(true)}},
			}}}},
		},
	}
}

func objects() []client.Object {
	return []client.Object{
		cm("app", map[string]string{"a": "1", "f1": "one", "f2": "two", "unused": "u"}, nil),
		cm("all", map[string]string{"x": "1"}, map[string][]byte{"bin": {0, 1}}),
		cm("unrelated", map[string]string{"x": "1"}, nil),
		sec("s", "", map[string][]byte{"pw": []byte("secret"), "other": []byte("o")}),
		sec("proj", corev1.SecretTypeTLS, map[string][]byte{"tls.crt": []byte("c")}),
	}
}

func hashOf(t *testing.T, s *corev1.PodSpec, objs ...client.Object) Hash {
	t.Helper()
	h, err := Compute(context.Background(), FromObjects(objs...), ns, s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestReferences(t *testing.T) {
	got := References(spec())
	want := []Ref{
		{Kind: KindConfigMap, Name: "all"},
		{Kind: KindConfigMap, Name: "app", Keys: []string{"a", "f1", "f2"}},
		{Kind: KindConfigMap, Name: "opt", Optional: true},
		{Kind: KindSecret, Name: "proj"},
		{Kind: KindSecret, Name: "s", Keys: []string{"pw"}},
	}
	if len(got) != len(want) {
		t.Fatalf("References = %+v", got)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].Name != want[i].Name || got[i].Optional != want[i].Optional ||
			!slices.Equal(got[i].Keys, want[i].Keys) || (got[i].Keys == nil) != (want[i].Keys == nil) {
			t.Errorf("ref %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	cms, secs := Names(spec())
	if !slices.Equal(cms, []string{"all", "app", "opt"}) || !slices.Equal(secs, []string{"proj", "s"}) {
		t.Errorf("Names = %v %v", cms, secs)
	}
	if References(nil) != nil {
		t.Error("nil spec must consume nothing")
	}
}

func TestWholeObjectConsumerWins(t *testing.T) {
	s := spec()
	s.Containers[0].EnvFrom = append(s.Containers[0].EnvFrom, corev1.EnvFromSource{
		ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}},
	})
	for _, r := range References(s) {
		if r.Name == "app" && r.Keys != nil {
			t.Errorf("app consumed whole by envFrom, got keys %v", r.Keys)
		}
	}
}

func TestWhatChangesTheHash(t *testing.T) {
	base := hashOf(t, spec(), objects()...).Value
	mutate := func(f func(objs []client.Object)) string {
		objs := objects()
		f(objs)
		return hashOf(t, spec(), objs...).Value
	}
	changes := map[string]func([]client.Object){
		"referenced key of a key-consumed ConfigMap": func(o []client.Object) { o[0].(*corev1.ConfigMap).Data["a"] = "2" },
		"volume item key":                          func(o []client.Object) { o[0].(*corev1.ConfigMap).Data["f1"] = "ONE" },
		"any key of a whole-consumed ConfigMap":    func(o []client.Object) { o[1].(*corev1.ConfigMap).Data["new"] = "n" },
		"binaryData of a whole-consumed ConfigMap": func(o []client.Object) { o[1].(*corev1.ConfigMap).BinaryData["bin"] = []byte{1} },
		"referenced Secret key":                    func(o []client.Object) { o[3].(*corev1.Secret).Data["pw"] = []byte("rotated") },
		"Secret type":                              func(o []client.Object) { o[4].(*corev1.Secret).Type = corev1.SecretTypeOpaque },
		"referenced key moved from data to binaryData": func(o []client.Object) {
			c := o[0].(*corev1.ConfigMap)
			delete(c.Data, "a")
			c.BinaryData = map[string][]byte{"a": []byte("1")}
		},
		"optional ConfigMap appears": func(o []client.Object) { o[2] = cm("opt", nil, nil) },
		"referenced key removed":     func(o []client.Object) { delete(o[0].(*corev1.ConfigMap).Data, "a") },
	}
	for name, f := range changes {
		if mutate(f) == base {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	same := map[string]func([]client.Object){
		"unreferenced key":               func(o []client.Object) { o[0].(*corev1.ConfigMap).Data["unused"] = "changed" },
		"unreferenced Secret key":        func(o []client.Object) { o[3].(*corev1.Secret).Data["other"] = []byte("changed") },
		"unrelated ConfigMap":            func(o []client.Object) { o[2].(*corev1.ConfigMap).Data["x"] = "2" },
		"labels and annotations":         func(o []client.Object) { o[0].SetLabels(map[string]string{"l": "v"}) },
		"empty Secret type means Opaque": func(o []client.Object) { o[3].(*corev1.Secret).Type = corev1.SecretTypeOpaque },
	}
	for name, f := range same {
		if mutate(f) != base {
			t.Errorf("%s: hash changed", name)
		}
	}
}

func TestStringDataHashesLikeStoredData(t *testing.T) {
	desired := sec("s", "", nil)
	desired.StringData = map[string]string{"pw": "secret"}
	stored := sec("s", corev1.SecretTypeOpaque, map[string][]byte{"pw": []byte("secret")})
	s := &corev1.PodSpec{Containers: []corev1.Container{{Name: "c", EnvFrom: []corev1.EnvFromSource{{
		SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}},
	}}}}}
	if hashOf(t, s, desired).Value != hashOf(t, s, stored).Value {
		t.Error("a desired Secret with stringData hashes unlike the stored one")
	}
}

func TestMissingObjectsHashAsAbsent(t *testing.T) {
	h := hashOf(t, spec())
	if len(h.Missing) != len(h.Refs) {
		t.Errorf("Missing = %+v", h.Missing)
	}
	if h.Value == hashOf(t, spec(), objects()...).Value {
		t.Error("absent objects hash like present ones")
	}
	if h.Value != hashOf(t, spec()).Value {
		t.Error("absent hash is not stable")
	}
}

func TestGetters(t *testing.T) {
	ctx := context.Background()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("ConfigMap")
	u.SetName("u")
	u.SetNamespace(ns)
	_ = unstructured.SetNestedStringMap(u.Object, map[string]string{"k": "v"}, "data")
	g := Chain(FromObjects(cm("a", map[string]string{"k": "first"}, nil)), FromObjects(u, cm("a", map[string]string{"k": "second"}, nil)))

	got := &corev1.ConfigMap{}
	if err := g.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a"}, got); err != nil || got.Data["k"] != "first" {
		t.Errorf("chain: %v %v", err, got.Data)
	}
	if err := g.Get(ctx, client.ObjectKey{Namespace: ns, Name: "u"}, got); err != nil || got.Data["k"] != "v" {
		t.Errorf("unstructured source: %v %v", err, got.Data)
	}
	if err := g.Get(ctx, client.ObjectKey{Namespace: "other", Name: "a"}, got); !apierrors.IsNotFound(err) {
		t.Errorf("other namespace: %v", err)
	}
	if err := g.Get(ctx, client.ObjectKey{Namespace: ns, Name: "a"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("kind mismatch: %v", err)
	}
	// The source is copied, not shared.
	got.Data["k"] = "mutated"
	again := &corev1.ConfigMap{}
	_ = g.Get(ctx, client.ObjectKey{Namespace: ns, Name: "u"}, again)
	if again.Data["k"] != "v" {
		t.Error("getter handed out its source")
	}
}

type failing struct{}

func (failing) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return apierrors.NewServiceUnavailable("down")
}

func TestReadErrorsAreReturned(t *testing.T) {
	if _, err := Compute(context.Background(), failing{}, ns, spec()); err == nil || !apierrors.IsServiceUnavailable(err) {
		t.Errorf("err = %v, want the wrapped read error", err)
	}
	if _, err := Compute(context.Background(), nil, ns, spec()); err == nil {
		t.Error("nil getter accepted")
	}
}
