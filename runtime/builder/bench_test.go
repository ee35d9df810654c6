package builder_test

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/cachescope"
	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
)

// benchNodeTypes is how many node types BenchmarkReconcileNoop reconciles,
// as the largest Cluster of the runtime/internal/bench CPU profile.
const benchNodeTypes = 16

// nodeTypeObjects returns the children of node type i as an operator builds
// them on every pass: a ConfigMap, a Deployment consuming it (so the config
// hash is computed), a Service and a PodDisruptionBudget.
func nodeTypeObjects(i int) []client.Object {
	name := fmt.Sprintf("nt%d", i)
	sel := map[string]string{"app.kubernetes.io/instance": "demo", "app.kubernetes.io/component": name}
	meta := func(n string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: n, Labels: map[string]string{"app.kubernetes.io/component": name}}
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: meta(name + "-config"),
		Data:       map[string]string{"runtime.properties": fmt.Sprintf("druid.node=%s\ndruid.port=8080\n", name)},
	}
	dep := &appsv1.Deployment{
		ObjectMeta: meta(name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: sel},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:         "main",
						Image:        "nginx:1.27",
						Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
						VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/demo"}},
					}},
					Volumes: []corev1.Volume{{
						Name: "config",
						VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
						}},
					}},
				},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: meta(name),
		Spec: corev1.ServiceSpec{
			Selector: sel,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: meta(name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: sel},
		},
	}
	return []client.Object{cm, dep, svc, pdb}
}

func benchObjects() []client.Object {
	var objs []client.Object
	for i := range benchNodeTypes {
		objs = append(objs, nodeTypeObjects(i)...)
	}
	return objs
}

// BenchmarkReconcileNoop measures a steady-state pass as a controller makes
// it: a new Builder over 16 node types' children (64 objects, rebuilt every
// pass), reading from a label-scoped informer cache (runtime/cachescope)
// that has caught up with every child, so the pass writes nothing.
//
// The sub-benchmarks differ only in the cross-pass memory: "expectations"
// shares one builder.Expectations between passes, as runtime/orchestrate
// does; "none" gives every pass a Builder without it, so every pass compares
// every child in full.
//
//	go test -run x -bench ReconcileNoop -benchmem ./builder/
func BenchmarkReconcileNoop(b *testing.B) {
	e := newBenchEnv(b)
	b.Run("none", func(b *testing.B) { e.run(b, nil) })
	b.Run("expectations", func(b *testing.B) { e.run(b, builder.NewExpectations()) })
}

type benchEnv struct {
	ctx    context.Context
	owner  *testv1.Cluster
	cached client.Client
	env    *env
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	e := newEnv(b)
	// All namespaces, as cachescope.Options caches by default and as the
	// runtime/internal/bench operators run. (With WithNamespaces,
	// controller-runtime's multi-namespace cache asks the REST mapper
	// whether the kind is namespaced on every read, which would dominate
	// this benchmark.)
	opts, err := cachescope.Options(&testv1.Cluster{}, cachescope.WithManagedBy(fieldOwner))
	if err != nil {
		b.Fatal(err)
	}
	opts.Scheme = scheme
	c, err := cache.New(cluster.Config, opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	b.Cleanup(cancel)
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		b.Fatal("cache did not sync")
	}
	cached, err := client.New(e.counter.Wrap(cluster.Config), client.Options{Scheme: scheme, Cache: &client.CacheOptions{Reader: c}})
	if err != nil {
		b.Fatal(err)
	}
	be := &benchEnv{ctx: ctx, owner: e.owner, cached: cached, env: e}
	if _, err := be.builder(b, nil).ReconcileAll(ctx); err != nil {
		b.Fatal(err)
	}
	e.eventually("the cache to see every child as the API server has it", func(ctx context.Context) (bool, error) {
		return cacheCaughtUp(ctx, e.admin, c, benchObjects(), e.ns)
	})
	return be
}

func (be *benchEnv) builder(b *testing.B, exp *builder.Expectations) *builder.Builder {
	b.Helper()
	bl, err := builder.New(
		builder.WithClient(be.cached), builder.WithOwner(be.owner), builder.WithRecorder(be.env.rec),
		builder.WithFieldOwner(fieldOwner), builder.WithApp("demo-app"),
		builder.WithObjects(benchObjects()...),
		builder.WithExpectations(exp),
	)
	if err != nil {
		b.Fatal(err)
	}
	return bl
}

func (be *benchEnv) run(b *testing.B, exp *builder.Expectations) {
	be.env.counter.Reset()
	b.ReportAllocs()
	for b.Loop() {
		res, err := be.builder(b, exp).ReconcileAll(be.ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Operation != builder.OperationUnchanged {
				b.Fatalf("%T %s: %s, want Unchanged", r.Object, r.Object.GetName(), r.Operation)
			}
		}
	}
	b.ReportMetric(float64(be.env.counter.Writes())/float64(b.N), "writes/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchNodeTypes, "ns/nodetype")
}
