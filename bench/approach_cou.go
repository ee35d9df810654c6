package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
)

// createOrUpdate is baseline (a): controllerutil.CreateOrUpdate per child,
// the controller owning every child kind. With careful unset the mutate
// function assigns the whole desired spec (what most kubebuilder operators
// do); with careful set it assigns only the fields the operator owns, merging
// into lists and maps by name and key. Neither variant prunes: like most
// operators, it leaves a removed node type's children to the garbage
// collector, which only acts when the Cluster itself is deleted.
type createOrUpdate struct {
	name    string
	careful bool
}

func (a *createOrUpdate) ScopedCache() bool { return false }

func (a *createOrUpdate) Name() string { return a.name }

func (a *createOrUpdate) Title() string {
	if a.careful {
		return "controllerutil.CreateOrUpdate, mutate sets only owned fields"
	}
	return "controllerutil.CreateOrUpdate, mutate assigns the whole desired spec"
}

func (a *createOrUpdate) CacheOptions(bool) (cache.Options, error) { return defaultCache(a.name), nil }

func (a *createOrUpdate) Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error) {
	r := &couReconciler{
		client:     mgr.GetClient(),
		scheme:     mgr.GetScheme(),
		recorder:   mgr.GetEventRecorder(FieldOwner(a.name)),
		fieldOwner: FieldOwner(a.name),
		careful:    a.careful,
	}
	b := ctrl.NewControllerManagedBy(mgr).Named(a.name).For(&testapiv1.Cluster{})
	for _, k := range childKinds() {
		b = b.Owns(k)
	}
	if err := b.Complete(wrap(r)); err != nil {
		return nil, fmt.Errorf("%s: set up controller: %w", a.name, err)
	}
	return r, nil
}

type couReconciler struct {
	client     client.Client
	scheme     *runtime.Scheme
	recorder   events.EventRecorder
	fieldOwner string
	careful    bool
}

func (r *couReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cr, found, err := getCluster(ctx, r.client, req)
	if err != nil || !found {
		return reconcile.Result{}, err
	}
	var errs []error
	for _, nt := range Desired(cr, r.fieldOwner, RolloutTemplateAnnotation) {
		for _, desired := range nt.Objects() {
			if err := r.reconcileChild(ctx, cr, desired); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return reconcile.Result{}, errors.Join(errs...)
}

func (r *couReconciler) reconcileChild(ctx context.Context, cr *testapiv1.Cluster, desired client.Object) error {
	live, ok := desired.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("copy %s: %w", kindOf(desired), errNotBenchChild)
	}
	op, err := controllerutil.CreateOrUpdate(ctx, r.client, live, func() error {
		live.SetLabels(mergeMap(live.GetLabels(), desired.GetLabels()))
		if err := r.mutate(live, desired); err != nil {
			return err
		}
		return controllerutil.SetControllerReference(cr, live, r.scheme)
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", kindOf(desired), desired.GetName(), err)
	}
	if op != controllerutil.OperationResultNone {
		r.recorder.Eventf(cr, live, corev1.EventTypeNormal, string(op), "Reconcile", "%s %s %s", kindOf(desired), desired.GetName(), op)
	}
	return nil
}

func (r *couReconciler) mutate(live, desired client.Object) error {
	switch d := desired.(type) {
	case *corev1.ConfigMap:
		l, _ := live.(*corev1.ConfigMap)
		l.Data = d.Data
	case *appsv1.Deployment:
		l, _ := live.(*appsv1.Deployment)
		if !r.careful {
			l.Spec = d.Spec
			return nil
		}
		mutateDeploymentCarefully(l, d)
	case *corev1.Service:
		l, _ := live.(*corev1.Service)
		if !r.careful {
			l.Spec = d.Spec
			return nil
		}
		l.Spec.Type = d.Spec.Type
		l.Spec.Selector = d.Spec.Selector
		l.Spec.Ports = mergeServicePorts(l.Spec.Ports, d.Spec.Ports)
	case *policyv1.PodDisruptionBudget:
		l, _ := live.(*policyv1.PodDisruptionBudget)
		if !r.careful {
			l.Spec = d.Spec
			return nil
		}
		l.Spec.MaxUnavailable = d.Spec.MaxUnavailable
		l.Spec.Selector = d.Spec.Selector
	default:
		return fmt.Errorf("%T: %w", desired, errNotBenchChild)
	}
	return nil
}

// mutateDeploymentCarefully sets only what the operator owns: replicas, the
// selector on create, its pod-template labels and annotation, its volume and
// its container's image, ports and mounts. Everything else (annotations of
// `kubectl rollout restart`, other containers, server defaults) is left as
// it is on the live object.
func mutateDeploymentCarefully(l, d *appsv1.Deployment) {
	l.Spec.Replicas = d.Spec.Replicas
	if l.CreationTimestamp.IsZero() {
		l.Spec.Selector = d.Spec.Selector
	}
	t := &l.Spec.Template
	t.Labels = mergeMap(t.Labels, d.Spec.Template.Labels)
	t.Annotations = mergeMap(t.Annotations, d.Spec.Template.Annotations)
	for _, dv := range d.Spec.Template.Spec.Volumes {
		i := indexBy(t.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == dv.Name })
		if i < 0 {
			t.Spec.Volumes = append(t.Spec.Volumes, dv)
			continue
		}
		if t.Spec.Volumes[i].ConfigMap == nil {
			t.Spec.Volumes[i].VolumeSource = dv.VolumeSource
		} else {
			t.Spec.Volumes[i].ConfigMap.Name = dv.ConfigMap.Name
		}
	}
	for _, dc := range d.Spec.Template.Spec.Containers {
		i := indexBy(t.Spec.Containers, func(c corev1.Container) bool { return c.Name == dc.Name })
		if i < 0 {
			t.Spec.Containers = append(t.Spec.Containers, dc)
			continue
		}
		c := &t.Spec.Containers[i]
		c.Image = dc.Image
		c.Ports = dc.Ports
		c.VolumeMounts = dc.VolumeMounts
		c.Env = dc.Env
	}
}

func mergeServicePorts(live, desired []corev1.ServicePort) []corev1.ServicePort {
	out := make([]corev1.ServicePort, 0, len(desired))
	for _, dp := range desired {
		i := indexBy(live, func(p corev1.ServicePort) bool { return p.Name == dp.Name })
		if i >= 0 {
			p := live[i]
			p.Port, p.TargetPort, p.Protocol = dp.Port, dp.TargetPort, dp.Protocol
			out = append(out, p)
			continue
		}
		out = append(out, dp)
	}
	return out
}

func indexBy[T any](items []T, match func(T) bool) int {
	for i, it := range items {
		if match(it) {
			return i
		}
	}
	return -1
}

// mergeMap sets the keys of add on base (a new map when base is nil).
func mergeMap(base, add map[string]string) map[string]string {
	if len(add) == 0 {
		return base
	}
	if base == nil {
		base = make(map[string]string, len(add))
	}
	maps.Copy(base, add)
	return base
}
