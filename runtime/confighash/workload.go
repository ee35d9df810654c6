package confighash

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PodTemplateOf returns the pod template of a workload whose configuration
// the runtime hashes (a Deployment or a StatefulSet), or nil for any other
// object. The builder stamps the hash on it, and the cache scope and the
// orchestrator read its references, all through this one function.
func PodTemplateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	switch w := obj.(type) {
	case *appsv1.Deployment:
		return &w.Spec.Template
	case *appsv1.StatefulSet:
		return &w.Spec.Template
	default:
		return nil
	}
}

// WorkloadReferences returns the ConfigMaps and Secrets the pod template of
// a Deployment or StatefulSet consumes, and nil for any other object.
func WorkloadReferences(obj runtime.Object) []Ref {
	tmpl := PodTemplateOf(obj)
	if tmpl == nil {
		return nil
	}
	return References(&tmpl.Spec)
}
