package orchestrate

import (
	"context"
	"errors"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Orchestrator reconciles the node types of CRs of type T. Create it with New;
// it is safe for concurrent use by the reconcile workers of one controller.
type Orchestrator[T Object] struct {
	cfg       Config
	nodeTypes []NodeType[T]
}

// New validates the configuration and node types and returns an Orchestrator
// that reads through mgr's cache, writes with mgr's client and records events
// with mgr's events.k8s.io/v1 recorder.
func New[T Object](mgr manager.Manager, cfg Config, nodeTypes ...NodeType[T]) (*Orchestrator[T], error) {
	return nil, errors.New("orchestrate: not implemented yet")
}

// Reconcile brings the CR's children to their desired state, honouring the
// deployment order, pause and disable annotations, and patches the CR's status
// when it changed. Call it from the controller's Reconcile with the CR just
// read from the cache. The returned Result never carries a fixed requeue
// delay; progress is driven by the watches Controller sets up.
func (o *Orchestrator[T]) Reconcile(ctx context.Context, owner T) (ctrl.Result, error) {
	return ctrl.Result{}, errors.New("orchestrate: not implemented yet")
}

// Controller returns a controller builder for T that watches the CR and owns
// every kind of child the runtime manages (Deployments, StatefulSets,
// ConfigMaps, Secrets, Services, PodDisruptionBudgets, ...), plus the
// external ConfigMaps and Secrets the workloads reference. Finish it with
// Complete(reconciler).
func (o *Orchestrator[T]) Controller(mgr manager.Manager) *builder.Builder {
	return ctrl.NewControllerManagedBy(mgr)
}
