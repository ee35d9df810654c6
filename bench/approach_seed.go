package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// seedRequeue is the seed pattern's fixed progress-check interval.
const seedRequeue = 10 * time.Second

// seed is baseline (c), the pattern of the library opbuilder started from
// (see the project's reference notes), written afresh here:
//
//   - a SHA-1 of the desired object's JSON goes in an annotation; when the
//     live object's annotation differs, the whole desired object is PUT;
//   - a config change reaches the pods through an environment variable per
//     ConfigMap holding the hash of the desired ConfigMap;
//   - a fresh in-memory store (object name to kind) is filled every
//     reconcile, then ConfigMaps and Deployments are listed by label and the
//     ones not in the store are deleted (the library pruned no other kind);
//   - the Cluster is watched, with a generation-changed predicate, but its
//     children are not; every reconcile asks to be requeued after 10 s.
type seed struct{}

func (seed) ScopedCache() bool { return false }

func (seed) Name() string { return "seed" }

func (seed) Title() string {
	return "seed pattern: desired-hash annotation + full PUT, per-reconcile store, no child watches, RequeueAfter 10s"
}

func (s seed) CacheOptions(bool) (cache.Options, error) { return defaultCache(s.Name()), nil }

func (s seed) Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error) {
	r := &seedReconciler{
		client:     mgr.GetClient(),
		scheme:     mgr.GetScheme(),
		recorder:   mgr.GetEventRecorder(FieldOwner(s.Name())),
		fieldOwner: FieldOwner(s.Name()),
	}
	err := ctrl.NewControllerManagedBy(mgr).Named(s.Name()).
		For(&testapiv1.Cluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(wrap(r))
	if err != nil {
		return nil, fmt.Errorf("%s: set up controller: %w", s.Name(), err)
	}
	return r, nil
}

type seedReconciler struct {
	client     client.Client
	scheme     *runtime.Scheme
	recorder   events.EventRecorder
	fieldOwner string
}

func (r *seedReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cr, found, err := getCluster(ctx, r.client, req)
	if err != nil || !found {
		return reconcile.Result{}, err
	}
	store := map[string]string{} // name -> kind, rebuilt every reconcile
	var errs []error
	for _, nt := range Desired(cr, r.fieldOwner, RolloutEnvPerConfigMap) {
		for _, desired := range nt.Objects() {
			store[desired.GetName()] = kindOf(desired)
			if err := r.reconcileChild(ctx, cr, desired); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", kindOf(desired), desired.GetName(), err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	if err := r.prune(ctx, cr, store); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: seedRequeue}, nil
}

func (r *seedReconciler) reconcileChild(ctx context.Context, cr *testapiv1.Cluster, desired client.Object) error {
	if err := controllerutil.SetControllerReference(cr, desired, r.scheme); err != nil {
		return err
	}
	hash, err := sha1JSON(desired)
	if err != nil {
		return err
	}
	desired.SetAnnotations(mergeMap(desired.GetAnnotations(), map[string]string{AnnotationDesiredHash: hash}))

	live, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return errNotBenchChild
	}
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(desired), live); {
	case apierrors.IsNotFound(err):
		if err := r.client.Create(ctx, desired); err != nil {
			return fmt.Errorf("create: %w", err)
		}
		r.recorder.Eventf(cr, desired, corev1.EventTypeNormal, "Created", "Create", "%s %s created", kindOf(desired), desired.GetName())
		return nil
	case err != nil:
		return fmt.Errorf("get: %w", err)
	}
	if live.GetAnnotations()[AnnotationDesiredHash] == hash {
		return nil
	}
	// A full PUT of the desired object: whatever others set is replaced.
	desired.SetResourceVersion(live.GetResourceVersion())
	if err := r.client.Update(ctx, desired); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	r.recorder.Eventf(cr, desired, corev1.EventTypeNormal, "Updated", "Update", "%s %s updated", kindOf(desired), desired.GetName())
	return nil
}

// prune lists ConfigMaps and Deployments by the instance and managed-by
// labels and deletes those whose name is not in the store.
func (r *seedReconciler) prune(ctx context.Context, cr *testapiv1.Cluster, store map[string]string) error {
	sel := client.MatchingLabels{keys.LabelInstance: cr.Name, keys.LabelManagedBy: r.fieldOwner}
	var cms corev1.ConfigMapList
	if err := r.client.List(ctx, &cms, client.InNamespace(cr.Namespace), sel); err != nil {
		return fmt.Errorf("list ConfigMaps: %w", err)
	}
	var deps appsv1.DeploymentList
	if err := r.client.List(ctx, &deps, client.InNamespace(cr.Namespace), sel); err != nil {
		return fmt.Errorf("list Deployments: %w", err)
	}
	var stale []client.Object
	for i := range cms.Items {
		if _, ok := store[cms.Items[i].Name]; !ok {
			stale = append(stale, &cms.Items[i])
		}
	}
	for i := range deps.Items {
		if _, ok := store[deps.Items[i].Name]; !ok {
			stale = append(stale, &deps.Items[i])
		}
	}
	var errs []error
	for _, obj := range stale {
		if err := r.client.Delete(ctx, obj); client.IgnoreNotFound(err) != nil {
			errs = append(errs, fmt.Errorf("prune %s %s: %w", kindOf(obj), obj.GetName(), err))
			continue
		}
		r.recorder.Eventf(cr, obj, corev1.EventTypeNormal, "Deleted", "Delete", "%s %s deleted", kindOf(obj), obj.GetName())
	}
	return errors.Join(errs...)
}
