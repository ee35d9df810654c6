package bench

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
)

// applyAlways is baseline (b): a server-side apply of every child, with a
// field owner and forced ownership, on every reconcile, without looking at
// what is there first. The API server turns an apply that changes nothing
// into a no-op (no new resourceVersion, no watch event), so the cost is the
// requests themselves. Like baseline (a) it does not prune.
type applyAlways struct{}

func (applyAlways) ScopedCache() bool { return false }

func (applyAlways) Name() string { return "ssa-always" }

func (applyAlways) Title() string {
	return "server-side apply of every child on every reconcile"
}

func (a applyAlways) CacheOptions(bool) (cache.Options, error) { return defaultCache(a.Name()), nil }

func (a applyAlways) Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error) {
	r := &ssaReconciler{
		client:     mgr.GetClient(),
		scheme:     mgr.GetScheme(),
		recorder:   mgr.GetEventRecorder(FieldOwner(a.Name())),
		fieldOwner: FieldOwner(a.Name()),
	}
	b := ctrl.NewControllerManagedBy(mgr).Named(a.Name()).For(&testapiv1.Cluster{})
	for _, k := range childKinds() {
		b = b.Owns(k)
	}
	if err := b.Complete(wrap(r)); err != nil {
		return nil, fmt.Errorf("%s: set up controller: %w", a.Name(), err)
	}
	return r, nil
}

type ssaReconciler struct {
	client     client.Client
	scheme     *runtime.Scheme
	recorder   events.EventRecorder
	fieldOwner string
}

func (r *ssaReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cr, found, err := getCluster(ctx, r.client, req)
	if err != nil || !found {
		return reconcile.Result{}, err
	}
	var errs []error
	for _, nt := range Desired(cr, r.fieldOwner, RolloutTemplateAnnotation) {
		for _, desired := range nt.Objects() {
			if err := r.apply(ctx, cr, desired); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", kindOf(desired), desired.GetName(), err))
			}
		}
	}
	return reconcile.Result{}, errors.Join(errs...)
}

func (r *ssaReconciler) apply(ctx context.Context, cr *testapiv1.Cluster, desired client.Object) error {
	if err := controllerutil.SetControllerReference(cr, desired, r.scheme); err != nil {
		return err
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(desired)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	u := &unstructured.Unstructured{Object: content}
	// The typed structs serialise a null creationTimestamp and an empty
	// status; neither belongs in an apply configuration.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")

	// The cached copy only serves to tell a change from a no-op for the
	// event; the apply itself does not depend on it.
	before, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return errNotBenchChild
	}
	beforeVersion := ""
	switch err := r.client.Get(ctx, client.ObjectKeyFromObject(desired), before); {
	case err == nil:
		beforeVersion = before.GetResourceVersion()
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("read cached copy: %w", err)
	}
	if err := r.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(r.fieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	switch after := u.GetResourceVersion(); {
	case beforeVersion == "":
		r.recorder.Eventf(cr, desired, corev1.EventTypeNormal, "Created", "Apply", "%s %s created", kindOf(desired), desired.GetName())
	case after != "" && after != beforeVersion:
		r.recorder.Eventf(cr, desired, corev1.EventTypeNormal, "Updated", "Apply", "%s %s updated", kindOf(desired), desired.GetName())
	}
	return nil
}
