package cachescope_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/internal/testapi/crd"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

const (
	fieldOwner = "cachescope-test"
	// watchedSecret is the Secret the test reconciler reads on every pass.
	watchedSecret = "tls"
)

var (
	testScheme = testenv.Scheme()
	shared     = testenv.NewShared(func() ([]testcluster.Option, error) {
		return []testcluster.Option{testcluster.WithCRDs(crd.Dir()), testcluster.WithScheme(testScheme)}, nil
	})
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(shared.Main(m))
}

func cluster(t *testing.T) *testcluster.Cluster {
	t.Helper()
	return shared.Cluster(t)
}

func namespace(t *testing.T, c client.Client) string {
	t.Helper()
	return testenv.Namespace(t, c, "scope-")
}

func create(t *testing.T, c client.Client, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
}

func owner(t *testing.T, c client.Client, ns, name string) *testv1.Cluster {
	t.Helper()
	cr := &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	create(t, c, cr)
	return cr
}

// own labels obj as a child of cr the way runtime/builder does, including
// the watch label on ConfigMaps and Secrets.
func own(t *testing.T, cr *testv1.Cluster, obj client.Object) client.Object {
	t.Helper()
	obj.SetNamespace(cr.Namespace)
	l := keys.Merge(obj.GetLabels(), keys.StandardLabels("test", cr.Name, "broker", fieldOwner), keys.OwnerLabels(cr.UID))
	switch obj.(type) {
	case *corev1.ConfigMap, *corev1.Secret:
		l[keys.LabelWatch] = keys.ValueTrue
	}
	obj.SetLabels(l)
	if err := controllerutil.SetControllerReference(cr, obj, testScheme); err != nil {
		t.Fatal(err)
	}
	return obj
}

// workload returns a Deployment whose pods mount the given Secret and read
// the given ConfigMap through envFrom.
func workload(name, secret, configMap string) *appsv1.Deployment {
	sel := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "main", Image: "example.invalid/app:1",
						EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap}}}},
					}},
					Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}},
				},
			},
		},
	}
}

// requests is the test controller's reconciler. It counts requests per owner
// and remembers, per owner, the resourceVersion of the Secret named watched
// that it read from the cache in its latest reconcile: a reconcile that saw
// a given version ran after that version reached the cache.
type requests struct {
	reader  client.Reader
	watched string

	mu   sync.Mutex
	got  map[types.NamespacedName]int
	seen map[types.NamespacedName]string
}

func (r *requests) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var s corev1.Secret
	err := r.reader.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: r.watched}, &s)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[req.NamespacedName]++
	r.seen[req.NamespacedName] = s.ResourceVersion
	return reconcile.Result{}, nil
}

func (r *requests) count(nn types.NamespacedName) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[nn]
}

func (r *requests) seenVersion(nn types.NamespacedName) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[nn]
}

// startManager starts a manager on cfg with the cache options of the
// package, its indexes, and a controller for the test Cluster that Owns
// Deployments and watches referenced configuration. It returns once the
// cache has synced.
func startManager(t *testing.T, cfg *rest.Config, opts ...cachescope.Option) (manager.Manager, *requests) {
	t.Helper()
	cacheOpts, err := cachescope.Options(&testv1.Cluster{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:     testScheme,
		Cache:      cacheOpts,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cachescope.SetupIndexes(t.Context(), mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	rec := &requests{reader: mgr.GetClient(), watched: watchedSecret,
		got: map[types.NamespacedName]int{}, seen: map[types.NamespacedName]string{}}
	b := ctrl.NewControllerManagedBy(mgr).For(&testv1.Cluster{}).Owns(&appsv1.Deployment{}).Owns(&corev1.ConfigMap{})
	if err := cachescope.WatchReferencedConfig(b, mgr, &testv1.Cluster{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Complete(rec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	syncCtx, cancelSync := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancelSync()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		t.Fatal("cache did not sync")
	}
	return mgr, rec
}
