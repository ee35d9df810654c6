package builder_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

func TestCreateSetsOwnerAndLabelsThenSteadyStateWritesNothing(t *testing.T) {
	e := newEnv(t)
	objs := allKinds()
	e.counter.Reset()
	res := e.reconcileAll(objs...)
	// One server-side apply (PATCH) per object and nothing else.
	if n, w := e.counter.Count("PATCH"), e.counter.Writes(); n != len(objs) || w != n {
		t.Errorf("create pass: %d PATCH of %d writes, want %d: %v", n, w, len(objs), e.counter.WriteRequests())
	}
	if len(res) != len(objs) {
		t.Fatalf("got %d results for %d objects", len(res), len(objs))
	}
	for _, r := range res {
		if r.Operation != builder.OperationCreated {
			t.Errorf("%T %s: operation %s, want Created", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	for _, want := range objs {
		live := want.DeepCopyObject().(client.Object)
		live.SetNamespace(e.ns)
		e.get(live)
		ref := metav1.GetControllerOf(live)
		if ref == nil || ref.UID != e.owner.UID || ref.Kind != "Cluster" || ref.Name != "demo" {
			t.Errorf("%T %s: controller reference %+v, want the Cluster demo", live, live.GetName(), ref)
		}
		l := live.GetLabels()
		for k, v := range map[string]string{
			keys.LabelName: "demo-app", keys.LabelInstance: "demo", keys.LabelComponent: "broker",
			keys.LabelManagedBy: fieldOwner, keys.LabelOwnerUID: string(e.owner.UID),
		} {
			if l[k] != v {
				t.Errorf("%T %s: label %s=%q, want %q", live, live.GetName(), k, l[k], v)
			}
		}
		if live.GetAnnotations()[keys.AnnotationAppliedHash] == "" {
			t.Errorf("%T %s: no applied-hash annotation", live, live.GetName())
		}
	}
	// Every kind, a second and a third time: no write, no event.
	e.expectNoWrites(allKinds()...)
	e.expectNoWrites(allKinds()...)
}
