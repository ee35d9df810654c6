package orchestrate_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// TestHandEditsAreRevertedThroughWatches edits a PodDisruptionBudget, a
// ConfigMap and a Service (its selector, then its port) of a running Cluster
// by hand and waits, without
// poking the controller, for each to be put back. The controller drops
// status-only updates of such children; this shows the updates that matter
// still reach it, for kinds whose generation the API server maintains (the
// PDB) and for kinds without one (the ConfigMap and the Service).
func TestHandEditsAreRevertedThroughWatches(t *testing.T) {
	e := newEnv(t, orchestrate.Config{})
	e.createCluster(spec())
	e.waitFor("the first install to be ready", ready)

	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: e.ns, Name: name} }
	edits := []struct {
		what    string
		obj     client.Object
		edit    func(client.Object)
		checkOK func(client.Object) bool
	}{{
		what: "PodDisruptionBudget db-b's maxUnavailable",
		obj:  &policyv1.PodDisruptionBudget{},
		edit: func(o client.Object) {
			o.(*policyv1.PodDisruptionBudget).Spec.MaxUnavailable = ptr.To(intstr.FromInt32(5))
		},
		checkOK: func(o client.Object) bool {
			mu := o.(*policyv1.PodDisruptionBudget).Spec.MaxUnavailable
			return mu != nil && mu.IntValue() == 1
		},
	}, {
		what:    "ConfigMap db-b-config's data",
		obj:     &corev1.ConfigMap{},
		edit:    func(o client.Object) { o.(*corev1.ConfigMap).Data["level"] = "edited by hand" },
		checkOK: func(o client.Object) bool { return o.(*corev1.ConfigMap).Data["level"] == "1" },
	}, {
		what:    "Service db-c's selector",
		obj:     &corev1.Service{},
		edit:    func(o client.Object) { o.(*corev1.Service).Spec.Selector[keys.LabelComponent] = "edited-by-hand" },
		checkOK: func(o client.Object) bool { return o.(*corev1.Service).Spec.Selector[keys.LabelComponent] == "c" },
	}, {
		// The key of a list item: server-side apply alone cannot revert it.
		what: "Service db-c's port",
		obj:  &corev1.Service{},
		edit: func(o client.Object) { o.(*corev1.Service).Spec.Ports[0].Port = 9999 },
		checkOK: func(o client.Object) bool {
			ports := o.(*corev1.Service).Spec.Ports
			return len(ports) == 1 && ports[0].Port == 8080
		},
	}}
	names := []string{"db-b", "db-b-config", "db-c", "db-c"}
	for i, ed := range edits {
		if err := e.c.Get(e.ctx(), key(names[i]), ed.obj); err != nil {
			t.Fatalf("%s: %v", ed.what, err)
		}
		ed.edit(ed.obj)
		if err := e.c.Update(e.ctx(), ed.obj); err != nil {
			t.Fatalf("editing %s: %v", ed.what, err)
		}
		err := wait.PollUntilContextTimeout(e.ctx(), 100*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
			if err := e.c.Get(ctx, key(names[i]), ed.obj); err != nil {
				return false, err
			}
			return ed.checkOK(ed.obj), nil
		})
		if err != nil {
			t.Errorf("%s edited by hand was not put back: %v", ed.what, err)
		}
	}
}
