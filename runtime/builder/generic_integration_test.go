package builder_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// TestAnyKindThroughTheGenericPath reconciles a custom resource kind the
// Builder knows nothing about, typed and unstructured.
func TestAnyKindThroughTheGenericPath(t *testing.T) {
	e := newEnv(t)
	typed := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "child"}, Spec: testv1.ClusterSpec{Image: "img:1"}}
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(testv1.GroupVersion.String())
	u.SetKind("Cluster")
	u.SetName("child-u")
	_ = unstructured.SetNestedField(u.Object, "img:1", "spec", "image")
	cmU := &unstructured.Unstructured{}
	cmU.SetAPIVersion("v1")
	cmU.SetKind("ConfigMap")
	cmU.SetName("cm-u")
	_ = unstructured.SetNestedStringMap(cmU.Object, map[string]string{"k": "v"}, "data")

	objs := func() []client.Object { return []client.Object{typed.DeepCopy(), u.DeepCopy(), cmU.DeepCopy()} }
	for _, r := range e.reconcileAll(objs()...) {
		if r.Operation != builder.OperationCreated {
			t.Errorf("%s: %s, want Created", r.Object.GetName(), r.Operation)
		}
		if _, isU := r.Object.(*unstructured.Unstructured); isU == (r.Object.GetName() == "child") {
			t.Errorf("%s: result object %T, want the desired object's type", r.Object.GetName(), r.Object)
		}
	}
	live := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "child-u", Namespace: e.ns}}
	e.get(live)
	if ref := metav1.GetControllerOf(live); ref == nil || ref.UID != e.owner.UID || live.Labels[keys.LabelOwnerUID] != string(e.owner.UID) {
		t.Errorf("unstructured child not owned/labelled: %+v", live.ObjectMeta)
	}
	e.expectNoWrites(objs()...)

	_ = unstructured.SetNestedField(u.Object, "img:2", "spec", "image")
	res := e.reconcileAll(objs()...)
	if r := resultFor(t, res, "child-u"); r.Operation != builder.OperationUpdated {
		t.Errorf("child-u: %s, want Updated", r.Operation)
	}
	e.get(live)
	if live.Spec.Image != "img:2" {
		t.Errorf("image %q, want img:2", live.Spec.Image)
	}
}

// TestRemovedFieldsAreRemoved: a field the operator stops setting goes away,
// although the rest of the live object is a superset of the desired state;
// the applied-hash catches it.
func TestRemovedFieldsAreRemoved(t *testing.T) {
	e := newEnv(t)
	cm := configMap("config", map[string]string{"a": "1", "b": "2"})
	dep := deployment("nginx:1.27", ptr.To[int32](1))
	dep.Spec.Template.Spec.Containers[0].Env = append(dep.Spec.Template.Spec.Containers[0].Env, corev1.EnvVar{Name: "EXTRA", Value: "x"})
	dep.Labels = map[string]string{"tier": "gold"}
	e.reconcileAll(cm, dep, secret(map[string]string{"PASSWORD": "s3cr3t-value"}))

	cm = configMap("config", map[string]string{"a": "1"})
	dep = deployment("nginx:1.27", ptr.To[int32](1))
	res := e.reconcileAll(cm, dep)
	for _, r := range res {
		if r.Operation != builder.OperationUpdated {
			t.Errorf("%T: %s, want Updated", r.Object, r.Operation)
		}
	}
	liveCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: e.ns}}
	e.get(liveCM)
	if _, ok := liveCM.Data["b"]; ok {
		t.Error("removed ConfigMap key still present")
	}
	liveDep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}}
	e.get(liveDep)
	for _, env := range liveDep.Spec.Template.Spec.Containers[0].Env {
		if env.Name == "EXTRA" {
			t.Error("removed env var still present")
		}
	}
	if _, ok := liveDep.Labels["tier"]; ok {
		t.Error("removed label still present")
	}
	e.expectNoWrites(cm, dep)
}
