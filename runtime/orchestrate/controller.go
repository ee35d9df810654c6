package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/cachescope"
)

// Controller returns a controller builder for T, ready for Complete:
//
//   - For the CR, on changes of its generation (spec) or annotations (pause,
//     disable, force), not on status writes;
//   - Owns every kind of child (Deployments, StatefulSets, ConfigMaps,
//     Secrets, Services, PodDisruptionBudgets and Config.OwnedKinds), so a
//     workload's status change brings the next step of a rollout and a
//     hand edit of any child is reverted; updates that change only the
//     status of a child that is not a workload (a PodDisruptionBudget's
//     healthy-pod count moves with every pod that becomes ready) are
//     dropped, because nothing the Orchestrator decides depends on them;
//   - watches the external ConfigMaps and Secrets the workloads consume,
//     through cachescope.WatchReferencedConfig.
//
// It registers cachescope's field index on mgr, so call it once per manager,
// before the manager starts, and do not call cachescope.SetupIndexes as well.
// The manager's cache should be scoped with cachescope.Options.
func (o *Orchestrator[T]) Controller(mgr manager.Manager) (*builder.Builder, error) {
	if mgr == nil {
		return nil, errors.New("orchestrate: Controller: a manager is required")
	}
	if err := cachescope.SetupIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(newObject[T](), builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	for _, k := range o.kinds {
		if isWorkload(k) {
			// A workload's status is how a rollout's progress is seen.
			b = b.Owns(k)
			continue
		}
		b = b.Owns(k, builder.WithPredicates(ignoreStatusOnlyUpdates()))
	}
	if err := cachescope.WatchReferencedConfig(b, mgr, newObject[T]()); err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	// A CR deleted without a finalizer is never reconciled again: its
	// metrics are removed when the deletion is seen.
	b = b.Watches(newObject[T](), handler.Funcs{
		DeleteFunc: func(_ context.Context, e crevent.DeleteEvent, _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			o.metrics.forget(client.ObjectKeyFromObject(e.Object))
		},
	})
	return b, nil
}

// SetupWithManager registers the controller of Controller with mgr. r is the
// operator's reconciler; nil uses one that reads the CR and calls Reconcile.
func (o *Orchestrator[T]) SetupWithManager(mgr manager.Manager, r reconcile.Reconciler) error {
	b, err := o.Controller(mgr)
	if err != nil {
		return err
	}
	if r == nil {
		r = reconcile.AsReconciler[T](mgr.GetClient(), o)
	}
	return b.Complete(r)
}

// ignoreStatusOnlyUpdates drops update events that changed nothing but an
// object's status. controller-runtime's GenerationChangedPredicate alone
// would also drop every update of kinds whose generation the API server does
// not maintain (ConfigMaps, Secrets, Services, ServiceAccounts have none, so
// a hand edit of their data would go unnoticed); those pass through, as do
// changes of the labels and annotations the runtime sets, and of owner
// references, finalizers and deletion.
func ignoreStatusOnlyUpdates() predicate.Predicate {
	return predicate.Or(
		predicate.GenerationChangedPredicate{},
		predicate.LabelChangedPredicate{},
		predicate.AnnotationChangedPredicate{},
		predicate.Funcs{UpdateFunc: func(e crevent.UpdateEvent) bool {
			o, n := e.ObjectOld, e.ObjectNew
			if o == nil || n == nil {
				return true
			}
			return n.GetGeneration() == 0 ||
				!equality.Semantic.DeepEqual(o.GetOwnerReferences(), n.GetOwnerReferences()) ||
				!slices.Equal(o.GetFinalizers(), n.GetFinalizers()) ||
				!o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
		}},
	)
}
