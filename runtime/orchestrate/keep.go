package orchestrate

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// The store prunes every child of the CR that a pass does not record. A pass
// records more than it desires in these cases, all for pods that still run:
//
//   - the ConfigMaps and Secrets of a node type that is held or still rolling
//     (keepConfig): some of its pods run the old template, and a pod that
//     restarts reads what that template names;
//   - while rollouts are paused, the workloads no longer desired, with their
//     node type's ConfigMaps and Secrets and every other child of their
//     group (keepWorkloads): a pause holds every change to workloads, their
//     deletion included, and their pods keep their Services, disruption
//     budget and autoscaler;
//   - the workloads no longer desired of a node type with a BeforeRemove
//     hook, until their last pod is gone (drain.go), with the other children
//     of their group (keepGroup).

// keepConfig records in the store the ConfigMaps and Secrets of a node type
// (by its component label) that owner controls, so the pruner keeps them.
// It lists the cache by label, in the owner's namespace.
func (o *Orchestrator[T]) keepConfig(ctx context.Context, owner T, st recorder, nodeType string) error {
	in := []client.ListOption{client.InNamespace(owner.GetNamespace()), client.MatchingLabels{keys.LabelComponent: nodeType}}
	var cms corev1.ConfigMapList
	if err := o.client.List(ctx, &cms, append(in, o.ownedBy(owner, &cms))...); err != nil {
		return fmt.Errorf("orchestrate: list ConfigMaps of node type %q: %w", nodeType, err)
	}
	var secrets corev1.SecretList
	if err := o.client.List(ctx, &secrets, append(in, o.ownedBy(owner, &secrets))...); err != nil {
		return fmt.Errorf("orchestrate: list Secrets of node type %q: %w", nodeType, err)
	}
	objs := make([]client.Object, 0, len(cms.Items)+len(secrets.Items))
	for i := range cms.Items {
		objs = append(objs, &cms.Items[i])
	}
	for i := range secrets.Items {
		objs = append(objs, &secrets.Items[i])
	}
	if _, err := recordControlled(owner, st, objs); err != nil {
		return fmt.Errorf("orchestrate: keep the config of node type %q: %w", nodeType, err)
	}
	return nil
}

// keepWorkloads records in the store, while rollouts are paused, the
// Deployments and StatefulSets owner controls that the pass does not desire
// (those of a removed group or node type), the other children of their
// groups, and the ConfigMaps and Secrets of their node types.
func (o *Orchestrator[T]) keepWorkloads(ctx context.Context, owner T, st recorder, desired []client.Object) error {
	undesired, err := o.undesiredWorkloads(ctx, owner, desired)
	if err != nil {
		return err
	}
	kept, err := recordControlled(owner, st, undesired)
	if err != nil {
		return fmt.Errorf("orchestrate: keep workloads while paused: %w", err)
	}
	nodeTypes := map[string]bool{}
	for _, w := range kept {
		// The autoscaler too: while paused nothing drains, and taking it
		// away would change the workload's scale.
		if err := o.recordGroup(ctx, owner, st, w, func(gk schema.GroupKind) bool { return !kinds.Rolled(gk) }); err != nil {
			return fmt.Errorf("orchestrate: keep the group of %s %s while paused: %w", kindOf(w), w.GetName(), err)
		}
		if nt := w.GetLabels()[keys.LabelComponent]; nt != "" && !nodeTypes[nt] {
			nodeTypes[nt] = true
			if err := o.keepConfig(ctx, owner, st, nt); err != nil {
				return err
			}
		}
	}
	return nil
}

// undesiredWorkloads lists, from the cache, the Deployments and
// StatefulSets labelled as owner's children that are not among desired:
// those of a removed group or node type. The caller checks that owner
// controls them.
func (o *Orchestrator[T]) undesiredWorkloads(ctx context.Context, owner T, desired []client.Object) ([]client.Object, error) {
	in := client.InNamespace(owner.GetNamespace())
	var deployments appsv1.DeploymentList
	if err := o.client.List(ctx, &deployments, in, o.ownedBy(owner, &deployments)); err != nil {
		return nil, fmt.Errorf("orchestrate: list Deployments: %w", err)
	}
	var statefulSets appsv1.StatefulSetList
	if err := o.client.List(ctx, &statefulSets, in, o.ownedBy(owner, &statefulSets)); err != nil {
		return nil, fmt.Errorf("orchestrate: list StatefulSets: %w", err)
	}
	wanted := map[client.ObjectKey]bool{}
	for _, obj := range desired {
		if isWorkload(obj) {
			wanted[client.ObjectKey{Namespace: owner.GetNamespace(), Name: obj.GetName()}] = true
		}
	}
	var undesired []client.Object
	for i := range deployments.Items {
		undesired = append(undesired, &deployments.Items[i])
	}
	for i := range statefulSets.Items {
		undesired = append(undesired, &statefulSets.Items[i])
	}
	return slices.DeleteFunc(undesired, func(w client.Object) bool { return wanted[client.ObjectKeyFromObject(w)] }), nil
}

// keepGroup records in the store the children owner controls in the group of
// workload w, a removed workload still draining: its Services, so clients
// still reach the pods that serve, its PodDisruptionBudget, so they stay
// protected, and whatever else the group brought. They go with w, in the
// pass that prunes it. Not its workloads, which drain judges one by one, nor
// an autoscaler (keptWithGroup).
func (o *Orchestrator[T]) keepGroup(ctx context.Context, owner T, st recorder, w client.Object) error {
	if err := o.recordGroup(ctx, owner, st, w, keptWithGroup); err != nil {
		return fmt.Errorf("orchestrate: keep the group of %s %s: %w", kindOf(w), w.GetName(), err)
	}
	return nil
}

// recordGroup records in the store the children owner controls in the group
// of workload w, of the kinds keep accepts.
func (o *Orchestrator[T]) recordGroup(ctx context.Context, owner T, st recorder, w client.Object, keep func(schema.GroupKind) bool) error {
	sel, err := groupSelector(owner, w)
	if err != nil {
		return err
	}
	for _, k := range o.kinds {
		gvk, err := apiutil.GVKForObject(k, o.scheme)
		if err != nil {
			return err
		}
		if !keep(gvk.GroupKind()) {
			continue
		}
		objs, err := kinds.List(ctx, o.client, o.scheme, gvk, client.InNamespace(owner.GetNamespace()),
			o.ownedBy(owner, k), client.MatchingLabelsSelector{Selector: sel})
		if err != nil {
			return err
		}
		if _, err := recordControlled(owner, st, objs); err != nil {
			return err
		}
	}
	return nil
}

// keptWithGroup reports whether a child of kind gk stays while its group's
// workload drains. Not a Deployment or StatefulSet: drain keeps those one by
// one. Not a HorizontalPodAutoscaler: it would scale the workload back up
// (to its minReplicas at least) through the scale subresource, undoing each
// step of the drain, so it goes at once and the drain sets the pace.
func keptWithGroup(gk schema.GroupKind) bool {
	return !kinds.Rolled(gk) && gk != (schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"})
}

// groupSelector selects owner's children in w's group: those with w's node
// type and group labels, or with no group label when w has none (a node
// type's only, unnamed group).
func groupSelector(owner metav1.Object, w client.Object) (labels.Selector, error) {
	sel := labels.SelectorFromSet(labels.Set{
		keys.LabelOwnerUID:  string(owner.GetUID()),
		keys.LabelComponent: w.GetLabels()[keys.LabelComponent],
	})
	op, values := selection.DoesNotExist, []string(nil)
	if g, ok := w.GetLabels()[keys.LabelGroup]; ok {
		op, values = selection.Equals, []string{g}
	}
	req, err := labels.NewRequirement(keys.LabelGroup, op, values)
	if err != nil {
		return nil, err
	}
	return sel.Add(*req), nil
}

// recordControlled records in st each of objs that owner controls and that
// is not being deleted, and returns them.
func recordControlled(owner metav1.Object, st recorder, objs []client.Object) ([]client.Object, error) {
	var recorded []client.Object
	for _, obj := range objs {
		if !metav1.IsControlledBy(obj, owner) || obj.GetDeletionTimestamp() != nil {
			continue
		}
		if err := st.Record(obj); err != nil {
			return nil, fmt.Errorf("%s %s: %w", kindOf(obj), obj.GetName(), err)
		}
		recorded = append(recorded, obj)
	}
	return recorded, nil
}

// recorder is the part of the store keepConfig uses.
type recorder interface {
	Record(obj client.Object) error
}
