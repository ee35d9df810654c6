package orchestrate_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/orchestrate"
)

// externalSecret is a Secret node type b consumes (optionally) that the
// operator does not own, like a TLS certificate a user supplies.
const externalSecret = "user-tls"

type workloadKind int

const (
	statefulSet workloadKind = iota
	deployment
)

func intOrString(i int32) intstr.IntOrString { return intstr.FromInt32(i) }

// contentName is a short name suffix derived from a config's content.
func contentName(config map[string]string) string {
	h := fnv.New32a()
	for _, k := range slices.Sorted(maps.Keys(config)) {
		_, _ = h.Write([]byte(k + "=" + config[k] + ";")) // never fails
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// buildNodeType returns the build function of one node type of the test
// Cluster, the way an operator author writes one: a ConfigMap with the node
// type's config, and per group a workload that consumes it (envFrom, so a
// config change rolls it through the config hash) and, for StatefulSets, a
// headless Service. A node type the CR does not list builds nothing, so its
// children are pruned.
func buildNodeType(name string, kind workloadKind) orchestrate.BuildFunc[*testv1.Cluster] {
	return func(_ context.Context, cr *testv1.Cluster) ([]orchestrate.Group, error) {
		var spec *testv1.NodeTypeSpec
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == name {
				spec = &cr.Spec.NodeTypes[i]
			}
		}
		if spec == nil {
			return nil, nil
		}
		image := spec.Image
		if image == "" {
			image = cr.Spec.Image
		}
		config := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: cr.Name + "-" + name + "-config"},
			Data:       maps.Clone(spec.Config),
		}
		if kind == statefulSet && name == "c" {
			// c names its ConfigMap after its content, as many operators
			// do: a config change is a new ConfigMap, and the old one must
			// stay while c's pods still use it.
			config.Name += "-" + contentName(spec.Config)
		}
		groupNames := spec.Groups
		if len(groupNames) == 0 {
			groupNames = []string{""}
		}
		var groups []orchestrate.Group
		for i, g := range groupNames {
			workloadName := cr.Name + "-" + name
			selector := keys.SelectorLabels("testapp", cr.Name, name)
			if g != "" {
				workloadName += "-" + g
				selector[keys.LabelGroup] = g
			}
			podLabels := maps.Clone(selector)
			maps.Copy(podLabels, spec.PodLabels)
			template := corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "main",
						Image: image,
						EnvFrom: []corev1.EnvFromSource{{
							ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: config.Name}},
						}},
					}},
					TerminationGracePeriodSeconds: ptr.To[int64](0),
				},
			}
			if kind == deployment {
				// b also reads a key of a Secret the operator does not own.
				template.Spec.Containers[0].Env = []corev1.EnvVar{{
					Name: "TLS_CERT",
					ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
						LocalObjectReference: corev1.LocalObjectReference{Name: externalSecret},
						Key:                  "cert",
						Optional:             ptr.To(true),
					}},
				}}
			}
			var objs []client.Object
			if i == 0 {
				objs = append(objs, config)
			}
			switch kind {
			case statefulSet:
				objs = append(objs,
					&corev1.Service{
						ObjectMeta: metav1.ObjectMeta{Name: workloadName},
						Spec: corev1.ServiceSpec{
							ClusterIP: corev1.ClusterIPNone,
							Selector:  selector,
							Ports:     []corev1.ServicePort{{Name: "http", Port: 8080}},
						},
					},
					&appsv1.StatefulSet{
						ObjectMeta: metav1.ObjectMeta{Name: workloadName},
						Spec: appsv1.StatefulSetSpec{
							ServiceName: workloadName,
							Replicas:    ptr.To(spec.Replicas),
							Selector:    &metav1.LabelSelector{MatchLabels: selector},
							Template:    template,
						},
					})
			case deployment:
				objs = append(objs, &appsv1.Deployment{
					ObjectMeta: metav1.ObjectMeta{Name: workloadName},
					Spec: appsv1.DeploymentSpec{
						Replicas: ptr.To(spec.Replicas),
						Selector: &metav1.LabelSelector{MatchLabels: selector},
						Template: template,
					},
				})
			}
			groups = append(groups, orchestrate.Group{Name: g, Objects: objs})
		}
		return groups, nil
	}
}
