package bench

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
)

// Approach is one way of reconciling the bench node types, run as a
// controller in a manager of its own.
type Approach interface {
	// Name is the approach's short name: the value of LabelApproach on its
	// Clusters and, prefixed with "bench-", its field owner.
	Name() string
	// Title is a one-line description for the report.
	Title() string
	// CacheOptions returns the manager's cache options. scoped asks for the
	// runtime's label-scoped options where the approach has them.
	CacheOptions(scoped bool) (cache.Options, error)
	// ScopedCache reports whether CacheOptions(true) differs from the
	// default cache, that is, whether the approach has label-scoped options.
	ScopedCache() bool
	// Setup registers the approach's controller with mgr, running
	// wrap(reconciler), and returns the unwrapped reconciler, which the
	// benchmark also calls directly for forced no-op reconciles.
	Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error)
}

// FieldOwner is the field owner (and managed-by label) of an approach.
func FieldOwner(approach string) string { return "bench-" + approach }

// Approaches returns every approach this build knows, in report order.
func Approaches() []Approach {
	out := []Approach{
		&createOrUpdate{name: "cou-full"},
		&createOrUpdate{name: "cou-careful", careful: true},
		&applyAlways{},
		&seed{},
	}
	return append(out, runtimeApproaches()...)
}

// ApproachByName finds an approach of Approaches by name.
func ApproachByName(name string) (Approach, error) {
	var names []string
	for _, a := range Approaches() {
		if a.Name() == name {
			return a, nil
		}
		names = append(names, a.Name())
	}
	return nil, fmt.Errorf("bench: unknown approach %q (known: %v)", name, names)
}

// defaultCache is a manager's default cache, holding only the Clusters of
// one approach.
func defaultCache(approach string) cache.Options {
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&testapiv1.Cluster{}: {Label: approachSelector(approach)},
	}}
}

func approachSelector(approach string) labels.Selector {
	return labels.SelectorFromSet(labels.Set{LabelApproach: approach})
}

// restrictClusters makes opts hold only the Clusters of approach, replacing
// whatever entry opts had for the Cluster type.
func restrictClusters(opts cache.Options, approach string) cache.Options {
	byObject := map[client.Object]cache.ByObject{}
	for obj, by := range opts.ByObject {
		if _, isCluster := obj.(*testapiv1.Cluster); isCluster {
			continue
		}
		byObject[obj] = by
	}
	byObject[&testapiv1.Cluster{}] = cache.ByObject{Label: approachSelector(approach)}
	opts.ByObject = byObject
	return opts
}

// childKinds are the kinds of children every approach writes.
func childKinds() []client.Object {
	return []client.Object{&corev1.ConfigMap{}, &appsv1.Deployment{}, &corev1.Service{}, &policyv1.PodDisruptionBudget{}}
}

// getCluster reads the Cluster of req; found is false when it is gone.
func getCluster(ctx context.Context, c client.Reader, req reconcile.Request) (cr *testapiv1.Cluster, found bool, err error) {
	cr = &testapiv1.Cluster{}
	if err := c.Get(ctx, req.NamespacedName, cr); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("get cluster %s: %w", req.NamespacedName, err)
	}
	return cr, true, nil
}

// kindOf names the kind of one of the bench children.
func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *corev1.ConfigMap:
		return "ConfigMap"
	case *appsv1.Deployment:
		return "Deployment"
	case *corev1.Service:
		return "Service"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	default:
		return fmt.Sprintf("%T", obj)
	}
}

// errNotBenchChild is returned for an object of a kind the bench does not
// write.
var errNotBenchChild = errors.New("not a bench child kind")
