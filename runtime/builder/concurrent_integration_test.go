package builder_test

import (
	"fmt"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// reconcileConcurrently reconciles objs with b, all at once, and returns
// their results in the order of objs.
func (e *env) reconcileConcurrently(b *builder.Builder, objs []client.Object) []builder.Result {
	e.t.Helper()
	res := make([]builder.Result, len(objs))
	errs := make([]error, len(objs))
	var wg sync.WaitGroup
	for i, obj := range objs {
		wg.Go(func() { res[i], errs[i] = b.ReconcileObject(e.ctx, obj) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("ReconcileObject %s: %v", objs[i].GetName(), err)
		}
	}
	return res
}

// configAndServices are a Deployment's config (podConfig) and more
// children that do not depend on one another: a pass may reconcile them at
// once.
func configAndServices() []client.Object {
	objs := podConfig()
	for i := range 6 {
		objs = append(objs, configMap(fmt.Sprintf("extra-%d", i), map[string]string{"k": "v"}))
	}
	return append(objs, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: 8080}}},
	})
}

// A Builder reconciles children that do not depend on one another from
// several goroutines at once (orchestrate's pass does) as it would one after
// another: the workload that consumes them afterwards gets the same config
// hash, and one whose ConfigMap's name was taken meanwhile is held. Run with
// -race, this is also the check that what the calls share is guarded.
func TestReconcileObjectConcurrently(t *testing.T) {
	t.Run("the workload's config hash is the one reconciling in order gives", func(t *testing.T) {
		inOrder, atOnce := newEnv(t), newEnv(t)
		inOrder.reconcileAll(append(configAndServices(), deployment("nginx:1.27", ptr.To[int32](1)))...)

		b := atOnce.builder()
		for _, r := range atOnce.reconcileConcurrently(b, configAndServices()) {
			if r.Operation != builder.OperationCreated {
				t.Errorf("%s: %s, want Created", r.Object.GetName(), r.Operation)
			}
		}
		if r, err := b.ReconcileObject(atOnce.ctx, deployment("nginx:1.27", ptr.To[int32](1))); err != nil || r.Operation != builder.OperationCreated {
			t.Fatalf("the Deployment after its config: %v, %v; want Created", r.Operation, err)
		}
		want, got := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: inOrder.ns}}, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: atOnce.ns}}
		inOrder.get(want)
		atOnce.get(got)
		wantHash, gotHash := want.Spec.Template.Annotations[keys.AnnotationConfigHash], got.Spec.Template.Annotations[keys.AnnotationConfigHash]
		if wantHash == "" || gotHash != wantHash {
			t.Errorf("config hash %q after reconciling the config at once, want %q as in order", gotHash, wantHash)
		}
	})
	t.Run("a workload whose ConfigMap was refused is held", func(t *testing.T) {
		e := newEnv(t)
		theirs := configMap("config", map[string]string{"runtime.properties": "user=1\n", "log.level": "user"})
		theirs.Namespace = e.ns
		if err := e.admin.Create(e.ctx, theirs); err != nil {
			t.Fatal(err)
		}
		b := e.builder()
		e.reconcileConcurrently(b, configAndServices())
		dep, err := b.ReconcileObject(e.ctx, deployment("nginx:1.27", ptr.To[int32](1)))
		if err != nil {
			t.Fatal(err)
		}
		if dep.Operation != builder.OperationHeld || dep.Reason != builder.ReasonNameTaken {
			t.Errorf("the Deployment that mounts the refused ConfigMap: %s, want Held with %s", summary(dep), builder.ReasonNameTaken)
		}
	})
}
