package cachescope_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/confighash"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, error)) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 2*time.Minute, true, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func cachedNames(t *testing.T, r client.Reader, list client.ObjectList, opts ...client.ListOption) []string {
	t.Helper()
	if err := r.List(t.Context(), list, opts...); err != nil {
		t.Fatal(err)
	}
	var out []string
	switch l := list.(type) {
	case *corev1.ConfigMapList:
		for _, o := range l.Items {
			out = append(out, o.Namespace+"/"+o.Name)
		}
	case *corev1.SecretList:
		for _, o := range l.Items {
			out = append(out, o.Namespace+"/"+o.Name)
		}
	case *appsv1.DeploymentList:
		for _, o := range l.Items {
			out = append(out, o.Namespace+"/"+o.Name)
		}
	case *testv1.ClusterList:
		for _, o := range l.Items {
			out = append(out, o.Namespace+"/"+o.Name)
		}
	}
	slices.Sort(out)
	return out
}

// onlyNamespaces lists through Reader and drops items outside namespaces.
type onlyNamespaces struct {
	client.Reader
	namespaces []string
}

func (o onlyNamespaces) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := o.Reader.List(ctx, list, opts...); err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	var keep []runtime.Object
	for _, it := range items {
		if m, ok := it.(metav1.Object); ok && slices.Contains(o.namespaces, m.GetNamespace()) {
			keep = append(keep, it)
		}
	}
	return meta.SetList(list, keep)
}

// externalRefs returns what a workload consumes minus the operator's own
// objects: what a builder hands to Labeler.Watch.
func externalRefs(d *appsv1.Deployment, own ...string) []confighash.Ref {
	var out []confighash.Ref
	for _, r := range confighash.References(&d.Spec.Template.Spec) {
		if !slices.Contains(own, r.Name) {
			out = append(out, r)
		}
	}
	return out
}

// The cache of a manager set up with Options holds the owner type, the
// owner's children and the external Secret a child consumes, and none of the
// hundreds of unrelated ConfigMaps and Secrets around them. Changing the
// external Secret reconciles its consumer's owner.
func TestCacheHoldsOnlyChildrenAndReferencedConfig(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ctx := t.Context()
	ns := namespace(t, c)
	noise := namespace(t, c)

	const unrelated = 150
	for i := range unrelated {
		where := []string{ns, noise}[i%2]
		create(t, c,
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i), Namespace: where,
				Labels: map[string]string{keys.LabelManagedBy: fieldOwner}}, Data: map[string]string{"k": "v"}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i), Namespace: where},
				StringData: map[string]string{"password": "hunter2"}})
	}

	cr := owner(t, c, ns, "druid")
	bystander := owner(t, c, noise, "bystander")
	childCM := own(t, cr, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "druid-common"}, Data: map[string]string{"a": "1"}})
	dep := own(t, cr, workload("broker", "tls", "druid-common")).(*appsv1.Deployment)
	tls := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns, Labels: map[string]string{"team": "platform"}},
		Type: corev1.SecretTypeOpaque, StringData: map[string]string{"tls.crt": "one"}}
	notOurs := workload("not-ours", "tls", "druid-common")
	notOurs.Namespace = ns
	create(t, c, childCM, dep, tls, notOurs)

	mgr, rec := startManager(t, tc.Config, cachescope.WithManagedBy(fieldOwner))
	// Other tests' objects may share the cluster; look at this test's two
	// namespaces, listed cluster-wide from the cache.
	cached := onlyNamespaces{Reader: mgr.GetCache(), namespaces: []string{ns, noise}}

	labeler, err := cachescope.NewLabeler(mgr.GetClient(), mgr.GetAPIReader(), fieldOwner)
	if err != nil {
		t.Fatal(err)
	}
	missing, err := labeler.Watch(ctx, ns, externalRefs(dep, childCM.GetName()))
	if err != nil || len(missing) != 0 {
		t.Fatalf("Watch: missing %v, err %v", missing, err)
	}

	eventually(t, "the labelled external Secret to enter the cache", func(ctx context.Context) (bool, error) {
		return slices.Equal(cachedNames(t, cached, &corev1.SecretList{}, client.InNamespace(ns)), []string{ns + "/tls"}), nil
	})
	if got, want := cachedNames(t, cached, &corev1.ConfigMapList{}), []string{ns + "/druid-common"}; !slices.Equal(got, want) {
		t.Errorf("cached ConfigMaps = %v, want %v", got, want)
	}
	if got, want := cachedNames(t, cached, &appsv1.DeploymentList{}), []string{ns + "/broker"}; !slices.Equal(got, want) {
		t.Errorf("cached Deployments = %v, want %v", got, want)
	}
	if got, want := cachedNames(t, cached, &testv1.ClusterList{}), slices.Sorted(slices.Values([]string{noise + "/bystander", ns + "/druid"})); !slices.Equal(got, want) {
		t.Errorf("cached owners = %v, want every Cluster %v", got, want)
	}
	_ = bystander

	// For scale: an unscoped cache on the same cluster.
	full, err := cache.New(tc.Config, cache.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	fullCtx, stopFull := context.WithCancel(ctx)
	go func() { _ = full.Start(fullCtx) }()
	if !full.WaitForCacheSync(fullCtx) {
		t.Fatal("unscoped cache did not sync")
	}
	fullScoped := onlyNamespaces{Reader: full, namespaces: cached.namespaces}
	fullCMs := cachedNames(t, fullScoped, &corev1.ConfigMapList{})
	fullSecrets := cachedNames(t, fullScoped, &corev1.SecretList{})
	stopFull()
	t.Logf("ConfigMaps cached: scoped %d, unscoped %d; Secrets cached: scoped %d, unscoped %d",
		len(cachedNames(t, cached, &corev1.ConfigMapList{})), len(fullCMs), len(cachedNames(t, cached, &corev1.SecretList{})), len(fullSecrets))

	// Changing the external Secret reconciles the owner of its consumer. A
	// reconcile that read the new version from the cache must have been
	// triggered after the change reached the cache: first wait until the
	// controller has seen the current version, so nothing earlier is pending.
	owner := types.NamespacedName{Namespace: ns, Name: "druid"}
	var live corev1.Secret
	if err := c.Get(ctx, client.ObjectKeyFromObject(tls), &live); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the owner to be reconciled after labelling", func(context.Context) (bool, error) {
		return rec.seenVersion(owner) == live.ResourceVersion, nil
	})
	live.StringData = map[string]string{"tls.crt": "two"}
	if err := c.Update(ctx, &live); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the owner to be reconciled after the Secret changed", func(context.Context) (bool, error) {
		return rec.seenVersion(owner) == live.ResourceVersion, nil
	})
	if n := rec.count(types.NamespacedName{Namespace: noise, Name: "bystander"}); n != 1 {
		t.Errorf("the bystander owner was reconciled %d times, want once (its own create)", n)
	}
}

// The handler maps a ConfigMap or Secret to exactly the owners whose
// workloads consume it, by kind and name.
func TestConfigEventHandlerMapsToConsumingOwners(t *testing.T) {
	tc := cluster(t)
	c := tc.Client
	ns := namespace(t, c)
	druid := owner(t, c, ns, "druid")
	other := owner(t, c, ns, "other")
	create(t, c,
		own(t, druid, workload("druid-broker", "tls", "shared")),
		own(t, other, workload("other-broker", "other-tls", "shared")),
	)
	mgr, _ := startManager(t, tc.Config)
	h, err := cachescope.ConfigEventHandler(mgr.GetClient(), mgr.GetScheme(), &testv1.Cluster{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "both workloads in the cache", func(context.Context) (bool, error) {
		return len(cachedNames(t, mgr.GetCache(), &appsv1.DeploymentList{}, client.InNamespace(ns))) == 2, nil
	})

	enqueued := func(obj client.Object) []string {
		q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
		defer q.ShutDown()
		h.Update(t.Context(), event.UpdateEvent{ObjectOld: obj, ObjectNew: obj}, q)
		var out []string
		for q.Len() > 0 {
			r, _ := q.Get()
			out = append(out, r.Name)
			q.Done(r)
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		obj  client.Object
		want []string
	}{
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns}}, []string{"druid"}},
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "other-tls", Namespace: ns}}, []string{"other"}},
		{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared", Namespace: ns}}, []string{"druid", "other"}},
		{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: ns}}, nil},       // same name, other kind
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "elsewhere"}}, nil}, // same name, other namespace
		{&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unused", Namespace: ns}}, nil},
	} {
		if got := enqueued(tt.obj); !slices.Equal(got, tt.want) {
			t.Errorf("%T %s/%s enqueued %v, want %v", tt.obj, tt.obj.GetNamespace(), tt.obj.GetName(), got, tt.want)
		}
	}
}
