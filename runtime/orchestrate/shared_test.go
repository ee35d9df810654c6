package orchestrate_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// sharedAnnotation holds the content of the test Cluster's shared
// ConfigMap, sharedConfigMap, which every node type's pods read.
const (
	sharedAnnotation = "test.opbuilder.io/shared-level"
	sharedConfigMap  = crName + "-shared"
)

// buildShared returns the Cluster's shared ConfigMap.
func buildShared(_ context.Context, cr *testv1.Cluster) ([]client.Object, error) {
	return []client.Object{&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: cr.Name + "-shared"},
		Data:       map[string]string{"level": cr.Annotations[sharedAnnotation]},
	}}, nil
}

// readingShared wraps a node type's build so its pods also read the shared
// ConfigMap, and gives group "cold" a budget of its own.
func readingShared(nt orchestrate.NodeType[*testv1.Cluster]) orchestrate.NodeType[*testv1.Cluster] {
	build := nt.Build
	nt.Build = func(ctx context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		groups, err := build(ctx, cr)
		for i := range groups {
			if groups[i].Name == "cold" {
				groups[i].Disruption = &orchestrate.Disruption{MinAvailable: ptr.To(intstr.FromInt32(2))}
			}
			for _, obj := range groups[i].Objects {
				var pod *corev1.PodSpec
				switch w := obj.(type) {
				case *appsv1.Deployment:
					pod = &w.Spec.Template.Spec
				case *appsv1.StatefulSet:
					pod = &w.Spec.Template.Spec
				default:
					continue
				}
				pod.Containers[0].EnvFrom = append(pod.Containers[0].EnvFrom, corev1.EnvFromSource{
					Prefix:       "SHARED_",
					ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: sharedConfigMap}},
				})
			}
		}
		return groups, err
	}
	return nt
}

// TestSharedConfigRollsEveryNodeTypeInOrder: a ConfigMap that belongs to no
// node type is created for the CR, and changing it rolls every workload
// exactly once, in deployment order, each node type waiting for the one
// before. A group's own Disruption gives its generated budget.
func TestSharedConfigRollsEveryNodeTypeInOrder(t *testing.T) {
	var nts []orchestrate.NodeType[*testv1.Cluster]
	for _, nt := range nodeTypes() {
		nts = append(nts, readingShared(nt))
	}
	e := newEnvShared(t, orchestrate.Config{}, nts, buildShared)
	h := e.watchWorkloads()
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{
		Name: crName, Namespace: e.ns, Annotations: map[string]string{sharedAnnotation: "1"},
	}, Spec: spec()}
	if err := e.c.Create(e.ctx(), cr); err != nil {
		t.Fatal(err)
	}
	cr = e.waitFor("the first install to be ready", ready)

	var cm corev1.ConfigMap
	if err := e.c.Get(e.ctx(), client.ObjectKey{Namespace: e.ns, Name: sharedConfigMap}, &cm); err != nil {
		t.Fatalf("the shared ConfigMap: %v", err)
	}
	if ref := metav1.GetControllerOf(&cm); ref == nil || ref.UID != cr.UID {
		t.Errorf("the shared ConfigMap's controller is %v, want the Cluster", ref)
	}
	if cm.Data["level"] != "1" {
		t.Errorf("the shared ConfigMap holds %v, want level 1", cm.Data)
	}
	e.requirePDBs(cr, map[string]intstr.IntOrString{
		"db-a-hot": intstr.FromInt32(1), "db-b": intstr.FromInt32(1),
	}, map[string]intstr.IntOrString{"db-a-cold": intstr.FromInt32(2), "db-c": intstr.FromInt32(1)})
	e.requireSteady()

	base := h.generations()
	revisions := e.revisionCounts()
	e.update(func(cr *testv1.Cluster) { cr.Annotations[sharedAnnotation] = "2" })
	e.waitFor("every workload to roll onto the new shared config", func(cr *testv1.Cluster) bool {
		if !ready(cr) {
			return false
		}
		for _, name := range workloadNames() {
			if !h.rolledOutAt(name, base[name]+1) {
				return false
			}
		}
		return true
	})
	h.requireOrderedRollout(t, workloadNames(), base)
	e.requireOneNewRevision(revisions)
	e.requireNoConflicts("the shared config change")
	e.requireSteady()
}
