package builder

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// Builder reconciles the children of one owner. Build a new one for every
// reconcile pass with New. ReconcileObject may be called from several
// goroutines at once for children that do not depend on one another, so
// that their requests overlap; a workload depends on the ConfigMaps and
// Secrets it consumes, which must be reconciled, and have returned, first.
type Builder struct {
	cfg    config
	client *eventclient.Client
	scheme *runtime.Scheme

	// mu guards the fields below, which concurrent ReconcileObject calls
	// share.
	mu sync.Mutex
	// reconciledConfig are the ConfigMaps and Secrets reconciled so far in
	// this pass, as applied.
	reconciledConfig []client.Object
	// refusedConfig are the ConfigMaps and Secrets this Builder refused to
	// write (their names are taken): a workload that consumes one is held.
	refusedConfig []confighash.Ref
	// givenConfig are the ConfigMaps and Secrets given with WithObjects,
	// namespaced; nil until desiredConfig first needs them.
	givenConfig []client.Object
	// namespaced remembers, per kind, whether it is namespaced.
	namespaced map[schema.GroupVersionKind]bool
	// taken are the children whose create-only apply found their name
	// taken in this pass: only for those is the API reader asked who has
	// it (see decideAbsent).
	taken map[expectationKey]bool
}

// New returns a Builder configured by opts. WithClient, WithOwner,
// WithRecorder, WithFieldOwner and WithApp are required; a missing or invalid
// option is reported as an error.
func New(opts ...Option) (*Builder, error) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	var errs []error
	if cfg.client == nil {
		errs = append(errs, errors.New("WithClient is required"))
	}
	if cfg.owner == nil {
		errs = append(errs, errors.New("WithOwner is required"))
	}
	if cfg.recorder == nil {
		errs = append(errs, errors.New("WithRecorder is required"))
	}
	if cfg.fieldOwner == "" {
		errs = append(errs, errors.New("WithFieldOwner is required"))
	}
	if cfg.app == "" {
		errs = append(errs, errors.New("WithApp is required"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("builder: %w", errors.Join(errs...))
	}
	if err := validateOwner(cfg.owner); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	for i, o := range cfg.objects {
		if o == nil {
			return nil, fmt.Errorf("builder: WithObjects: object %d is nil", i)
		}
	}
	ec, err := eventclient.New(cfg.client, cfg.recorder, eventclient.WithOwner(cfg.owner))
	if err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	b := &Builder{cfg: cfg, client: ec, scheme: cfg.client.Scheme()}
	if b.scheme == nil {
		return nil, errors.New("builder: the client has no scheme")
	}
	if err := b.validateLabels(); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	return b, nil
}

// Objects returns the desired objects given with WithObjects.
func (b *Builder) Objects() []client.Object {
	return append([]client.Object(nil), b.cfg.objects...)
}

// ReconcileObject makes the child obj look as desired, whatever its kind; all
// the per-kind methods go through it. obj is not modified.
func (b *Builder) ReconcileObject(ctx context.Context, obj client.Object) (Result, error) {
	return b.reconcile(ctx, obj)
}

// ReconcileConfigMap reconciles a ConfigMap.
func (b *Builder) ReconcileConfigMap(ctx context.Context, cm *corev1.ConfigMap) (Result, error) {
	return b.reconcile(ctx, cm)
}

// ReconcileSecret reconciles a Secret. Its stringData is folded into data
// before it is applied; its contents never appear in events or logs.
func (b *Builder) ReconcileSecret(ctx context.Context, s *corev1.Secret) (Result, error) {
	return b.reconcile(ctx, s)
}

// ReconcileServiceAccount reconciles a ServiceAccount.
func (b *Builder) ReconcileServiceAccount(ctx context.Context, sa *corev1.ServiceAccount) (Result, error) {
	return b.reconcile(ctx, sa)
}

// ReconcileService reconciles a Service: a client Service, or a headless one
// (ClusterIP "None"). Fields the API server assigns (clusterIP, clusterIPs,
// ipFamilies, …) are never sent unless set in svc.
func (b *Builder) ReconcileService(ctx context.Context, svc *corev1.Service) (Result, error) {
	return b.reconcile(ctx, svc)
}

// ReconcileDeployment reconciles a Deployment and stamps its pod template with
// the config hash. Leave Replicas nil when a HorizontalPodAutoscaler scales it.
func (b *Builder) ReconcileDeployment(ctx context.Context, d *appsv1.Deployment) (Result, error) {
	return b.reconcile(ctx, d)
}

// ReconcileStatefulSet reconciles a StatefulSet (with its volumeClaimTemplates)
// and stamps its pod template with the config hash. A change to its selector
// or volumeClaimTemplates recreates it with orphan propagation.
func (b *Builder) ReconcileStatefulSet(ctx context.Context, sts *appsv1.StatefulSet) (Result, error) {
	return b.reconcile(ctx, sts)
}

// ReconcilePersistentVolumeClaim reconciles a PersistentVolumeClaim. A larger
// storage request is applied; a smaller one, or a change to a field that
// cannot be updated, returns OperationBlocked with a Warning event.
func (b *Builder) ReconcilePersistentVolumeClaim(ctx context.Context, pvc *corev1.PersistentVolumeClaim) (Result, error) {
	return b.reconcile(ctx, pvc)
}

// ReconcilePodDisruptionBudget reconciles a policy/v1 PodDisruptionBudget.
func (b *Builder) ReconcilePodDisruptionBudget(ctx context.Context, pdb *policyv1.PodDisruptionBudget) (Result, error) {
	return b.reconcile(ctx, pdb)
}

// ReconcileHorizontalPodAutoscaler reconciles an autoscaling/v2
// HorizontalPodAutoscaler.
func (b *Builder) ReconcileHorizontalPodAutoscaler(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler) (Result, error) {
	return b.reconcile(ctx, hpa)
}

// ReconcileIngress reconciles a networking/v1 Ingress.
func (b *Builder) ReconcileIngress(ctx context.Context, ing *networkingv1.Ingress) (Result, error) {
	return b.reconcile(ctx, ing)
}

// ReconcileNetworkPolicy reconciles a networking/v1 NetworkPolicy.
func (b *Builder) ReconcileNetworkPolicy(ctx context.Context, np *networkingv1.NetworkPolicy) (Result, error) {
	return b.reconcile(ctx, np)
}

// ReconcileStore lets the store prune the owner's children that were not
// desired in this pass. It returns an error when no store was configured.
func (b *Builder) ReconcileStore(ctx context.Context) error {
	if b.cfg.store == nil {
		return errors.New("builder: ReconcileStore: no store configured (use WithStore)")
	}
	if err := b.cfg.store.Prune(ctx); err != nil {
		return fmt.Errorf("builder: prune: %w", err)
	}
	return nil
}
