package builder

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

func desiredConfigMap(value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}, Data: map[string]string{"k": value}}
}

func liveConfigMap(uid types.UID, rv string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", UID: uid, ResourceVersion: rv}}
}

func TestCheckedDesiredSide(t *testing.T) {
	e := NewExpectations()
	if _, ok := e.desiredHash(cmKey("a"), desiredConfigMap("1")); ok {
		t.Fatal("a hash known before anything was remembered")
	}
	d := desiredConfigMap("1")
	e.rememberDesired(cmKey("a"), d, "h1")
	// The caller's object is copied: changing it later changes nothing.
	d.Data["k"] = "changed"
	if h, ok := e.desiredHash(cmKey("a"), desiredConfigMap("1")); !ok || h != "h1" {
		t.Errorf("an equal desired object: %q %t, want h1", h, ok)
	}
	if _, ok := e.desiredHash(cmKey("a"), desiredConfigMap("2")); ok {
		t.Error("a different desired object reused the remembered hash")
	}
	if _, ok := e.desiredHash(cmKey("a"), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"}}); ok {
		t.Error("an object of another type reused the remembered hash")
	}
	if _, ok := e.desiredHash(cmKey("b"), desiredConfigMap("1")); ok {
		t.Error("another child reused the remembered hash")
	}
}

func TestCheckedLiveSide(t *testing.T) {
	e := NewExpectations()
	e.rememberDesired(cmKey("a"), desiredConfigMap("1"), "h1")
	if e.unchanged(cmKey("a"), "h1", liveConfigMap("u1", "10")) {
		t.Fatal("unchanged before any comparison was remembered")
	}
	e.rememberUnchanged(cmKey("a"), "h1", liveConfigMap("u1", "10"))
	if !e.unchanged(cmKey("a"), "h1", liveConfigMap("u1", "10")) {
		t.Error("the compared live object with the compared hash: not unchanged")
	}
	for name, tc := range map[string]struct {
		hash string
		live client.Object
	}{
		"written since (another resourceVersion)": {"h1", liveConfigMap("u1", "11")},
		"recreated (another UID)":                 {"h1", liveConfigMap("u2", "10")},
		"another desired state":                   {"h2", liveConfigMap("u1", "10")},
		"no resourceVersion":                      {"h1", liveConfigMap("u1", "")},
	} {
		if e.unchanged(cmKey("a"), tc.hash, tc.live) {
			t.Errorf("%s: unchanged, want a full comparison", name)
		}
	}
	// Remembering the same desired hash again keeps the live side; a new
	// desired hash drops it.
	e.rememberDesired(cmKey("a"), desiredConfigMap("1"), "h1")
	if !e.unchanged(cmKey("a"), "h1", liveConfigMap("u1", "10")) {
		t.Error("re-remembering the same desired state forgot the comparison")
	}
	e.rememberDesired(cmKey("a"), desiredConfigMap("2"), "h2")
	if e.unchanged(cmKey("a"), "h1", liveConfigMap("u1", "10")) || e.unchanged(cmKey("a"), "h2", liveConfigMap("u1", "10")) {
		t.Error("a new desired state kept the comparison made for the old one")
	}
	// A comparison for another hash replaces the desired side too.
	e.rememberUnchanged(cmKey("a"), "h3", liveConfigMap("u1", "12"))
	if _, ok := e.desiredHash(cmKey("a"), desiredConfigMap("2")); ok {
		t.Error("the desired object of h2 is still remembered after a comparison of h3")
	}
	e.Forget(schema.GroupKind{Kind: "ConfigMap"}, client.ObjectKey{Namespace: "ns", Name: "a"})
	if e.unchanged(cmKey("a"), "h3", liveConfigMap("u1", "12")) {
		t.Error("Forget kept the comparison")
	}
}

func TestCheckedEntriesExpire(t *testing.T) {
	now := time.Unix(1000, 0)
	e := NewExpectations()
	e.now = func() time.Time { return now }
	e.rememberDesired(cmKey("quiet"), desiredConfigMap("1"), "h")
	e.rememberUnchanged(cmKey("busy"), "h", liveConfigMap("u", "1"))
	for range 3 {
		now = now.Add(checkedTTL / 2)
		// busy is used by every pass; quiet by none.
		if !e.unchanged(cmKey("busy"), "h", liveConfigMap("u", "1")) {
			t.Fatal("an entry in use expired")
		}
		e.rememberDesired(cmKey("other"), desiredConfigMap("1"), "h")
	}
	if _, ok := e.desiredHash(cmKey("quiet"), desiredConfigMap("1")); ok {
		t.Error("an entry unused for longer than checkedTTL was not swept")
	}
	e.mu.Lock()
	n := len(e.checked)
	e.mu.Unlock()
	if n != 2 {
		t.Errorf("%d entries after the sweep, want 2 (busy, other)", n)
	}
}

func TestNilExpectationsRememberNoComparison(t *testing.T) {
	var e *Expectations
	e.rememberDesired(cmKey("a"), desiredConfigMap("1"), "h")
	e.rememberUnchanged(cmKey("a"), "h", liveConfigMap("u", "1"))
	e.rememberNamespaced(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, true)
	if _, ok := e.desiredHash(cmKey("a"), desiredConfigMap("1")); ok {
		t.Error("nil Expectations remembered a desired object")
	}
	if e.unchanged(cmKey("a"), "h", liveConfigMap("u", "1")) {
		t.Error("nil Expectations remembered a comparison")
	}
	if _, known := e.isNamespaced(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}); known {
		t.Error("nil Expectations remembered a kind's scope")
	}
}

// TestCheckedDesiredSurvivesConversion: converting a desired object to its
// apply content (which prepare does before remembering it) must leave it
// equal to a freshly built one, or no pass would ever reuse a hash. Values
// with cached forms, such as resource.Quantity, are the risk.
func TestCheckedDesiredSurvivesConversion(t *testing.T) {
	build := map[string]func() client.Object{
		"Deployment with resources": func() client.Object {
			return &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", Labels: map[string]string{"l": "v"}},
				Spec: appsv1.DeploymentSpec{
					Replicas: ptr.To[int32](2),
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"l": "v"}},
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"l": "v"}},
						Spec: corev1.PodSpec{Containers: []corev1.Container{{
							Name: "main", Image: "nginx",
							Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
								corev1.ResourceCPU: resource.MustParse("0.5"), corev1.ResourceMemory: resource.MustParse("1024Mi"),
							}},
						}}},
					},
				},
			}
		},
		"Service with a named targetPort": func() client.Object {
			return &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
					{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
					{Name: "admin", Port: 9090},
				}},
			}
		},
		"PersistentVolumeClaim": func() client.Object {
			return &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}
		},
	}
	for name, b := range build {
		t.Run(name, func(t *testing.T) {
			e := NewExpectations()
			obj := b()
			gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme)
			if err != nil {
				t.Fatal(err)
			}
			content, err := applyContent(obj, gvk)
			if err != nil {
				t.Fatal(err)
			}
			h, err := contentHash(content)
			if err != nil {
				t.Fatal(err)
			}
			e.rememberDesired(cmKey("a"), obj, h)
			if got, ok := e.desiredHash(cmKey("a"), b()); !ok || got != h {
				t.Errorf("a freshly built equal object: hash %q %t, want %q", got, ok, h)
			}
		})
	}
}
