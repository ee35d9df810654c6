package cachescope_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

func secretRef(name string) confighash.Ref {
	return confighash.Ref{Kind: confighash.KindSecret, Name: name}
}

// Watch adds the watch label and nothing else, by its own field manager; it
// never creates a missing object; in steady state it makes no request.
func TestLabelerWatch(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	tls := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns, Labels: map[string]string{"team": "platform"}, Annotations: map[string]string{"note": "user's"}},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": []byte("crt"), "tls.key": []byte("key")},
	}
	create(t, c, tls)
	mgr, _ := startManager(t, tc.Config)

	counter := testcluster.NewRequestCounter()
	counted, err := client.New(counter.Wrap(tc.Config), client.Options{
		Scheme: testScheme,
		Cache:  &client.CacheOptions{Reader: mgr.GetCache()},
	})
	if err != nil {
		t.Fatal(err)
	}
	apiReader, err := client.New(counter.Wrap(tc.Config), client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	labeler, err := cachescope.NewLabeler(counted, apiReader, fieldOwner)
	if err != nil {
		t.Fatal(err)
	}

	missing, err := labeler.Watch(ctx, ns, []confighash.Ref{secretRef("tls"), secretRef("not-yet")})
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 1 || missing[0].Name != "not-yet" {
		t.Errorf("missing = %v, want [not-yet]", missing)
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "not-yet"}, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("Watch must never create a missing object; Get: %v", err)
	}

	var after corev1.Secret
	if err := c.Get(ctx, client.ObjectKeyFromObject(tls), &after); err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{"team": "platform", keys.LabelWatch: keys.ValueTrue}
	if !maps.Equal(after.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", after.Labels, wantLabels)
	}
	if !maps.Equal(after.Annotations, tls.Annotations) || after.Type != tls.Type || !maps.EqualFunc(after.Data, tls.Data, slices.Equal) {
		t.Errorf("Watch changed more than the label: %+v", after)
	}
	var managers []string
	for _, mf := range after.ManagedFields {
		if mf.Manager == fieldOwner+cachescope.WatchFieldOwnerSuffix {
			managers = append(managers, string(mf.Operation)+" "+mf.FieldsV1.GetRawString())
		}
	}
	wantFields := `Update {"f:metadata":{"f:labels":{"f:` + keys.LabelWatch + `":{}}}}`
	if len(managers) != 1 || managers[0] != wantFields {
		t.Errorf("managedFields of the watch manager = %q, want [%q]", managers, wantFields)
	}

	eventually(t, "the labelled Secret in the cache", func(ctx context.Context) (bool, error) {
		err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(tls), &corev1.Secret{})
		return err == nil, client.IgnoreNotFound(err)
	})
	counter.Reset()
	if _, err := labeler.Watch(ctx, ns, []confighash.Ref{secretRef("tls")}); err != nil {
		t.Fatal(err)
	}
	if n := len(counter.Snapshot()); n != 0 {
		t.Errorf("steady-state Watch made requests: %v", counter.Snapshot())
	}

	// A reference to a missing object is found out by a read, never a write.
	counter.Reset()
	if missing, err := labeler.Watch(ctx, ns, []confighash.Ref{secretRef("not-yet")}); err != nil || len(missing) != 1 {
		t.Fatalf("Watch of a missing Secret: missing %v, err %v", missing, err)
	}
	if w := counter.Writes(); w != 0 {
		t.Errorf("Watch of a missing Secret made %d write requests: %v", w, counter.WriteRequests())
	}
}

// The Secret is deleted between the Labeler's cache lookup and its write:
// the write must not create it again.
func TestLabelerNeverRecreatesADeletedObject(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	tls := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns}, StringData: map[string]string{"k": "v"}}
	create(t, c, tls)

	base, err := client.NewWithWatch(tc.Config, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	deletedFirst := interceptor.NewClient(base, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			gone := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: obj.GetName(), Namespace: obj.GetNamespace()}}
			if err := c.Delete(ctx, gone); client.IgnoreNotFound(err) != nil {
				return err
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
	})
	labeler, err := cachescope.NewLabeler(deletedFirst, tc.Client, fieldOwner)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := labeler.Watch(ctx, ns, []confighash.Ref{secretRef("tls")})
	if err != nil || len(missing) != 1 {
		t.Errorf("Watch: missing %v, err %v; want the deleted Secret reported missing", missing, err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(tls), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the deleted Secret exists again after Watch: %v", err)
	}
}

// Release gives the label up only when no workload consumes the object, and
// only the label its own field manager applied.
func TestLabelerRelease(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	cr := owner(t, c, ns, "druid")
	tls := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns}, StringData: map[string]string{"k": "v"}}
	childCM := own(t, cr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "druid-common"}})
	dep := own(t, cr, workload("broker", "tls", "druid-common"))
	create(t, c, tls, childCM, dep)
	mgr, _ := startManager(t, tc.Config)
	labeler, err := cachescope.NewLabeler(mgr.GetClient(), mgr.GetAPIReader(), fieldOwner)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := labeler.Watch(ctx, ns, []confighash.Ref{secretRef("tls")}); err != nil {
		t.Fatal(err)
	}
	labelOf := func(obj client.Object) string {
		t.Helper()
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			t.Fatal(err)
		}
		return obj.GetLabels()[keys.LabelWatch]
	}
	refs := []confighash.Ref{secretRef("tls"), {Kind: confighash.KindConfigMap, Name: "druid-common"}}

	if err := labeler.Release(ctx, ns, refs); err != nil {
		t.Fatal(err)
	}
	if labelOf(&corev1.Secret{ObjectMeta: tls.ObjectMeta}) != keys.ValueTrue {
		t.Error("Release removed the label of a Secret a workload still consumes")
	}

	if err := c.Delete(ctx, dep); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the workload to leave the cache", func(ctx context.Context) (bool, error) {
		err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(dep), dep.DeepCopyObject().(client.Object))
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if err := labeler.Release(ctx, ns, refs); err != nil {
		t.Fatal(err)
	}
	if got := labelOf(&corev1.Secret{ObjectMeta: tls.ObjectMeta}); got != "" {
		t.Errorf("the unconsumed external Secret still has the watch label %q", got)
	}
	if got := labelOf(&corev1.ConfigMap{ObjectMeta: childCM.(*corev1.ConfigMap).ObjectMeta}); got != keys.ValueTrue {
		t.Error("Release removed the watch label a builder set on its own ConfigMap")
	}
}
