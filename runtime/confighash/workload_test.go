package confighash_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/opbuilder/opbuilder/runtime/confighash"
)

func TestWorkloadReferences(t *testing.T) {
	template := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Volumes: []corev1.Volume{{
		Name: "config",
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "app"},
		}},
	}}}}
	workloads := map[string]runtime.Object{
		"Deployment":  &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: template}},
		"StatefulSet": &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: template}},
	}
	for kind, obj := range workloads {
		refs := confighash.WorkloadReferences(obj)
		if len(refs) != 1 || refs[0].Kind != confighash.KindConfigMap || refs[0].Name != "app" {
			t.Errorf("%s: references = %+v, want the ConfigMap app", kind, refs)
		}
		if confighash.PodTemplateOf(obj) == nil {
			t.Errorf("%s: no pod template", kind)
		}
	}
	pod := &corev1.Pod{Spec: template.Spec}
	if refs := confighash.WorkloadReferences(pod); refs != nil {
		t.Errorf("a Pod is not a workload the runtime hashes; got %+v", refs)
	}
}
