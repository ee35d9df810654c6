package orchestrate

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// rollout is what the live state of one workload says about its rollout.
type rollout struct {
	// Done is true once the workload's controller has observed the current
	// spec and every desired replica runs it and is ready.
	Done bool
	// Stalled is true when the workload's controller gave up (a Deployment
	// whose progress deadline was exceeded); Done is then false.
	Stalled bool
	// Updating is true while the workload's controller is replacing pods
	// with a new revision, as opposed to waiting for replicas of the current
	// one to become ready.
	Updating bool
	// Message says why the rollout is not done, for conditions and events.
	Message string
	// Reverting is true while the workload is not done only because its
	// controller carries out a revert of drift (revert.go).
	Reverting bool

	Replicas          int32
	ReadyReplicas     int32
	AvailableReplicas int32
	// ConfigHash is the config-hash annotation of the live pod template.
	ConfigHash string
	// Hook is set when the rollout waits for a node type's hook to say yes
	// to a pod (gate.go), Canary when it waits at its canary (canary.go).
	Hook   *hookWait
	Canary *canaryWait
}

// workloadRollout reports the rollout state of a live Deployment or
// StatefulSet. kstatus does most of the work; it is lenient where we must not
// be, so the checks it lacks are made here first:
//   - an observedGeneration that is missing or behind (kstatus skips the
//     check when the field is absent, as on a workload nobody reconciled yet);
//   - a StatefulSet with the OnDelete strategy, which kstatus always calls
//     Current and which the seed library never counted as rolled out: here it
//     is done once its controller observed the spec and all replicas are ready
//     (the operator's user replaces its pods, the runtime does not wait on
//     revisions it cannot drive);
//   - updatedReplicas of a StatefulSet, which kstatus does not compare;
//   - a Deployment's ReplicaFailure condition, which kstatus ignores.
func workloadRollout(obj client.Object) (rollout, error) {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return deploymentRollout(w)
	case *appsv1.StatefulSet:
		return statefulSetRollout(w)
	default:
		return rollout{}, fmt.Errorf("orchestrate: %T is not a workload kind the runtime rolls out", obj)
	}
}

func deploymentRollout(d *appsv1.Deployment) (rollout, error) {
	want := ptr.Deref(d.Spec.Replicas, 1)
	r := rollout{
		Replicas:          want,
		ReadyReplicas:     d.Status.ReadyReplicas,
		AvailableReplicas: d.Status.AvailableReplicas,
		ConfigHash:        d.Spec.Template.Annotations[keys.AnnotationConfigHash],
	}
	if msg, ok := generationPending(d.Generation, d.Status.ObservedGeneration); !ok {
		r.Message, r.Updating = msg, true
		return r, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			r.Message = fmt.Sprintf("replica failure: %s", c.Message)
			return r, nil
		}
	}
	if d.Status.UpdatedReplicas != want || d.Status.Replicas != want || d.Status.ReadyReplicas != want {
		r.Message = fmt.Sprintf("%d of %d replicas updated, %d ready, %d in total", d.Status.UpdatedReplicas, want, d.Status.ReadyReplicas, d.Status.Replicas)
		r.Updating = d.Status.UpdatedReplicas < want || d.Status.Replicas > want
		// A stalled Deployment is reported by kstatus below; keep looking.
	}
	res, err := computeKStatus(deploymentStatusView(d), appsv1.SchemeGroupVersion.String(), "Deployment")
	if err != nil {
		return r, err
	}
	switch res.Status {
	case kstatus.CurrentStatus:
		if r.Message != "" {
			return r, nil
		}
		r.Done = true
	case kstatus.FailedStatus:
		r.Stalled = true
		r.Message = "stalled: " + res.Message
	default:
		if r.Message == "" {
			r.Message = res.Message
		}
	}
	return r, nil
}

func statefulSetRollout(s *appsv1.StatefulSet) (rollout, error) {
	want := ptr.Deref(s.Spec.Replicas, 1)
	r := rollout{
		Replicas:          want,
		ReadyReplicas:     s.Status.ReadyReplicas,
		AvailableReplicas: s.Status.AvailableReplicas,
		ConfigHash:        s.Spec.Template.Annotations[keys.AnnotationConfigHash],
	}
	if msg, ok := generationPending(s.Generation, s.Status.ObservedGeneration); !ok {
		r.Message, r.Updating = msg, true
		return r, nil
	}
	if s.Status.Replicas != want || s.Status.ReadyReplicas != want {
		r.Message = fmt.Sprintf("%d of %d replicas ready, %d in total", s.Status.ReadyReplicas, want, s.Status.Replicas)
		r.Updating = s.Status.UpdateRevision != "" && s.Status.CurrentRevision != s.Status.UpdateRevision
		return r, nil
	}
	if s.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		r.Done = true
		return r, nil
	}
	partition := int32(0)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		partition = ptr.Deref(ru.Partition, 0)
	}
	if wantUpdated := max(want-partition, 0); s.Status.UpdatedReplicas < wantUpdated {
		r.Message = fmt.Sprintf("%d of %d replicas updated to revision %s", s.Status.UpdatedReplicas, wantUpdated, s.Status.UpdateRevision)
		r.Updating = true
		return r, nil
	}
	if partition == 0 && s.Status.CurrentRevision != s.Status.UpdateRevision {
		r.Message = fmt.Sprintf("current revision %s is not yet the update revision %s", s.Status.CurrentRevision, s.Status.UpdateRevision)
		r.Updating = true
		return r, nil
	}
	res, err := computeKStatus(statefulSetStatusView(s), appsv1.SchemeGroupVersion.String(), "StatefulSet")
	if err != nil {
		return r, err
	}
	if res.Status != kstatus.CurrentStatus {
		r.Message = res.Message
		return r, nil
	}
	r.Done = true
	return r, nil
}

// generationPending reports whether the workload's controller has observed
// the latest spec; when it has not, it returns a message saying so.
func generationPending(generation, observed int64) (string, bool) {
	if observed < generation {
		return fmt.Sprintf("controller has not yet observed generation %d (observed %d)", generation, observed), false
	}
	return "", true
}

// deploymentStatusView and statefulSetStatusView return shallow copies of a
// workload without what kstatus never reads: the pod template, the volume
// claim templates, labels, annotations and managed fields, a Deployment's
// strategy, a StatefulSet's maxUnavailable and the conditions' times.
// kstatus reads generation, deletion, replicas, a StatefulSet's update
// strategy and partition, the progress deadline and the status counts,
// revisions and conditions' type, status, reason and message; the
// unstructured converter turns every timestamp, quantity and
// int-or-string into JSON and back, so converting the rest on every pass
// would cost most of the time kstatus takes. The copies share the
// original's maps and slices and only replace fields with new ones, so the
// cached object is not touched. TestStatusViewsKeepTheKStatusVerdict holds
// them to kstatus's answer on the whole object.
func deploymentStatusView(d *appsv1.Deployment) *appsv1.Deployment {
	view := *d
	view.ObjectMeta = statusViewMeta(d.ObjectMeta)
	view.Spec.Template = corev1.PodTemplateSpec{}
	view.Spec.Strategy = appsv1.DeploymentStrategy{}
	view.Status.Conditions = make([]appsv1.DeploymentCondition, len(d.Status.Conditions))
	for i, c := range d.Status.Conditions {
		view.Status.Conditions[i] = appsv1.DeploymentCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
	}
	return &view
}

func statefulSetStatusView(s *appsv1.StatefulSet) *appsv1.StatefulSet {
	view := *s
	view.ObjectMeta = statusViewMeta(s.ObjectMeta)
	view.Spec.Template = corev1.PodTemplateSpec{}
	view.Spec.VolumeClaimTemplates = nil
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		view.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ru.Partition}
	}
	view.Status.Conditions = make([]appsv1.StatefulSetCondition, len(s.Status.Conditions))
	for i, c := range s.Status.Conditions {
		view.Status.Conditions[i] = appsv1.StatefulSetCondition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}
	}
	return &view
}

func statusViewMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, DeletionTimestamp: m.DeletionTimestamp,
	}
}

// computeKStatus runs kstatus on a typed object. Objects read from a typed
// client carry no apiVersion and kind, which kstatus needs to pick the
// kind-specific rules, so they are set on the converted copy.
func computeKStatus(obj client.Object, apiVersion, kind string) (*kstatus.Result, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: convert %s %s for status: %w", kind, obj.GetName(), err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	res, err := kstatus.Compute(u)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: compute status of %s %s: %w", kind, obj.GetName(), err)
	}
	return res, nil
}
