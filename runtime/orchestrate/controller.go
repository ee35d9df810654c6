package orchestrate

import (
	"context"
	"errors"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
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
//     workload's status change brings the next step of a rollout;
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
		b = b.Owns(k)
	}
	if err := cachescope.WatchReferencedConfig(b, mgr, newObject[T]()); err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
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
