package cachescope_test

import (
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

func byType(t *testing.T, opts cache.Options, like client.Object) cache.ByObject {
	t.Helper()
	for obj, by := range opts.ByObject {
		if fmt.Sprintf("%T", obj) == fmt.Sprintf("%T", like) {
			return by
		}
	}
	t.Fatalf("no ByObject entry for %T", like)
	return cache.ByObject{}
}

func TestOptionsSelectors(t *testing.T) {
	opts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithManagedBy("druid-operator"))
	if err != nil {
		t.Fatal(err)
	}
	child := labels.Set{keys.LabelOwnerUID: "u", keys.LabelManagedBy: "druid-operator"}
	for _, tt := range []struct {
		name string
		sel  labels.Selector
		set  labels.Set
		want bool
	}{
		{"child", opts.DefaultLabelSelector, child, true},
		{"another operator's child", opts.DefaultLabelSelector, labels.Set{keys.LabelOwnerUID: "u", keys.LabelManagedBy: "pinot-operator"}, false},
		{"unlabelled object", opts.DefaultLabelSelector, labels.Set{"app": "x"}, false},
		{"managed-by alone", opts.DefaultLabelSelector, labels.Set{keys.LabelManagedBy: "druid-operator"}, false},
		{"watched ConfigMap", byType(t, opts, &corev1.ConfigMap{}).Label, labels.Set{keys.LabelWatch: keys.ValueTrue}, true},
		{"child ConfigMap without the watch label", byType(t, opts, &corev1.ConfigMap{}).Label, child, false},
		{"watched Secret", byType(t, opts, &corev1.Secret{}).Label, labels.Set{keys.LabelWatch: keys.ValueTrue}, true},
		{"unrelated Secret", byType(t, opts, &corev1.Secret{}).Label, labels.Set{}, false},
		{"owner type", byType(t, opts, &testv1.Cluster{}).Label, labels.Set{}, true},
	} {
		if got := tt.sel.Matches(tt.set); got != tt.want {
			t.Errorf("%s: selector %q matches %v = %v, want %v", tt.name, tt.sel, tt.set, got, tt.want)
		}
	}
}

func TestOptionsNamespacesAndErrors(t *testing.T) {
	opts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithNamespaces("a", "b"), cachescope.WithStripManagedFields(),
		cachescope.WithFullyCached(&corev1.Node{}))
	if err != nil {
		t.Fatal(err)
	}
	var nss []string
	for ns := range opts.DefaultNamespaces {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	if !slices.Equal(nss, []string{"a", "b"}) {
		t.Errorf("DefaultNamespaces = %v", nss)
	}
	if opts.DefaultTransform == nil {
		t.Error("WithStripManagedFields set no transform")
	}
	if !byType(t, opts, &corev1.Node{}).Label.Empty() {
		t.Error("WithFullyCached type is label-selected")
	}

	for name, o := range map[string][]cachescope.Option{
		"invalid managed-by": {cachescope.WithManagedBy("not a label value")},
		"invalid namespace":  {cachescope.WithNamespaces("Not_A_Namespace")},
		"nil fully cached":   {cachescope.WithFullyCached(nil)},
	} {
		if _, err := cachescope.Options(&testv1.Cluster{}, o...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := cachescope.Options(nil); err == nil {
		t.Error("nil owner: no error")
	}
}

func TestContentChanged(t *testing.T) {
	p := cachescope.ContentChanged()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"a": "1"}}
	relabelled := cm.DeepCopy()
	relabelled.Labels = map[string]string{keys.LabelWatch: keys.ValueTrue}
	changed := cm.DeepCopy()
	changed.Data["a"] = "2"
	binary := cm.DeepCopy()
	binary.BinaryData = map[string][]byte{"b": {1}}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: map[string][]byte{"k": []byte("v")}}
	retyped := s.DeepCopy()
	retyped.Type = corev1.SecretTypeTLS
	sRelabelled := s.DeepCopy()
	sRelabelled.Labels = map[string]string{"x": "y"}
	for _, tt := range []struct {
		name     string
		old, new client.Object
		want     bool
	}{
		{"ConfigMap label only", cm, relabelled, false},
		{"ConfigMap data", cm, changed, true},
		{"ConfigMap binaryData", cm, binary, true},
		{"Secret label only", s, sRelabelled, false},
		{"Secret type", s, retyped, true},
	} {
		if got := p.Update(event.UpdateEvent{ObjectOld: tt.old, ObjectNew: tt.new}); got != tt.want {
			t.Errorf("%s: Update = %v, want %v", tt.name, got, tt.want)
		}
	}
	if !p.Create(event.CreateEvent{Object: cm}) || !p.Delete(event.DeleteEvent{Object: cm}) {
		t.Error("creates and deletes must pass")
	}
}
