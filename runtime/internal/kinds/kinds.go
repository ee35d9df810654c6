// Package kinds is the runtime's one table of what it knows about the kinds
// of children: in which order they are applied, and which are workloads that
// roll out in order. The builder's dependency order, the orchestrator's
// apply tiers and the builder's workload handling all read it, so a kind is
// added in one place. It also lists the children of a kind (List) for the
// store's pruning and the orchestrator's keeping, typed or as metadata.
package kinds

import "k8s.io/apimachinery/pkg/runtime/schema"

// Tier is the position of a kind in the order children are applied: what
// pods read or run as first, then what they attach to, then the workloads,
// then what refers to a workload. A pass applies a tier only after the one
// before.
type Tier int

const (
	// Config is what pods read or run as: ServiceAccounts, ConfigMaps,
	// Secrets and RBAC.
	Config Tier = iota
	// Attached is what pods attach to or are reached through: claims and
	// Services.
	Attached
	// Workload is a controller of pods.
	Workload
	// RefersToWorkload is what names a workload or its pods: budgets,
	// autoscalers, Ingresses and network policies.
	RefersToWorkload
	// Other is every kind the table does not know.
	Other
)

// kind is what the table knows of one kind.
type kind struct {
	tier Tier
	// rolled is true for a workload whose pod template the runtime stamps
	// with its config hash and rolls out in order.
	rolled bool
}

var table = map[schema.GroupKind]kind{
	{Kind: "ServiceAccount"}: {tier: Config},
	{Kind: "ConfigMap"}:      {tier: Config},
	{Kind: "Secret"}:         {tier: Config},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:        {tier: Config},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}: {tier: Config},
	{Kind: "PersistentVolumeClaim"}:                           {tier: Attached},
	{Kind: "Service"}:                                         {tier: Attached},
	{Group: "apps", Kind: "Deployment"}:                       {tier: Workload, rolled: true},
	{Group: "apps", Kind: "StatefulSet"}:                      {tier: Workload, rolled: true},
	{Group: "apps", Kind: "DaemonSet"}:                        {tier: Workload},
	{Group: "batch", Kind: "Job"}:                             {tier: Workload},
	{Group: "batch", Kind: "CronJob"}:                         {tier: Workload},
	{Group: "policy", Kind: "PodDisruptionBudget"}:            {tier: RefersToWorkload},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}:   {tier: RefersToWorkload},
	{Group: "networking.k8s.io", Kind: "Ingress"}:             {tier: RefersToWorkload},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}:       {tier: RefersToWorkload},
}

// TierOf returns the tier of gk; Other for a kind the table does not know.
func TierOf(gk schema.GroupKind) Tier {
	if k, ok := table[gk]; ok {
		return k.tier
	}
	return Other
}

// Rolled reports whether gk is a workload whose pod template the runtime
// stamps with its config hash and rolls out in order: a Deployment or a
// StatefulSet.
func Rolled(gk schema.GroupKind) bool { return table[gk].rolled }
