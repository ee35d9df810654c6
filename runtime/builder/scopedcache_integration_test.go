package builder_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// scopedPass is one controller pass as an operator scaffolded with
// runtime/cachescope makes it: the Builder reads through the label-scoped
// cache, the store lists candidates for pruning through it, and writes go to
// the API server.
type scopedPass struct {
	e         *env
	informers cache.Cache
	cached    client.Client
	// apiReader, when set, is given to the Builder with WithAPIReader.
	apiReader client.Reader
}

// newScopedPass starts a cache scoped as runtime/cachescope scopes a
// controller's, for e's namespace, until the test ends. Its requests and
// those of the client reading through it are counted by e.counter.
func newScopedPass(e *env) scopedPass {
	e.t.Helper()
	opts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithManagedBy(fieldOwner), cachescope.WithNamespaces(e.ns))
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Scheme = scheme
	cfg := e.counter.Wrap(cluster.Config)
	informers, err := cache.New(cfg, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	e.t.Cleanup(cancel)
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		e.t.Fatal("cache did not sync")
	}
	cached, err := client.New(cfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: informers}})
	if err != nil {
		e.t.Fatal(err)
	}
	return scopedPass{e: e, informers: informers, cached: cached}
}

// run reconciles objs, then prunes and persists the inventory, with the
// owner as the API server has it now, and returns the results and what the
// store did.
func (s scopedPass) run(objs ...client.Object) ([]builder.Result, store.Result) {
	e := s.e
	e.t.Helper()
	owner := &testv1.Cluster{}
	if err := e.admin.Get(e.ctx, client.ObjectKeyFromObject(e.owner), owner); err != nil {
		e.t.Fatal(err)
	}
	ec, err := eventclient.New(s.cached, e.rec, eventclient.WithOwner(owner))
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := store.New(owner, ec, store.WithKinds(&corev1.ConfigMap{}, &corev1.Secret{}, &appsv1.Deployment{}))
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := builder.New(
		builder.WithClient(s.cached), builder.WithOwner(owner), builder.WithRecorder(e.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
		builder.WithStore(st), builder.WithObjects(objs...), builder.WithAPIReader(s.apiReader), builder.WithExpectations(e.exp),
	)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := b.ReconcileAll(e.ctx)
	if err != nil {
		e.t.Fatalf("ReconcileAll: %v", err)
	}
	pruned, err := st.Reconcile(e.ctx)
	if err != nil {
		e.t.Fatalf("store: %v", err)
	}
	return res, pruned
}

// TestLabelScopedCache runs the Builder and the store on the manager cache
// runtime/cachescope configures, which holds ConfigMaps and Secrets only
// when they carry the watch label. The Builder's own ConfigMaps and Secrets
// must carry it: without it the Builder would never find them in the cache
// (and apply them on every pass), and the store would never see them to
// prune them.
func TestLabelScopedCache(t *testing.T) {
	e := newEnv(t)
	pass := newScopedPass(e)
	informers := pass.informers

	// A ConfigMap the operator did not make stays out of the cache: the
	// scope is real.
	unrelated := configMap("unrelated", map[string]string{"k": "v"})
	unrelated.Namespace = e.ns
	if err := e.admin.Create(e.ctx, unrelated); err != nil {
		t.Fatal(err)
	}

	desired := func(withExtra bool) []client.Object {
		objs := desiredSet("nginx:1.27", ptr.To[int32](2), "info")
		if withExtra {
			objs = append(objs, configMap("extra", map[string]string{"k": "v"}))
		}
		return objs
	}
	pass.run(desired(true)...)

	// (a) The Builder's ConfigMaps and Secret carry the watch label …
	var config []client.Object
	for _, o := range desired(true) {
		if _, ok := o.(*appsv1.Deployment); ok {
			continue
		}
		o.SetNamespace(e.ns)
		e.get(o)
		if v := o.GetLabels()[keys.LabelWatch]; v != keys.ValueTrue {
			t.Fatalf("%T %s: label %s=%q, want %q: the scoped cache will never hold it", o, o.GetName(), keys.LabelWatch, v, keys.ValueTrue)
		}
		config = append(config, o)
	}
	// … and so are in the scoped cache.
	e.eventually("the cache to see every child as the API server has it", func(ctx context.Context) (bool, error) {
		return cacheCaughtUp(ctx, e.admin, informers, desired(true), e.ns)
	})
	for _, o := range config {
		if err := informers.Get(e.ctx, client.ObjectKeyFromObject(o), o.DeepCopyObject().(client.Object)); err != nil {
			t.Errorf("%T %s is not in the scoped cache: %v", o, o.GetName(), err)
		}
	}
	if err := informers.Get(e.ctx, client.ObjectKeyFromObject(unrelated), &corev1.ConfigMap{}); !apierrors.IsNotFound(err) {
		t.Errorf("a ConfigMap without the watch label: %v from the scoped cache, want NotFound", err)
	}

	// (b) A steady-state pass through the cache writes nothing, not even
	// the inventory, and reads no child from the API server.
	e.counter.Reset()
	e.rec.Take()
	res, _ := pass.run(desired(true)...)
	for _, r := range res {
		if r.Operation != builder.OperationUnchanged {
			t.Errorf("%T %s: %s, want Unchanged", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("steady-state pass through the scoped cache made %d write requests: %v", n, e.counter.WriteRequests())
	}
	// (Lists and watches share a path; a child read has its name in it.)
	for req, n := range e.counter.Snapshot() {
		for _, o := range desired(true) {
			if strings.Contains(req, "/namespaces/"+e.ns+"/") && strings.HasSuffix(req, "/"+o.GetName()) {
				t.Errorf("%s x%d: a steady pass must read from the cache", req, n)
			}
		}
	}
	if evs := e.rec.Take(); len(evs) != 0 {
		t.Errorf("steady-state pass recorded events: %+v", evs)
	}

	// (c) The store, listing through the scoped cache, sees the Builder's
	// ConfigMap that is no longer desired and prunes it.
	_, pruned := pass.run(desired(false)...)
	var names []string
	for _, id := range pruned.Pruned {
		names = append(names, id.Kind+"/"+id.Name)
	}
	if !slices.Equal(names, []string{"ConfigMap/extra"}) {
		t.Errorf("pruned %v, want [ConfigMap/extra]", names)
	}
	err := e.admin.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: "extra"}, &corev1.ConfigMap{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the pruned ConfigMap: %v, want NotFound", err)
	}
	e.get(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: e.ns}})
	e.get(unrelated)
}
