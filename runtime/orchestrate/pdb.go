package orchestrate

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// defaultMaxUnavailable is the generated budget when a node type configures
// nothing: one pod of a workload may be disrupted at a time.
var defaultMaxUnavailable = intstr.FromInt32(1)

// validate checks that the policy can be turned into a budget.
func (d Disruption) validate() error {
	for name, v := range map[string]*intstr.IntOrString{"MaxUnavailable": d.MaxUnavailable, "MinAvailable": d.MinAvailable} {
		if v == nil {
			continue
		}
		if _, err := intstr.GetScaledValueFromIntOrPercent(v, 100, true); err != nil {
			return fmt.Errorf("invalid Disruption.%s: %w", name, err)
		}
		if v.Type == intstr.Int && v.IntVal < 0 {
			return fmt.Errorf("invalid Disruption.%s: %d is negative", name, v.IntVal)
		}
	}
	return nil
}

// disruptionBudget returns the PodDisruptionBudget guarding workload, named
// after it and selecting its pods with its own selector, or nil when the
// policy is disabled.
func (d Disruption) disruptionBudget(workload client.Object) (*policyv1.PodDisruptionBudget, error) {
	if d.Disabled {
		return nil, nil
	}
	sel := podSelector(workload)
	if sel == nil {
		return nil, fmt.Errorf("%s %q has no pod selector to build its PodDisruptionBudget from", kindOf(workload), workload.GetName())
	}
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta: metav1.TypeMeta{APIVersion: policyv1.SchemeGroupVersion.String(), Kind: "PodDisruptionBudget"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      workload.GetName(),
			Namespace: workload.GetNamespace(),
		},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: sel.DeepCopy()},
	}
	if d.MinAvailable != nil {
		pdb.Spec.MinAvailable = ptr.To(*d.MinAvailable)
	} else {
		pdb.Spec.MaxUnavailable = ptr.To(ptr.Deref(d.MaxUnavailable, defaultMaxUnavailable))
	}
	return pdb, nil
}

// availableNeeded is how many available replicas a workload with the given
// desired replicas needs for its node type to count as Available: what the
// budget protects, and at least one while any replica is desired. With the
// budget disabled the default of one unavailable pod applies.
func (d Disruption) availableNeeded(replicas int32) int32 {
	if replicas <= 0 {
		return 0
	}
	var need int
	if d.MinAvailable != nil && !d.Disabled {
		// Errors were ruled out by validate; round up like the disruption
		// controller does for minAvailable.
		need, _ = intstr.GetScaledValueFromIntOrPercent(d.MinAvailable, int(replicas), true)
	} else {
		maxU := defaultMaxUnavailable
		if d.MaxUnavailable != nil && !d.Disabled {
			maxU = *d.MaxUnavailable
		}
		unavailable, _ := intstr.GetScaledValueFromIntOrPercent(&maxU, int(replicas), true)
		need = int(replicas) - unavailable
	}
	return int32(min(max(need, 1), int(replicas)))
}

// podSelector returns the pod selector of a Deployment or StatefulSet.
func podSelector(workload client.Object) *metav1.LabelSelector {
	switch w := workload.(type) {
	case *appsv1.Deployment:
		return w.Spec.Selector
	case *appsv1.StatefulSet:
		return w.Spec.Selector
	}
	return nil
}

// isWorkload reports whether obj is a kind the runtime rolls out in order:
// the typed forms of the kinds internal/kinds calls rolled, whose status the
// rollout is judged on.
func isWorkload(obj client.Object) bool {
	switch obj.(type) {
	case *appsv1.Deployment, *appsv1.StatefulSet:
		return true
	}
	return false
}

// kindOf names the kind of a typed object for messages.
func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *appsv1.Deployment:
		return "Deployment"
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *policyv1.PodDisruptionBudget:
		return "PodDisruptionBudget"
	}
	if k := obj.GetObjectKind().GroupVersionKind().Kind; k != "" {
		return k
	}
	return fmt.Sprintf("%T", obj)
}
