package bench

import (
	"crypto/sha1" //nolint:gosec // the seed pattern hashed with SHA-1; it is a change detector, not a security measure
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

const (
	// LabelApproach on a Cluster names the approach whose operator reconciles
	// it; every operator's cache holds only the Clusters carrying its name.
	LabelApproach = "bench.opbuilder.io/approach"
	// AnnotationConfigHash is the pod-template annotation in which the
	// CreateOrUpdate and always-apply baselines put the hash of the desired
	// ConfigMap, so that a config change rolls the workload.
	AnnotationConfigHash = "bench.opbuilder.io/config-hash"
	// AnnotationDesiredHash is the annotation in which the seed pattern keeps
	// the hash of the whole desired object.
	AnnotationDesiredHash = "bench.opbuilder.io/desired-hash"

	appName       = "bench"
	defaultImage  = "registry.example/bench:1.0"
	containerName = "main"
	configKey     = "runtime.properties"
	configVolume  = "config"
	portName      = "http"
	port          = 8080
)

// RolloutStyle says how a config change reaches a workload's pod template.
type RolloutStyle int

const (
	// RolloutByRuntime leaves the pod template alone: opbuilder's builder
	// stamps the hash of the consumed ConfigMaps itself.
	RolloutByRuntime RolloutStyle = iota
	// RolloutTemplateAnnotation puts the hash of the desired ConfigMap in a
	// pod-template annotation, as hand-written operators usually do.
	RolloutTemplateAnnotation
	// RolloutEnvPerConfigMap adds an environment variable per ConfigMap
	// holding its hash, as the seed library's users did.
	RolloutEnvPerConfigMap
)

// NodeTypeName is the name of the i-th node type of a bench Cluster.
func NodeTypeName(i int) string { return fmt.Sprintf("nt%d", i) }

// ConfigMapName is the name of a node type's ConfigMap.
func ConfigMapName(cluster, nodeType string) string { return cluster + "-" + nodeType + "-config" }

// WorkloadName is the name of a node type's Deployment, Service and
// PodDisruptionBudget.
func WorkloadName(cluster, nodeType string) string { return cluster + "-" + nodeType }

// NewCluster returns a Cluster with n node types of the given replica count,
// labelled for approach.
func NewCluster(namespace, name, approach string, n int, replicas int32) *testapiv1.Cluster {
	cr := &testapiv1.Cluster{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      name,
			Labels:    map[string]string{LabelApproach: approach},
		},
		Spec: testapiv1.ClusterSpec{Image: defaultImage},
	}
	for i := range n {
		cr.Spec.NodeTypes = append(cr.Spec.NodeTypes, testapiv1.NodeTypeSpec{
			Name:     NodeTypeName(i),
			Replicas: replicas,
			Config:   map[string]string{"druid.port": "8080", "druid.node": NodeTypeName(i), "edit": "0"},
		})
	}
	return cr
}

// NodeType holds the desired children of one node type.
type NodeType struct {
	Name       string
	ConfigMap  *corev1.ConfigMap
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	PDB        *policyv1.PodDisruptionBudget
}

// Objects returns the node type's children in dependency order.
func (n NodeType) Objects() []client.Object {
	return []client.Object{n.ConfigMap, n.Deployment, n.Service, n.PDB}
}

// Desired returns the desired children of every node type of cr. fieldOwner
// is the app.kubernetes.io/managed-by label; style says how a config change
// reaches the pod template. Owner references are left to the approaches.
func Desired(cr *testapiv1.Cluster, fieldOwner string, style RolloutStyle) []NodeType {
	out := make([]NodeType, 0, len(cr.Spec.NodeTypes))
	for _, nt := range cr.Spec.NodeTypes {
		out = append(out, desiredNodeType(cr, nt, fieldOwner, style))
	}
	return out
}

// DesiredNodeType returns the desired children of the node type of cr named
// name; ok is false when cr has no such node type.
func DesiredNodeType(cr *testapiv1.Cluster, name, fieldOwner string, style RolloutStyle) (nt NodeType, ok bool) {
	for _, spec := range cr.Spec.NodeTypes {
		if spec.Name == name {
			return desiredNodeType(cr, spec, fieldOwner, style), true
		}
	}
	return NodeType{}, false
}

func desiredNodeType(cr *testapiv1.Cluster, nt testapiv1.NodeTypeSpec, fieldOwner string, style RolloutStyle) NodeType {
	ns, name := cr.Namespace, WorkloadName(cr.Name, nt.Name)
	labels := keys.StandardLabels(appName, cr.Name, nt.Name, fieldOwner)
	selector := map[string]string{keys.LabelInstance: cr.Name, keys.LabelComponent: nt.Name}
	meta := func(n string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: n, Labels: maps.Clone(labels)}
	}

	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(ConfigMapName(cr.Name, nt.Name)),
		Data:       map[string]string{configKey: renderProperties(nt.Config)},
	}

	image := nt.Image
	if image == "" {
		image = cr.Spec.Image
	}
	if image == "" {
		image = defaultImage
	}
	container := corev1.Container{
		Name:         containerName,
		Image:        image,
		Ports:        []corev1.ContainerPort{{Name: portName, ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		VolumeMounts: []corev1.VolumeMount{{Name: configVolume, MountPath: "/etc/bench"}},
	}
	template := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(selector)},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{
				Name: configVolume,
				VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
				}},
			}},
		},
	}
	for k, v := range nt.PodLabels {
		template.Labels[k] = v
	}
	switch style {
	case RolloutTemplateAnnotation:
		template.Annotations = map[string]string{AnnotationConfigHash: hashData(cm.Data)}
	case RolloutEnvPerConfigMap:
		container.Env = append(container.Env, corev1.EnvVar{Name: envHashName(cm.Name), Value: sha1Data(cm.Data)})
	case RolloutByRuntime:
	}
	template.Spec.Containers = []corev1.Container{container}

	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(name),
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(nt.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: maps.Clone(selector)},
			Template: template,
		},
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(name),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: maps.Clone(selector),
			Ports: []corev1.ServicePort{{
				Name: portName, Port: port, TargetPort: intstr.FromInt32(port), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	pdb := &policyv1.PodDisruptionBudget{
		TypeMeta:   metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"},
		ObjectMeta: meta(name),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr.To(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: maps.Clone(selector)},
		},
	}
	return NodeType{Name: nt.Name, ConfigMap: cm, Deployment: dep, Service: svc, PDB: pdb}
}

// renderProperties renders a config map as sorted key=value lines.
func renderProperties(cfg map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		fmt.Fprintf(&b, "%s=%s\n", k, cfg[k])
	}
	return b.String()
}

// hashData is the SHA-256 of a ConfigMap's data, independent of key order.
func hashData(data map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		_, _ = fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(data[k]), data[k]) // a hash.Hash never fails to write
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// sha1JSON is the seed library's change detector: SHA-1 of the JSON form.
func sha1JSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("marshal for hash: %w", err)
	}
	sum := sha1.Sum(b) //nolint:gosec // see import
	return hex.EncodeToString(sum[:]), nil
}

// sha1Data is the seed users' per-ConfigMap hash: SHA-1 of the data in key
// order.
func sha1Data(data map[string]string) string {
	h := sha1.New() //nolint:gosec // see import
	for _, k := range slices.Sorted(maps.Keys(data)) {
		_, _ = fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(data[k]), data[k]) // a hash.Hash never fails to write
	}
	return hex.EncodeToString(h.Sum(nil))
}

func envHashName(configMap string) string {
	r := strings.NewReplacer("-", "_", ".", "_")
	return "CONFIGMAP_" + strings.ToUpper(r.Replace(configMap)) + "_HASH"
}
