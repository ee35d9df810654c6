package orchestrate

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// withPodTemplate gives a workload's pod template what a real one has, so
// that the views leave something out.
func withPodTemplate(t *corev1.PodTemplateSpec) {
	t.Labels = map[string]string{"app": "db"}
	t.Spec.Containers = []corev1.Container{{
		Name: "db", Image: "db:1",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}},
	}}
}

// TestStatusViewsKeepTheKStatusVerdict: kstatus answers the same on a
// workload's status view as on the whole workload, in every state the
// rollout rules meet, and taking the view changes nothing in the workload.
func TestStatusViewsKeepTheKStatusVerdict(t *testing.T) {
	now := metav1.Now()
	deployments := map[string]func(*appsv1.Deployment){
		"rolled out":            func(*appsv1.Deployment) {},
		"generation not seen":   func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 },
		"old replica running":   func(d *appsv1.Deployment) { d.Status.Replicas = 3 },
		"replica not available": func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 1 },
		"progress deadline exceeded": func(d *appsv1.Deployment) {
			d.Spec.ProgressDeadlineSeconds = ptr.To[int32](60)
			d.Status.Conditions[1] = appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing,
				Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: "too slow"}
		},
		"being deleted": func(d *appsv1.Deployment) { d.DeletionTimestamp = &now },
		"rolling update strategy": func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromString("25%")), MaxUnavailable: ptr.To(intstr.FromInt32(0))}}
			d.Status.Replicas, d.Status.UpdatedReplicas = 3, 1
		},
	}
	for name, mutate := range deployments {
		t.Run("Deployment "+name, func(t *testing.T) {
			d := rolledOutDeployment()
			d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2"}
			withPodTemplate(&d.Spec.Template)
			for i := range d.Status.Conditions {
				d.Status.Conditions[i].LastUpdateTime, d.Status.Conditions[i].LastTransitionTime = now, now
			}
			mutate(d)
			before := d.DeepCopy()
			whole, err := computeKStatus(d, "apps/v1", "Deployment")
			if err != nil {
				t.Fatal(err)
			}
			view, err := computeKStatus(deploymentStatusView(d), "apps/v1", "Deployment")
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(whole, view) {
				t.Errorf("kstatus on the view = %+v, on the whole Deployment = %+v", view, whole)
			}
			if !equality.Semantic.DeepEqual(before, d) {
				t.Error("taking the view changed the Deployment")
			}
		})
	}
	statefulSets := map[string]func(*appsv1.StatefulSet){
		"rolled out":          func(*appsv1.StatefulSet) {},
		"generation not seen": func(s *appsv1.StatefulSet) { s.Status.ObservedGeneration = 2 },
		"replica not ready":   func(s *appsv1.StatefulSet) { s.Status.ReadyReplicas = 2 },
		"held at a partition": func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2), MaxUnavailable: ptr.To(intstr.FromInt32(1))}}
			s.Status.UpdatedReplicas, s.Status.UpdateRevision = 1, "r3"
		},
		"on delete":     func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType },
		"being deleted": func(s *appsv1.StatefulSet) { s.DeletionTimestamp = &now },
	}
	for name, mutate := range statefulSets {
		t.Run("StatefulSet "+name, func(t *testing.T) {
			s := rolledOutStatefulSet()
			withPodTemplate(&s.Spec.Template)
			s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
			mutate(s)
			before := s.DeepCopy()
			whole, err := computeKStatus(s, "apps/v1", "StatefulSet")
			if err != nil {
				t.Fatal(err)
			}
			view, err := computeKStatus(statefulSetStatusView(s), "apps/v1", "StatefulSet")
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(whole, view) {
				t.Errorf("kstatus on the view = %+v, on the whole StatefulSet = %+v", view, whole)
			}
			if !equality.Semantic.DeepEqual(before, s) {
				t.Error("taking the view changed the StatefulSet")
			}
		})
	}
}
