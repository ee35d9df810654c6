package store_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"

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
