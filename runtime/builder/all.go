package builder

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
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
	type item struct {
		tier kinds.Tier
		obj  client.Object
	}
	items := make([]item, 0, len(b.cfg.objects))
	var prepErrs []error
	for _, o := range b.cfg.objects {
		gvk, err := b.gvkOf(o)
		if err != nil {
			prepErrs = append(prepErrs, fmt.Errorf("builder: %w", err))
			continue
		}
		items = append(items, item{tier: kinds.TierOf(gvk.GroupKind()), obj: o})
	}
	if b.cfg.store != nil {
		for _, it := range items {
			p, err := b.prepare(ctx, it.obj)
			if err != nil {
				prepErrs = append(prepErrs, fmt.Errorf("builder: %w", err))
				continue
			}
			if err := b.cfg.store.Record(p.obj); err != nil {
				prepErrs = append(prepErrs, fmt.Errorf("builder: record %s %s/%s in the store: %w", p.gvk.Kind, p.obj.GetNamespace(), p.obj.GetName(), err))
			}
		}
	}
	if err := errors.Join(prepErrs...); err != nil {
		if b.cfg.store != nil {
			b.cfg.store.Fail(err)
		}
		return nil, err
	}
	slices.SortStableFunc(items, func(a, b item) int { return int(a.tier - b.tier) })

	var (
		results []Result
		errs    []error
	)
	for i := 0; i < len(items); {
		tier := items[i].tier
		for ; i < len(items) && items[i].tier == tier; i++ {
			res, err := b.reconcileOne(ctx, items[i].obj, b.cfg.store == nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			results = append(results, res)
		}
		if len(errs) > 0 {
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		if b.cfg.store != nil {
			b.cfg.store.Fail(err)
		}
		return results, err
	}
	return results, nil
}
