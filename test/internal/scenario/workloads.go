package scenario

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// WorkloadState is what a user checks about a StatefulSet or Deployment.
type WorkloadState struct {
	Child
	// Replicas is spec.replicas.
	Replicas int32
	// ReadyPods counts the pods its selector matches that are Ready.
	ReadyPods int
	// Pods counts the pods its selector matches.
	Pods int
	// Status is kstatus' verdict: Current once fully rolled out.
	Status status.Status
	// Revisions counts its ReplicaSets (Deployment) or ControllerRevisions
	// (StatefulSet): one more each time its pod template changes.
	Revisions int
	// Image is the image of the pod template's first container.
	Image string
	// ConfigHash is the opbuilder.io/config-hash annotation of the pod
	// template.
	ConfigHash string
}

// RolledOut reports whether the workload is fully rolled out and every
// desired pod is Ready.
func (w WorkloadState) RolledOut() bool {
	return w.Status == status.CurrentStatus && w.ReadyPods == int(w.Replicas) && w.Pods == int(w.Replicas)
}

// String summarises the state for progress lines and messages.
func (w WorkloadState) String() string {
	return fmt.Sprintf("%s: %d/%d pods ready, %s, %d revisions", w.Child, w.ReadyPods, w.Replicas, w.Status, w.Revisions)
}

// ReadWorkloads lists the children of the CR with the given UID and the
// state of their workloads.
//
// The reads are ordered so that the result is consistent although it is not
// one snapshot: ReplicaSets and ControllerRevisions are listed before the
// workloads, so every revision counted was made for a pod template that the
// workload read afterwards already has (or has moved past). Read the other
// way round, a workload changed between the two reads would show a new
// revision next to its old template.
func ReadWorkloads(ctx context.Context, c client.Client, namespace string, owner types.UID) (Children, []WorkloadState, error) {
	var rss appsv1.ReplicaSetList
	if err := c.List(ctx, &rss, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing ReplicaSets: %w", err)
	}
	var revs appsv1.ControllerRevisionList
	if err := c.List(ctx, &revs, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing ControllerRevisions: %w", err)
	}
	cs, err := ListChildren(ctx, c, namespace, owner)
	if err != nil {
		return nil, nil, err
	}
	var pods corev1.PodList
	if err := c.List(ctx, &pods, client.InNamespace(namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing pods: %w", err)
	}
	states, err := workloadStates(cs, &rss, &revs, &pods)
	if err != nil {
		return nil, nil, err
	}
	return cs, states, nil
}

func workloadStates(cs Children, rss *appsv1.ReplicaSetList, revs *appsv1.ControllerRevisionList, pods *corev1.PodList) ([]WorkloadState, error) {

	var out []WorkloadState
	for _, w := range cs.Workloads() {
		st := WorkloadState{Child: w}
		var selector *metav1.LabelSelector
		var template corev1.PodTemplateSpec
		switch o := w.Object.(type) {
		case *appsv1.Deployment:
			st.Replicas = ptr.Deref(o.Spec.Replicas, 1)
			selector, template = o.Spec.Selector, o.Spec.Template
			for i := range rss.Items {
				if metav1.IsControlledBy(&rss.Items[i], o) {
					st.Revisions++
				}
			}
		case *appsv1.StatefulSet:
			st.Replicas = ptr.Deref(o.Spec.Replicas, 1)
			selector, template = o.Spec.Selector, o.Spec.Template
			for i := range revs.Items {
				if metav1.IsControlledBy(&revs.Items[i], o) {
					st.Revisions++
				}
			}
		default:
			return nil, fmt.Errorf("%s: unexpected workload type %T", w, w.Object)
		}
		if len(template.Spec.Containers) > 0 {
			st.Image = template.Spec.Containers[0].Image
		}
		st.ConfigHash = template.Annotations[keys.AnnotationConfigHash]

		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return nil, fmt.Errorf("%s: selector: %w", w, err)
		}
		st.Pods, st.ReadyPods = countPods(pods.Items, sel)

		u, err := toUnstructured(w.Object)
		if err != nil {
			return nil, err
		}
		// Typed objects read from a client carry no apiVersion and kind,
		// which kstatus needs to pick its rules for the kind.
		u.SetAPIVersion(appsv1.SchemeGroupVersion.String())
		u.SetKind(w.Kind)
		res, err := status.Compute(u)
		if err != nil {
			return nil, fmt.Errorf("%s: computing status: %w", w, err)
		}
		st.Status = res.Status
		out = append(out, st)
	}
	return out, nil
}

func countPods(pods []corev1.Pod, sel labels.Selector) (total, ready int) {
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		total++
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return total, ready
}

// toUnstructured converts a typed object for kstatus, which reads
// unstructured objects.
func toUnstructured(o client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", o, err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}
