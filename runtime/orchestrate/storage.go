package orchestrate

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// A grown storage request is patched onto a StatefulSet's claims by the
// Builder (its storage rules), but the volume grows later, when the storage
// driver and the kubelet get to it. Until every claim's status.capacity
// reaches its request the node type reports StorageResizing, and the CR is
// not Ready.
//
// Claims are not in the label-scoped cache (the StatefulSet controller
// makes them, without the operator's labels) and their resize brings no
// watch event, so they are listed from the API server, and only while a
// resize may be pending: in the pass that recreated the StatefulSet, and in
// every pass while the node type's status still says StorageResizing. That
// condition is the record of the pending resize, so it survives an operator
// restart, and a steady-state pass lists nothing.

// resizeCheck reports whether the claims of the node type's StatefulSet must
// be checked in this pass.
func resizeCheck(prev *status.NodeTypeStatus, res builder.Result) bool {
	if res.Operation == builder.OperationRecreated || res.Operation == builder.OperationRecreating {
		return true
	}
	return prev != nil && meta.IsStatusConditionTrue(prev.Conditions, ConditionStorageResizing)
}

// previousStatus returns the node type's entry in the CR's status, nil when
// there is none.
func previousStatus[T Object](owner T, nodeType string) *status.NodeTypeStatus {
	nts := owner.GetClusterStatus().NodeTypes
	for i := range nts {
		if nts[i].Name == nodeType {
			return &nts[i]
		}
	}
	return nil
}

// resizing reports whether a node type of the pass has a claim below its
// request.
func resizing(nts []nodeTypeObserved) bool {
	for _, nt := range nts {
		if len(nt.Resizing) > 0 {
			return true
		}
	}
	return false
}

// claimsBelowRequest returns the claims of the desired StatefulSet sts (in
// namespace) whose capacity is below what its volumeClaimTemplate requests,
// each as "<claim>: <capacity> of <request>".
func (o *Orchestrator[T]) claimsBelowRequest(ctx context.Context, namespace string, sts *appsv1.StatefulSet) ([]string, error) {
	if len(sts.Spec.VolumeClaimTemplates) == 0 || sts.Spec.Selector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(sts.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: selector of StatefulSet %q: %w", sts.Name, err)
	}
	var claims corev1.PersistentVolumeClaimList
	if err := o.apiReader.List(ctx, &claims, client.InNamespace(namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("orchestrate: list the claims of StatefulSet %q: %w", sts.Name, err)
	}
	var below []string
	for _, t := range sts.Spec.VolumeClaimTemplates {
		want, ok := t.Spec.Resources.Requests[corev1.ResourceStorage]
		if !ok {
			continue
		}
		prefix := t.Name + "-" + sts.Name + "-"
		for _, c := range claims.Items {
			if !strings.HasPrefix(c.Name, prefix) || c.DeletionTimestamp != nil || c.Status.Phase != corev1.ClaimBound {
				// An unbound claim has no volume to grow yet.
				continue
			}
			if got := c.Status.Capacity[corev1.ResourceStorage]; got.Cmp(want) < 0 {
				below = append(below, fmt.Sprintf("%s: %s of %s", c.Name, got.String(), want.String()))
			}
		}
	}
	return below, nil
}
