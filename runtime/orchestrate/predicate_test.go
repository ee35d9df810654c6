package orchestrate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
)

func TestIgnoreStatusOnlyUpdates(t *testing.T) {
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "db-b", Generation: 3, Labels: map[string]string{"a": "1"}},
		Spec:       policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1))},
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "db-b-config"}, Data: map[string]string{"level": "1"}}
	change := func(obj client.Object, mutate func(client.Object)) crevent.UpdateEvent {
		n := obj.DeepCopyObject().(client.Object)
		mutate(n)
		return crevent.UpdateEvent{ObjectOld: obj, ObjectNew: n}
	}
	now := metav1.Now()
	cases := []struct {
		name string
		ev   crevent.UpdateEvent
		want bool
	}{
		{"PDB status only", change(pdb, func(o client.Object) {
			o.(*policyv1.PodDisruptionBudget).Status.CurrentHealthy = 2
			o.SetResourceVersion("99")
		}), false},
		{"PDB spec (generation)", change(pdb, func(o client.Object) { o.SetGeneration(4) }), true},
		{"PDB labels", change(pdb, func(o client.Object) { o.SetLabels(map[string]string{"a": "2"}) }), true},
		{"PDB annotations", change(pdb, func(o client.Object) { o.SetAnnotations(map[string]string{"x": "y"}) }), true},
		{"PDB owner references", change(pdb, func(o client.Object) { o.SetOwnerReferences(nil) }), false},
		{"PDB owner references removed", change(withOwner(pdb), func(o client.Object) { o.SetOwnerReferences(nil) }), true},
		{"PDB finalizers", change(pdb, func(o client.Object) { o.SetFinalizers([]string{"x"}) }), true},
		{"PDB deletion", change(pdb, func(o client.Object) { o.SetDeletionTimestamp(&now) }), true},
		{"ConfigMap data (no generation)", change(cm, func(o client.Object) { o.(*corev1.ConfigMap).Data["level"] = "2" }), true},
	}
	p := ignoreStatusOnlyUpdates()
	for _, c := range cases {
		if got := p.Update(c.ev); got != c.want {
			t.Errorf("%s: passes = %v, want %v", c.name, got, c.want)
		}
	}
	if !p.Create(crevent.CreateEvent{Object: pdb}) || !p.Delete(crevent.DeleteEvent{Object: pdb}) {
		t.Error("creates and deletes must pass")
	}
}

func withOwner(obj client.Object) client.Object {
	o := obj.DeepCopyObject().(client.Object)
	o.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "u", Controller: ptr.To(true)}})
	return o
}
