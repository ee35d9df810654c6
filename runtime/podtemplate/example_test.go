package podtemplate_test

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/opbuilder/opbuilder/runtime/podtemplate"
)

// A user's override adds a sidecar and raises the built container's memory
// setting; the built container keeps its image.
func ExampleMerge() {
	built := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name:  "broker",
		Image: "apache/druid:30.0.0",
		Env:   []corev1.EnvVar{{Name: "DRUID_XMX", Value: "1g"}},
	}}}}
	override := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "broker", Env: []corev1.EnvVar{{Name: "DRUID_XMX", Value: "4g"}}},
		{Name: "exporter", Image: "exporter:1"},
	}}}
	merged, err := podtemplate.Merge(built, override, map[string]string{"app.kubernetes.io/instance": "demo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range merged.Spec.Containers {
		fmt.Println(c.Name, c.Image, c.Env)
	}
	fmt.Println(merged.Labels)
	// Output:
	// broker apache/druid:30.0.0 [{DRUID_XMX 4g nil}]
	// exporter exporter:1 []
	// map[app.kubernetes.io/instance:demo]
}
