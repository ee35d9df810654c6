package builder_test

import (
	"context"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
)

// TestSteadyStateFromTheCache runs the Builder as a controller does: reads
// from an informer cache, writes to the API server. Once the cache has seen
// the Builder's writes, a pass makes no request about the children at all.
func TestSteadyStateFromTheCache(t *testing.T) {
	e := newEnv(t)
	cfg := e.counter.Wrap(cluster.Config)
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{e.ns: {}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		t.Fatal("cache did not sync")
	}
	cached, err := client.New(cfg, client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: c}})
	if err != nil {
		t.Fatal(err)
	}
	newBuilder := func() *builder.Builder {
		b, err := builder.New(
			builder.WithClient(cached), builder.WithOwner(e.owner), builder.WithRecorder(e.rec),
			builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"), builder.WithComponent("broker"),
			builder.WithObjects(allKinds()...),
		)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := newBuilder().ReconcileAll(ctx); err != nil {
		t.Fatal(err)
	}
	// In a controller the next pass is triggered by the watch event that
	// brings the write into the cache; wait for the cache likewise.
	e.eventually("the cache to see every child as the API server has it", func(ctx context.Context) (bool, error) {
		return cacheCaughtUp(ctx, e.admin, c, allKinds(), e.ns)
	})

	e.counter.Reset()
	e.rec.Take()
	res, err := newBuilder().ReconcileAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Operation != builder.OperationUnchanged {
			t.Errorf("%T %s: %s, want Unchanged", r.Object, r.Object.GetName(), r.Operation)
		}
	}
	if n := e.counter.Writes(); n != 0 {
		t.Errorf("%d write requests: %v", n, e.counter.WriteRequests())
	}
	for req, n := range e.counter.Snapshot() {
		if strings.Contains(req, "/namespaces/"+e.ns+"/") {
			t.Errorf("%s x%d: a steady pass must read from the cache", req, n)
		}
	}
	if evs := e.rec.Take(); len(evs) != 0 {
		t.Errorf("events recorded: %+v", evs)
	}
}

// cacheCaughtUp reports whether the cache c holds every object of objs (in
// namespace ns) at the resourceVersion the API server, read through admin,
// has.
func cacheCaughtUp(ctx context.Context, admin client.Reader, c client.Reader, objs []client.Object, ns string) (bool, error) {
	for _, o := range objs {
		o.SetNamespace(ns)
		fromAPI := o.DeepCopyObject().(client.Object)
		if err := admin.Get(ctx, client.ObjectKeyFromObject(o), fromAPI); err != nil {
			return false, err
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(o), o); err != nil || o.GetResourceVersion() != fromAPI.GetResourceVersion() {
			return false, client.IgnoreNotFound(err)
		}
	}
	return true, nil
}
