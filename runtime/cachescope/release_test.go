package cachescope_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// otherOperator is the field owner of a second operator that labels the same
// objects.
const otherOperator = "other-operator"

// labelAs adds the watch label to obj the way a Labeler with the field owner
// manager does: a JSON merge patch of that label, under manager+"-watch".
func labelAs(t *testing.T, c client.Client, obj client.Object, manager string) {
	t.Helper()
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+keys.LabelWatch+`":"`+keys.ValueTrue+`"}}}`))
	if err := c.Patch(t.Context(), obj, patch, client.FieldOwner(manager+cachescope.WatchFieldOwnerSuffix)); err != nil {
		t.Fatalf("label %s as %s: %v", obj.GetName(), manager, err)
	}
}

// coLabelAs makes manager a co-owner of obj's watch label, which is set
// already: a server-side apply of the same value shares the field.
func coLabelAs(t *testing.T, c client.Client, obj client.Object, manager string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Secret")
	u.SetNamespace(obj.GetNamespace())
	u.SetName(obj.GetName())
	u.SetLabels(map[string]string{keys.LabelWatch: keys.ValueTrue})
	if err := c.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(manager+cachescope.WatchFieldOwnerSuffix)); err != nil {
		t.Fatalf("co-label %s as %s: %v", obj.GetName(), manager, err)
	}
}

// userSecret is an external Secret with content, a label and an annotation
// of its own and an owner that is not the operator, all of which a release
// must leave as they are.
func userSecret(ns, name string, issuer *corev1.ConfigMap) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels:      map[string]string{"team": "platform"},
			Annotations: map[string]string{"note": "user's"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: issuer.Name, UID: issuer.UID,
			}},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"k": []byte("v")},
	}
}

// requireUntouched asserts that a released Secret is as the user created it:
// same content, labels, annotations and owners, and no field of the
// Labeler's manager left in managedFields.
func requireUntouched(t *testing.T, c client.Client, want *corev1.Secret) {
	t.Helper()
	var got corev1.Secret
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(want), &got); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got.Labels, want.Labels) {
		t.Errorf("%s: labels %v, want %v", want.Name, got.Labels, want.Labels)
	}
	if !maps.Equal(got.Annotations, want.Annotations) || got.Type != want.Type ||
		!maps.EqualFunc(got.Data, want.Data, slices.Equal) || !slices.Equal(got.OwnerReferences, want.OwnerReferences) {
		t.Errorf("%s changed beyond its watch label: %+v", want.Name, got.ObjectMeta)
	}
	for _, mf := range got.ManagedFields {
		if mf.Manager == fieldOwner+cachescope.WatchFieldOwnerSuffix && strings.Contains(mf.FieldsV1.GetRawString(), keys.LabelWatch) {
			t.Errorf("%s: the watch manager still owns %s", want.Name, mf.FieldsV1.GetRawString())
		}
	}
}

func watchLabelOf(t *testing.T, c client.Client, ns, name string) string {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	return s.Labels[keys.LabelWatch]
}

// ReleaseUnused finds the labels this Labeler set on objects nothing consumes
// any more and removes them, and only them: a consumed object, an object the
// caller is about to consume, an object another operator labelled (alone or
// as well) and the operator's own children keep theirs. Afterwards it makes no
// request at all.
func TestLabelerReleaseUnused(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	cr := owner(t, c, ns, "druid")
	issuer := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "issuer", Namespace: ns}}
	create(t, c, issuer)

	consumed := userSecret(ns, "consumed", issuer)
	unused := userSecret(ns, "unused", issuer)
	kept := userSecret(ns, "kept", issuer)
	shared := userSecret(ns, "shared", issuer)
	theirs := userSecret(ns, "theirs", issuer)
	childCM := own(t, cr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "druid-common"}})
	unmounted := own(t, cr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "druid-unmounted"}})
	dep := own(t, cr, workload("broker", "consumed", "druid-common"))
	create(t, c, consumed, unused, kept, shared, theirs, childCM, unmounted, dep)
	unusedAsCreated := unused.DeepCopy()
	for _, s := range []*corev1.Secret{consumed, unused, kept, shared} {
		labelAs(t, c, s, fieldOwner)
	}
	coLabelAs(t, c, shared, otherOperator)
	labelAs(t, c, theirs, otherOperator)

	mgr, _ := startManager(t, tc.Config)
	eventually(t, "the labelled objects and the workload in the cache", func(ctx context.Context) (bool, error) {
		var secrets corev1.SecretList
		var cms corev1.ConfigMapList
		var deps appsv1.DeploymentList
		for _, l := range []client.ObjectList{&secrets, &cms, &deps} {
			if err := mgr.GetCache().List(ctx, l, client.InNamespace(ns)); err != nil {
				return false, err
			}
		}
		return len(secrets.Items) == 5 && len(cms.Items) == 2 && len(deps.Items) == 1, nil
	})
	counter := testcluster.NewRequestCounter()
	counted, err := client.New(counter.Wrap(tc.Config), client.Options{Scheme: testScheme, Cache: &client.CacheOptions{Reader: mgr.GetCache()}})
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

	keep := []confighash.Ref{secretRef("kept")}
	if err := labeler.ReleaseUnused(ctx, ns, keep); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"consumed": keys.ValueTrue, "unused": "", "kept": keys.ValueTrue, "shared": keys.ValueTrue, "theirs": keys.ValueTrue,
	} {
		if got := watchLabelOf(t, c, ns, name); got != want {
			t.Errorf("Secret %s: watch label %q after ReleaseUnused, want %q", name, got, want)
		}
	}
	for _, own := range []client.Object{childCM, unmounted} {
		var cm corev1.ConfigMap
		if err := c.Get(ctx, client.ObjectKeyFromObject(own), &cm); err != nil {
			t.Fatal(err)
		}
		if cm.Labels[keys.LabelWatch] != keys.ValueTrue {
			t.Errorf("ReleaseUnused removed the watch label a builder set on its own ConfigMap %s", own.GetName())
		}
	}
	requireUntouched(t, c, unusedAsCreated)
	t.Logf("first ReleaseUnused: requests %v", counter.Snapshot())
	for key := range counter.Snapshot() {
		if strings.Contains(key, "/configmaps/druid-") {
			t.Errorf("ReleaseUnused asked the API server about the operator's own ConfigMap: %s", key)
		}
	}
	if got := counter.Writes(); got != 1 {
		t.Errorf("first ReleaseUnused: %d write requests, want 1 (the release): %v", got, counter.WriteRequests())
	}

	// Steady state: nothing left to release, and what belongs to another
	// operator is not read again.
	eventually(t, "the released Secret to leave the cache", func(ctx context.Context) (bool, error) {
		err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(unused), &corev1.Secret{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	counter.Reset()
	for range 2 {
		if err := labeler.ReleaseUnused(ctx, ns, keep); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(counter.Snapshot()); n != 0 {
		t.Errorf("steady-state ReleaseUnused made requests: %v", counter.Snapshot())
	}

	// Once the other operator's object changes, it is looked at again: one
	// read, no write.
	theirs.Annotations = map[string]string{"note": "rotated"}
	if err := c.Patch(ctx, theirs, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"annotations":{"note":"rotated"}}}`))); err != nil {
		t.Fatal(err)
	}
	rv := theirs.ResourceVersion
	eventually(t, "the changed Secret in the cache", func(ctx context.Context) (bool, error) {
		var s corev1.Secret
		err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(theirs), &s)
		return err == nil && s.ResourceVersion == rv, err
	})
	counter.Reset()
	if err := labeler.ReleaseUnused(ctx, ns, keep); err != nil {
		t.Fatal(err)
	}
	if got, w := counter.Count("GET"), counter.Writes(); got != 1 || w != 0 {
		t.Errorf("after another operator's object changed: %d reads and %d writes, want 1 and 0: %v", got, w, counter.Snapshot())
	}
	if got := watchLabelOf(t, c, ns, "theirs"); got != keys.ValueTrue {
		t.Errorf("another operator's label was removed: %q", got)
	}
}

// laggingCache is a cache that has not seen any workload yet, as one that
// lags behind a workload just created.
type laggingCache struct {
	client.Client
}

func (c laggingCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	switch list.(type) {
	case *appsv1.DeploymentList, *appsv1.StatefulSetList:
		return nil
	}
	return c.Client.List(ctx, list, opts...)
}

// A workload the cache has not seen yet still counts as a consumer: the
// Labeler asks the API server before it unlabels anything. Only the
// operator's own workloads count there (by their managed-by label): a user's
// Deployment that mounts the Secret needs no label from the operator.
func TestLabelerReleaseAsksTheAPIServer(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	cr := owner(t, c, ns, "druid")
	issuer := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "issuer", Namespace: ns}}
	create(t, c, issuer)
	tls := userSecret(ns, "tls", issuer)
	childCM := own(t, cr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "druid-common"}})
	dep := own(t, cr, workload("broker", "tls", "druid-common"))
	users := workload("users-own", "tls", "druid-common")
	users.Namespace = ns
	create(t, c, tls, childCM, dep, users)
	tlsAsCreated := tls.DeepCopy()
	labelAs(t, c, tls, fieldOwner)

	mgr, _ := startManager(t, tc.Config)
	eventually(t, "the labelled Secret in the cache", func(ctx context.Context) (bool, error) {
		err := mgr.GetCache().Get(ctx, client.ObjectKeyFromObject(tls), &corev1.Secret{})
		return err == nil, client.IgnoreNotFound(err)
	})
	labeler, err := cachescope.NewLabeler(laggingCache{mgr.GetClient()}, mgr.GetAPIReader(), fieldOwner)
	if err != nil {
		t.Fatal(err)
	}
	if err := labeler.ReleaseUnused(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	if err := labeler.Release(ctx, ns, []confighash.Ref{secretRef("tls")}); err != nil {
		t.Fatal(err)
	}
	if got := watchLabelOf(t, c, ns, "tls"); got != keys.ValueTrue {
		t.Fatal("the label was released while a workload of the operator the cache had not seen consumes the Secret")
	}

	// The operator's workload goes; the user's own Deployment still mounts
	// the Secret, which does not keep the operator's label.
	if err := c.Delete(ctx, dep); err != nil {
		t.Fatal(err)
	}
	if err := labeler.ReleaseUnused(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	requireUntouched(t, c, tlsAsCreated)
}
