package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"

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
	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/keys"
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
//     dropped, because nothing the Orchestrator decides depends on them,
//     and so are those of a workload that change none of the status fields
//     a pass reads (ignoreUnreadWorkloadUpdates);
//   - watches the external ConfigMaps and Secrets the workloads consume,
//     through cachescope.WatchReferencedConfig.
//
// It registers cachescope's field indexes on mgr, the owner index on every
// kind of child among them, so call it once per manager,
// before the manager starts, and do not call cachescope.SetupIndexes as well.
// The manager's cache should be scoped with cachescope.Options.
func (o *Orchestrator[T]) Controller(mgr manager.Manager) (*builder.Builder, error) {
	if mgr == nil {
		return nil, errors.New("orchestrate: Controller: a manager is required")
	}
	if err := cachescope.SetupIndexes(context.Background(), mgr.GetFieldIndexer(), o.kinds...); err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	o.ownerIndexed = true
	b := ctrl.NewControllerManagedBy(mgr).
		For(newObject[T](), builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{})))
	for _, k := range o.kinds {
		if isWorkload(k) {
			// A workload's status is how a rollout's progress is seen.
			b = b.Owns(k, builder.WithPredicates(o.ignoreUnreadWorkloadUpdates()))
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

// ownedBy selects owner's children of kind k, through the owner index when
// Controller registered it for k.
func (o *Orchestrator[T]) ownedBy(owner T, k runtime.Object) client.ListOption {
	return kinds.OwnedBy(owner.GetUID(), o.ownerIndexed && kinds.Indexable(k))
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

// ignoreUnreadWorkloadUpdates drops update events of a Deployment or
// StatefulSet that change nothing a pass reads of it: what
// ignoreStatusOnlyUpdates passes, passes, and of its status only the fields
// the rollout rules (readiness.go, kstatus's rules included), the change
// budget and the CR's status read (readStatus). What is dropped is
// bookkeeping such as a Deployment's terminatingReplicas or a condition's
// lastUpdateTime. The workloads of a node type with hooks or a canary are
// not filtered: their pod-by-pod steps and health gate answer to pods, and
// a pass for each change of the workload is what asks again. Nor are those
// whose component label names no node type (a build function may set its
// own).
func (o *Orchestrator[T]) ignoreUnreadWorkloadUpdates() predicate.Predicate {
	return predicate.Or(
		ignoreStatusOnlyUpdates(),
		predicate.Funcs{UpdateFunc: func(e crevent.UpdateEvent) bool {
			if e.ObjectOld == nil || e.ObjectNew == nil {
				return true
			}
			if nt := o.nodeType(e.ObjectNew.GetLabels()[keys.LabelComponent]); nt == nil || o.podByPod(nt.Name) {
				// Hooked, or labelled by its build function with a
				// component that names no node type.
				return true
			}
			return !equality.Semantic.DeepEqual(readStatus(e.ObjectOld), readStatus(e.ObjectNew))
		}},
	)
}

// workloadStatus is the part of a workload's status a pass reads.
type workloadStatus struct {
	ObservedGeneration                           int64
	Replicas, Ready, Available, Updated, Current int32
	CurrentRevision, UpdateRevision              string
	Conditions                                   []workloadCondition
}

// workloadCondition is a workload condition without its times, which
// nothing reads.
type workloadCondition struct {
	Type, Status, Reason, Message string
}

// readStatus returns what a pass reads of obj's status; for a kind that is
// not a workload, obj itself, so that every change counts.
func readStatus(obj client.Object) any {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		s := workloadStatus{
			ObservedGeneration: w.Status.ObservedGeneration, Replicas: w.Status.Replicas, Ready: w.Status.ReadyReplicas,
			Available: w.Status.AvailableReplicas, Updated: w.Status.UpdatedReplicas,
		}
		for _, c := range w.Status.Conditions {
			s.Conditions = append(s.Conditions, workloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
		return s
	case *appsv1.StatefulSet:
		s := workloadStatus{
			ObservedGeneration: w.Status.ObservedGeneration, Replicas: w.Status.Replicas, Ready: w.Status.ReadyReplicas,
			Available: w.Status.AvailableReplicas, Updated: w.Status.UpdatedReplicas, Current: w.Status.CurrentReplicas,
			CurrentRevision: w.Status.CurrentRevision, UpdateRevision: w.Status.UpdateRevision,
		}
		for _, c := range w.Status.Conditions {
			s.Conditions = append(s.Conditions, workloadCondition{string(c.Type), string(c.Status), c.Reason, c.Message})
		}
		return s
	}
	return obj
}
