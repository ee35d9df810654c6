package builder_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// TestHandEditOfAListKeyIsReverted edits fields that are the keys of
// server-side-apply list maps (a Service port, a container port) by hand.
// Server-side apply alone cannot revert such an edit: the edited item is a
// new item owned by the editor, and applying the desired item beside it
// makes two ports with the same name, which the API server refuses.
func TestHandEditOfAListKeyIsReverted(t *testing.T) {
	e := newEnv(t)
	objs := func() []client.Object {
		return []client.Object{service("web", false), deployment("nginx:1.27", ptr.To[int32](1))}
	}
	e.reconcileAll(append(podConfig(), objs()...)...)
	// Other actors' marks that the revert must keep.
	for _, obj := range []client.Object{&corev1.Service{}, &appsv1.Deployment{}} {
		obj.SetName("web")
		obj.SetNamespace(e.ns)
		patch := []byte(`{"metadata":{"labels":{"team":"data"},"annotations":{"example.com/note":"keep me"}}}`)
		if err := e.admin.Patch(e.ctx, obj, client.RawPatch(types.MergePatchType, patch), client.FieldOwner("someone")); err != nil {
			t.Fatal(err)
		}
	}
	restart := []byte(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-24T00:00:00Z"}}}}}`)
	if err := e.admin.Patch(e.ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: e.ns}},
		client.RawPatch(types.StrategicMergePatchType, restart), client.FieldOwner("kubectl-rollout")); err != nil {
		t.Fatal(err)
	}

	svc := &corev1.Service{}
	svc.Name, svc.Namespace = "web", e.ns
	e.edit(svc, "kubectl-edit", func() { svc.Spec.Ports[0].Port = 8081 })
	dep := &appsv1.Deployment{}
	dep.Name, dep.Namespace = "web", e.ns
	e.edit(dep, "kubectl-edit", func() { dep.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = 9999 })

	e.rec.Take()
	res := e.reconcileAll(objs()...)
	for _, r := range res {
		if r.Operation != builder.OperationUpdated {
			t.Errorf("%T %s: %s, want Updated", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	// Each object: the refused apply, the patch that replaced its lists and
	// the apply that took the fields back, each recorded.
	evs := e.rec.Take()
	want := strings.Join([]string{eventclient.ReasonUpdateFailed, eventclient.ReasonUpdated, eventclient.ReasonUpdated}, ",")
	if got := joined(reasons(evs, "web")); got != want+","+want {
		t.Errorf("events: %q, want %q for each of the two objects", got, want)
	}
	e.get(svc)
	if got := svc.Spec.Ports; len(got) != 2 || got[0].Name != "http" || got[0].Port != 80 || got[1].Port != 9090 {
		t.Errorf("Service ports after the revert: %+v, want http:80 and admin:9090 only", got)
	}
	e.get(dep)
	if got := dep.Spec.Template.Spec.Containers[0].Ports; len(got) != 1 || got[0].ContainerPort != 8080 {
		t.Errorf("container ports after the revert: %+v, want http:8080 only", got)
	}
	for _, obj := range []client.Object{svc, dep} {
		if obj.GetLabels()["team"] != "data" || obj.GetAnnotations()["example.com/note"] != "keep me" {
			t.Errorf("%T: other actors' metadata lost: %v %v", obj, obj.GetLabels(), obj.GetAnnotations())
		}
		if refs := obj.GetOwnerReferences(); len(refs) != 1 || refs[0].Controller == nil || !*refs[0].Controller {
			t.Errorf("%T: owner references %v, want the controller reference only", obj, refs)
		}
	}
	if dep.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] == "" {
		t.Errorf("the rollout restart annotation was lost: %v", dep.Spec.Template.Annotations)
	}
	e.expectNoWrites(objs()...)
}
