package builder

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestApplyContentDropsWhatGoCannotOmit(t *testing.T) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "n", ResourceVersion: "7", UID: "u"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "a", Port: 80},
			{Name: "b", Port: 81, TargetPort: intstr.FromInt32(0)},
			{Name: "c", Port: 82, TargetPort: intstr.FromString("http")},
		}},
	}
	c, err := applyContent(svc, corev1.SchemeGroupVersion.WithKind("Service"))
	if err != nil {
		t.Fatal(err)
	}
	ports, _, _ := unstructured.NestedSlice(c, "spec", "ports")
	if _, ok := ports[0].(map[string]any)["targetPort"]; ok {
		t.Errorf("unset targetPort sent: %v", ports[0])
	}
	if got := ports[2].(map[string]any)["targetPort"]; got != "http" {
		t.Errorf("set targetPort = %v", got)
	}
	for _, f := range []string{"status"} {
		if _, ok := c[f]; ok {
			t.Errorf("%s sent", f)
		}
	}
	md := c["metadata"].(map[string]any)
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp"} {
		if _, ok := md[f]; ok {
			t.Errorf("metadata.%s sent", f)
		}
	}
	if c["apiVersion"] != "v1" || c["kind"] != "Service" {
		t.Errorf("type meta %v %v", c["apiVersion"], c["kind"])
	}
}

func TestApplyContentKeepsMeaningfulEmptyValues(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32), // scale to zero is meaningful
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers:                   []corev1.Container{{Name: "c", Image: "i"}},
				AutomountServiceAccountToken: new(bool),
				Volumes:                      []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			}},
		},
	}
	c, err := applyContent(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := unstructured.NestedInt64(c, "spec", "replicas"); !ok || v != 0 {
		t.Errorf("replicas 0 dropped")
	}
	if v, ok, _ := unstructured.NestedBool(c, "spec", "template", "spec", "automountServiceAccountToken"); !ok || v {
		t.Errorf("automountServiceAccountToken false dropped")
	}
	vols, _, _ := unstructured.NestedSlice(c, "spec", "template", "spec", "volumes")
	if _, ok := vols[0].(map[string]any)["emptyDir"]; !ok {
		t.Error("emptyDir {} dropped")
	}
	for _, path := range [][]string{{"spec", "strategy"}, {"spec", "template", "metadata"}} {
		if _, ok, _ := unstructured.NestedFieldNoCopy(c, path...); ok {
			t.Errorf("zero %v sent", path)
		}
	}
	cs, _, _ := unstructured.NestedSlice(c, "spec", "template", "spec", "containers")
	if _, ok := cs[0].(map[string]any)["resources"]; ok {
		t.Error("zero resources sent")
	}
}

func TestApplyContentFoldsSecretStringData(t *testing.T) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data:       map[string][]byte{"a": []byte("old"), "b": []byte("keep")},
		StringData: map[string]string{"a": "new"},
	}
	c, err := applyContent(s, corev1.SchemeGroupVersion.WithKind("Secret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c["stringData"]; ok {
		t.Error("stringData sent")
	}
	data := c["data"].(map[string]any)
	if data["a"] != "bmV3" || data["b"] != "a2VlcA==" {
		t.Errorf("data = %v", data)
	}
}

func TestContentHashIgnoresItsOwnAnnotationAndKeyOrder(t *testing.T) {
	a := map[string]any{"metadata": map[string]any{"name": "x", "annotations": map[string]any{appliedHashKey: "old"}}, "data": map[string]any{"k1": "1", "k2": "2"}}
	b := map[string]any{"data": map[string]any{"k2": "2", "k1": "1"}, "metadata": map[string]any{"name": "x"}}
	ha, err := contentHash(a)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := contentHash(b)
	if ha != hb {
		t.Errorf("hashes differ: %s %s", ha, hb)
	}
	b["data"].(map[string]any)["k2"] = "3"
	if hc, _ := contentHash(b); hc == ha {
		t.Error("a changed value kept the hash")
	}
	if _, ok := a["metadata"].(map[string]any)["annotations"].(map[string]any)[appliedHashKey]; !ok {
		t.Error("contentHash modified its input")
	}
}

func TestIsSubset(t *testing.T) {
	cases := []struct {
		name          string
		desired, live string
		want          bool
	}{
		{"extra live fields", `{"a":1}`, `{"a":1,"b":2}`, true},
		{"missing field", `{"a":1,"c":1}`, `{"a":1}`, false},
		{"changed value", `{"a":"x"}`, `{"a":"y"}`, false},
		{"number types", `{"a":1}`, `{"a":1.0}`, true},
		{"named list, live has more and other order", `{"l":[{"name":"b","v":2},{"name":"a","v":1}]}`, `{"l":[{"name":"a","v":1,"d":0},{"name":"c"},{"name":"b","v":2}]}`, true},
		{"named list, element changed", `{"l":[{"name":"a","v":1}]}`, `{"l":[{"name":"a","v":2}]}`, false},
		{"named list, element missing", `{"l":[{"name":"a"}]}`, `{"l":[{"name":"b"}]}`, false},
		{"mountPath list", `{"l":[{"mountPath":"/x","name":"v"},{"mountPath":"/y","name":"v"}]}`, `{"l":[{"mountPath":"/y","name":"v"},{"mountPath":"/x","name":"v"}]}`, true},
		{"atomic list, same", `{"l":["a","b"]}`, `{"l":["a","b"]}`, true},
		{"atomic list, extra", `{"l":["a"]}`, `{"l":["a","b"]}`, false},
		{"atomic list of objects, defaults added", `{"l":[{"key":"k"}]}`, `{"l":[{"key":"k","operator":"Equal"}]}`, true},
		{"type change", `{"a":{"b":1}}`, `{"a":"s"}`, false},
		{"empty object matches", `{"a":{}}`, `{"a":{"x":1}}`, true},
	}
	for _, c := range cases {
		var d, l any
		if err := json.Unmarshal([]byte(c.desired), &d); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(c.live), &l); err != nil {
			t.Fatal(err)
		}
		if got := isSubset(d, l); got != c.want {
			t.Errorf("%s: isSubset = %t, want %t", c.name, got, c.want)
		}
	}
}
