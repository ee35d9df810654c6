package bench

import (
	"context"
	"fmt"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// runtimeApproaches are the approaches built on opbuilder's runtime.
func runtimeApproaches() []Approach {
	return []Approach{opbuilderApproach{}, orchestrateApproach{}}
}

// scopedCache is the runtime's label-scoped cache for an approach's field
// owner, holding only that approach's Clusters.
func scopedCache(approach string) (cache.Options, error) {
	opts, err := cachescope.Options(&testapiv1.Cluster{}, cachescope.WithManagedBy(FieldOwner(approach)))
	if err != nil {
		return cache.Options{}, fmt.Errorf("%s: cache options: %w", approach, err)
	}
	return restrictClusters(opts, approach), nil
}

// opbuilderApproach uses runtime/builder and runtime/store directly: one
// Builder per reconcile with every node type's children, ReconcileAll, then
// the store prunes and persists its inventory. The controller owns every
// child kind and watches referenced ConfigMaps and Secrets (cachescope).
type opbuilderApproach struct{}

func (opbuilderApproach) ScopedCache() bool { return true }

func (opbuilderApproach) Name() string { return "opbuilder" }

func (opbuilderApproach) Title() string {
	return "opbuilder runtime: builder + store (apply only on change), label-scoped cache"
}

func (a opbuilderApproach) CacheOptions(scoped bool) (cache.Options, error) {
	if !scoped {
		return defaultCache(a.Name()), nil
	}
	return scopedCache(a.Name())
}

func (a opbuilderApproach) Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error) {
	// The store finds each Cluster's children through the owner index, as
	// an operator with many CRs in one namespace should.
	if err := cachescope.SetupIndexes(context.Background(), mgr.GetFieldIndexer(), childKinds()...); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	r := &opbuilderReconciler{
		client:       mgr.GetClient(),
		expectations: builder.NewExpectations(),
		recorder:     mgr.GetEventRecorder(FieldOwner(a.Name())),
		fieldOwner:   FieldOwner(a.Name()),
	}
	b := ctrl.NewControllerManagedBy(mgr).Named(a.Name()).For(&testapiv1.Cluster{})
	for _, k := range childKinds() {
		b = b.Owns(k)
	}
	if err := cachescope.WatchReferencedConfig(b, mgr, &testapiv1.Cluster{}); err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	if err := b.Complete(wrap(r)); err != nil {
		return nil, fmt.Errorf("%s: set up controller: %w", a.Name(), err)
	}
	return r, nil
}

type opbuilderReconciler struct {
	client client.Client
	// expectations are shared by every pass, so that a pass reading a cache
	// that has not caught up with the previous pass's apply does not apply
	// again.
	expectations *builder.Expectations
	recorder     events.EventRecorder
	fieldOwner   string
}

func (r *opbuilderReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cr, found, err := getCluster(ctx, r.client, req)
	if err != nil || !found || cr.DeletionTimestamp != nil {
		return reconcile.Result{}, err
	}
	ec, err := eventclient.New(r.client, r.recorder, eventclient.WithOwner(cr))
	if err != nil {
		return reconcile.Result{}, err
	}
	st, err := store.New(cr, ec, store.WithKinds(childKinds()...), store.WithOwnerIndex(childKinds()...), store.WithStatusWriter(r.client.Status()))
	if err != nil {
		return reconcile.Result{}, err
	}
	var objs []client.Object
	for _, nt := range Desired(cr, r.fieldOwner, RolloutByRuntime) {
		objs = append(objs, nt.Objects()...)
	}
	b, err := builder.New(
		builder.WithClient(r.client),
		builder.WithOwner(cr),
		builder.WithRecorder(r.recorder),
		builder.WithFieldOwner(r.fieldOwner),
		builder.WithApp(appName),
		builder.WithStore(st),
		builder.WithObjects(objs...),
		builder.WithExpectations(r.expectations),
	)
	if err != nil {
		return reconcile.Result{}, err
	}
	results, err := b.ReconcileAll(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	pruned, err := st.Reconcile(ctx)
	for _, id := range pruned.Pruned {
		r.expectations.Forget(id.GroupKind(), client.ObjectKey{Namespace: id.Namespace, Name: id.Name})
	}
	if err != nil {
		return reconcile.Result{}, err
	}
	for _, res := range results {
		if res.Requeue {
			return reconcile.Result{Requeue: true}, nil //nolint:staticcheck // Recreating asks for a prompt retry
		}
	}
	return reconcile.Result{}, nil
}

// orchestrateApproach uses runtime/orchestrate: every node type a bench
// Cluster may have is registered (nt0 … nt15); a node type the Cluster does
// not list builds nothing. The PodDisruptionBudget is the orchestrator's
// generated one (maxUnavailable 1), so the build function returns the
// ConfigMap, the Deployment and the Service. Status (conditions, per node
// type, inventory) is written by the orchestrator, which the baselines do
// not do at all.
type orchestrateApproach struct{}

// maxNodeTypes is how many node types the orchestrate approach registers.
const maxNodeTypes = 16

func (orchestrateApproach) ScopedCache() bool { return true }

func (orchestrateApproach) Name() string { return "orchestrate" }

func (orchestrateApproach) Title() string {
	return "opbuilder runtime: orchestrate, what scaffolded operators run (ordered rollouts, status, PDBs), label-scoped cache"
}

func (a orchestrateApproach) CacheOptions(scoped bool) (cache.Options, error) {
	if !scoped {
		return defaultCache(a.Name()), nil
	}
	return scopedCache(a.Name())
}

func (a orchestrateApproach) Setup(mgr ctrl.Manager, wrap func(reconcile.Reconciler) reconcile.Reconciler) (reconcile.Reconciler, error) {
	fieldOwner := FieldOwner(a.Name())
	var nodeTypes []orchestrate.NodeType[*testapiv1.Cluster]
	for i := range maxNodeTypes {
		name := NodeTypeName(i)
		nodeTypes = append(nodeTypes, orchestrate.NodeType[*testapiv1.Cluster]{
			Name: name,
			Build: func(_ context.Context, cr *testapiv1.Cluster) ([]orchestrate.Group, error) {
				nt, ok := DesiredNodeType(cr, name, fieldOwner, RolloutByRuntime)
				if !ok {
					return nil, nil
				}
				return []orchestrate.Group{{Objects: []client.Object{nt.ConfigMap, nt.Deployment, nt.Service}}}, nil
			},
		})
	}
	o, err := orchestrate.New(mgr, orchestrate.Config{App: appName, FieldOwner: fieldOwner}, nodeTypes...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	b, err := o.Controller(mgr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	r := reconcile.AsReconciler[*testapiv1.Cluster](mgr.GetClient(), o)
	if err := b.Named(a.Name()).Complete(wrap(r)); err != nil {
		return nil, fmt.Errorf("%s: set up controller: %w", a.Name(), err)
	}
	return r, nil
}
