package orchestrate

import (
	"context"
	"fmt"
	"slices"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// builtGroup is one group's desired objects for this pass.
type builtGroup struct {
	name string
	// objects holds every desired object of the group, the workload and the
	// generated PodDisruptionBudget included.
	objects []client.Object
	// workload is the group's Deployment or StatefulSet, or nil.
	workload client.Object
	// budget is the disruption budget the group's workload really has: the
	// group's own PodDisruptionBudget when it brings one, else the one
	// generated from its Disruption or its node type's. Available is judged
	// by it.
	budget Disruption
}

// builtNodeType is one node type's desired objects for this pass.
type builtNodeType struct {
	name   string
	groups []builtGroup
}

// deploymentOrder returns the indexes of the registered node types in the
// order they roll out: the CR's DeploymentOrder first, then the node types it
// does not name in registration order. A name that is not registered, or
// named twice, is an error: the user's CR is wrong and rolling in a guessed
// order could harm the data system.
func (o *Orchestrator[T]) deploymentOrder(owner T) ([]int, error) {
	var named []string
	if do, ok := any(owner).(DeploymentOrderer); ok {
		named = do.DeploymentOrder()
	}
	out := make([]int, 0, len(o.nodeTypes))
	seen := make(map[int]bool, len(o.nodeTypes))
	for _, name := range named {
		i := slices.IndexFunc(o.nodeTypes, func(nt NodeType[T]) bool { return nt.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("the deployment order names node type %q, which is not one of %s", name, quoteJoin(o.nodeTypeNames()))
		}
		if seen[i] {
			return nil, fmt.Errorf("the deployment order names node type %q twice", name)
		}
		seen[i] = true
		out = append(out, i)
	}
	for i := range o.nodeTypes {
		if !seen[i] {
			out = append(out, i)
		}
	}
	return out, nil
}

func (o *Orchestrator[T]) nodeTypeNames() []string {
	names := make([]string, len(o.nodeTypes))
	for i, nt := range o.nodeTypes {
		names[i] = nt.Name
	}
	return names
}

// build calls every node type's build function, in deployment order, checks
// what it returned, labels the objects with their node type and group, puts
// them in the owner's namespace and adds the generated PodDisruptionBudgets.
func (o *Orchestrator[T]) build(ctx context.Context, owner T, order []int) ([]builtNodeType, error) {
	out := make([]builtNodeType, 0, len(order))
	seen := map[string]string{} // object identity -> node type/group that desires it
	for _, i := range order {
		nt := o.nodeTypes[i]
		groups, err := nt.Build(ctx, owner)
		if err != nil {
			return nil, fmt.Errorf("build node type %q: %w", nt.Name, err)
		}
		b := builtNodeType{name: nt.Name}
		groupNames := map[string]bool{}
		for _, g := range groups {
			if g.Name == "" && len(groups) > 1 {
				return nil, fmt.Errorf("node type %q: a node type with several groups must name each of them", nt.Name)
			}
			if g.Name != "" {
				if errs := validation.IsValidLabelValue(g.Name); len(errs) > 0 {
					return nil, fmt.Errorf("node type %q: group name %q: %v", nt.Name, g.Name, errs)
				}
			}
			if groupNames[g.Name] {
				return nil, fmt.Errorf("node type %q: group %q is returned twice", nt.Name, g.Name)
			}
			groupNames[g.Name] = true
			bg, err := o.buildGroup(owner, nt, g, seen)
			if err != nil {
				return nil, err
			}
			b.groups = append(b.groups, bg)
		}
		out = append(out, b)
	}
	return out, nil
}

func (o *Orchestrator[T]) buildGroup(owner T, nt NodeType[T], g Group, seen map[string]string) (builtGroup, error) {
	where := fmt.Sprintf("node type %q", nt.Name)
	if g.Name != "" {
		where += fmt.Sprintf(" group %q", g.Name)
	}
	bg := builtGroup{name: g.Name, budget: nt.Disruption}
	if g.Disruption != nil {
		if err := g.Disruption.validate(); err != nil {
			return bg, fmt.Errorf("%s: %w", where, err)
		}
		bg.budget = *g.Disruption
	}
	hasPDB := false
	for i, obj := range g.Objects {
		if obj == nil {
			return bg, fmt.Errorf("%s: object %d is nil", where, i)
		}
		if obj.GetName() == "" {
			return bg, fmt.Errorf("%s: %s object %d has no name", where, kindOf(obj), i)
		}
		switch ns := obj.GetNamespace(); ns {
		case "":
			obj.SetNamespace(owner.GetNamespace())
		case owner.GetNamespace():
		default:
			return bg, fmt.Errorf("%s: %s %q is in namespace %q; children must be in the owner's namespace %q",
				where, kindOf(obj), obj.GetName(), ns, owner.GetNamespace())
		}
		id := fmt.Sprintf("%T/%s", obj, obj.GetName())
		if other, dup := seen[id]; dup {
			return bg, fmt.Errorf("%s %q is desired by both %s and %s", kindOf(obj), obj.GetName(), other, where)
		}
		seen[id] = where
		labelChild(obj, nt.Name, g.Name)
		if isWorkload(obj) {
			if bg.workload != nil {
				return bg, fmt.Errorf("%s: holds two workloads, %s %q and %s %q; give each workload its own group",
					where, kindOf(bg.workload), bg.workload.GetName(), kindOf(obj), obj.GetName())
			}
			bg.workload = obj
		}
		if pdb, ok := obj.(*policyv1.PodDisruptionBudget); ok {
			hasPDB = true
			bg.budget = Disruption{MinAvailable: pdb.Spec.MinAvailable, MaxUnavailable: pdb.Spec.MaxUnavailable}
		}
		bg.objects = append(bg.objects, obj)
	}
	if bg.workload != nil && !hasPDB {
		pdb, err := bg.budget.disruptionBudget(bg.workload)
		if err != nil {
			return bg, fmt.Errorf("%s: %w", where, err)
		}
		if pdb != nil {
			id := fmt.Sprintf("%T/%s", pdb, pdb.Name)
			if other, dup := seen[id]; dup {
				return bg, fmt.Errorf("the PodDisruptionBudget generated for %s is named %q like one desired by %s", where, pdb.Name, other)
			}
			seen[id] = where
			labelChild(pdb, nt.Name, g.Name)
			bg.objects = append(bg.objects, pdb)
		}
	}
	return bg, nil
}

// labelChild sets the component (node type) and group labels on a desired
// object, unless the build function set them itself.
func labelChild(obj client.Object, nodeType, group string) {
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	if _, ok := l[keys.LabelComponent]; !ok {
		l[keys.LabelComponent] = nodeType
	}
	if _, ok := l[keys.LabelGroup]; !ok && group != "" {
		l[keys.LabelGroup] = group
	}
	obj.SetLabels(l)
}

// buildShared calls the shared build function, when there is one, checks
// what it returned and puts it in the owner's namespace. An object the node
// types also desire is an error: it would be applied twice, and pruned with
// whichever side stops desiring it.
func (o *Orchestrator[T]) buildShared(ctx context.Context, owner T, built []builtNodeType) ([]client.Object, error) {
	if o.shared == nil {
		return nil, nil
	}
	objs, err := o.shared(ctx, owner)
	if err != nil {
		return nil, fmt.Errorf("build the shared objects: %w", err)
	}
	seen := map[string]string{}
	for _, nt := range built {
		for _, g := range nt.groups {
			for _, obj := range g.objects {
				seen[fmt.Sprintf("%T/%s", obj, obj.GetName())] = fmt.Sprintf("node type %q", nt.name)
			}
		}
	}
	for i, obj := range objs {
		switch {
		case obj == nil:
			return nil, fmt.Errorf("shared object %d is nil", i)
		case obj.GetName() == "":
			return nil, fmt.Errorf("shared %s object %d has no name", kindOf(obj), i)
		case obj.GetNamespace() == "":
			obj.SetNamespace(owner.GetNamespace())
		case obj.GetNamespace() != owner.GetNamespace():
			return nil, fmt.Errorf("shared %s %q is in namespace %q; children must be in the owner's namespace %q",
				kindOf(obj), obj.GetName(), obj.GetNamespace(), owner.GetNamespace())
		}
		id := fmt.Sprintf("%T/%s", obj, obj.GetName())
		if other, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s %q is desired both as a shared object and by %s", kindOf(obj), obj.GetName(), other)
		}
		seen[id] = "the shared objects"
	}
	return objs, nil
}
