package builder

import (
	"context"
)

// ReconcileAll reconciles every object given with WithObjects, in dependency
// order: ServiceAccounts, RBAC, ConfigMaps and Secrets first, then
// PersistentVolumeClaims and Services, then workloads, then what refers to
// workloads (PodDisruptionBudgets, HorizontalPodAutoscalers, Ingresses,
// NetworkPolicies) and finally any other kind. All objects are recorded in the
// store first. Objects of one tier are all attempted; when any of them fails,
// later tiers are skipped (a workload is not rolled onto a config that failed
// to apply) and the joined errors are returned. The results are in the order
// the objects were reconciled.
func (b *Builder) ReconcileAll(ctx context.Context) ([]Result, error) {
	return b.reconcileAll(ctx)
}
