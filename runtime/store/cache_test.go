package store_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// urlRecorder remembers the URL of every request made through a config.
type urlRecorder struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (r *urlRecorder) wrap(cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	out.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripper(func(req *http.Request) (*http.Response, error) {
			r.mu.Lock()
			r.urls = append(r.urls, req.URL)
			r.mu.Unlock()
			return rt.RoundTrip(req)
		})
	})
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// In a controller the store lists through the manager's label-scoped cache.
// Every list and watch the cache makes for the children's kinds carries the
// owner label selector: no kind is ever listed in full.
func TestPruneThroughScopedCache(t *testing.T) {
	e := newEnv(t)
	tc := cluster(t)
	ctx := t.Context()
	cr := e.owner("druid")
	broker := e.nodeType(cr, "broker")
	historical := e.nodeType(cr, "historical")
	for _, o := range append(slices.Clone(broker), historical...) {
		if _, ok := o.(*corev1.ConfigMap); ok { // as runtime/builder labels its ConfigMaps
			o.SetLabels(keys.Merge(o.GetLabels(), map[string]string{keys.LabelWatch: keys.ValueTrue}))
		}
	}
	e.create(broker...)
	e.create(historical...)
	e.mustPass(cr, e.eventClient(e.c), append(slices.Clone(broker), historical...))

	opts, err := cachescope.Options(&testv1.Cluster{})
	if err != nil {
		t.Fatal(err)
	}
	opts.Scheme = testScheme
	rec := &urlRecorder{}
	informers, err := cache.New(rec.wrap(tc.Config), opts)
	if err != nil {
		t.Fatal(err)
	}
	cacheCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = informers.Start(cacheCtx) }()
	if !informers.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}

	res := e.mustPass(e.reread(cr), e.eventClient(e.c), broker, store.WithReader(informers))
	e.requireGone(historical...)
	e.requireExists(broker...)
	if got, want := idStrings(res.Pruned), e.ids(historical...); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.urls) == 0 {
		t.Fatal("the cache made no requests")
	}
	listed := map[string]int{}
	for _, u := range rec.urls {
		resource := u.Path[strings.LastIndex(u.Path, "/")+1:]
		sel := u.Query().Get("labelSelector")
		switch resource {
		case "configmaps":
			if !strings.Contains(sel, keys.LabelWatch) {
				t.Errorf("ConfigMaps listed without the watch label selector: %s", u)
			}
		case "deployments", "services", "poddisruptionbudgets":
			if !strings.Contains(sel, keys.LabelOwnerUID) {
				t.Errorf("listed without the owner label selector: %s", u)
			}
		default:
			continue // discovery, and the owner type (cached in full on purpose)
		}
		listed[resource]++
	}
	for _, r := range []string{"configmaps", "deployments", "services", "poddisruptionbudgets"} {
		if listed[r] == 0 {
			t.Errorf("the cache never listed %s; the store did not read through it", r)
		}
	}
}

// With the owner index (cachescope.SetupIndexes and WithOwnerIndex) the store
// looks each kind's children up in the cache instead of matching the owner
// label of every cached object of the kind: it prunes and keeps the same
// children, and another CR's children in the namespace stay untouched. Told
// of an index the cache does not have, the prune fails and deletes nothing.
func TestPruneThroughOwnerIndex(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cr, other := e.owner("druid"), e.owner("pinot")
	broker, historical := e.nodeType(cr, "broker"), e.nodeType(cr, "historical")
	neighbour := e.nodeType(other, "server")
	for _, objs := range [][]client.Object{broker, historical, neighbour} {
		for _, o := range objs {
			if _, ok := o.(*corev1.ConfigMap); ok { // as runtime/builder labels its ConfigMaps
				o.SetLabels(keys.Merge(o.GetLabels(), map[string]string{keys.LabelWatch: keys.ValueTrue}))
			}
		}
		e.create(objs...)
	}
	ec := e.eventClient(e.c)
	e.mustPass(cr, ec, append(slices.Clone(broker), historical...))
	e.mustPass(other, ec, neighbour)
	before := e.resourceVersions(neighbour)

	childKinds := []client.Object{&corev1.ConfigMap{}, &appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}}

	unindexed := e.startCache(func(cache.Cache) error { return nil })
	if _, err := e.pass(e.reread(cr), ec, broker, store.WithReader(unindexed), store.WithOwnerIndex(childKinds...)); err == nil {
		t.Error("a prune through an owner index the cache does not have succeeded")
	}
	e.requireExists(historical...)

	informers := e.startCache(func(c cache.Cache) error { return cachescope.SetupIndexes(ctx, c, childKinds...) })
	res := e.mustPass(e.reread(cr), ec, broker, store.WithReader(informers), store.WithOwnerIndex(childKinds...))
	e.requireGone(historical...)
	e.requireExists(broker...)
	if got, want := idStrings(res.Pruned), e.ids(historical...); !slices.Equal(got, want) {
		t.Errorf("Result.Pruned\n got %q\nwant %q", got, want)
	}
	if after := e.resourceVersions(neighbour); !maps.Equal(before, after) {
		t.Errorf("another CR's children changed: resourceVersions %v, then %v", before, after)
	}
}

// startCache starts a label-scoped cache of the test's cluster, with the
// indexes setup registers, and waits for it to sync.
func (e *env) startCache(setup func(cache.Cache) error) cache.Cache {
	e.t.Helper()
	opts, err := cachescope.Options(&testv1.Cluster{})
	if err != nil {
		e.t.Fatal(err)
	}
	opts.Scheme = testScheme
	informers, err := cache.New(cluster(e.t).Config, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := setup(informers); err != nil {
		e.t.Fatal(err)
	}
	ctx, stop := context.WithCancel(e.t.Context())
	e.t.Cleanup(stop)
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(e.t.Context()) {
		e.t.Fatal("cache did not sync")
	}
	return informers
}

// resourceVersions returns each object's resourceVersion by kind and name,
// as the API server has it now.
func (e *env) resourceVersions(objs []client.Object) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		cur := o.DeepCopyObject().(client.Object)
		if err := e.c.Get(e.t.Context(), client.ObjectKeyFromObject(o), cur); err != nil {
			e.t.Fatal(err)
		}
		out[fmt.Sprintf("%T/%s", o, o.GetName())] = cur.GetResourceVersion()
	}
	return out
}
