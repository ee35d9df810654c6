package scenario

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// ---- Issue 12: a group's podTemplate ----

// What PodOverride adds to a group's pods through its podTemplate.
const (
	SidecarContainer = "exporter"
	SidecarImage     = "example.com/druid-exporter:1"
	InitContainer    = "prepare"
	InitImage        = "example.com/druid-prepare:1"
	// SidecarVolume holds the Secret the sidecar mounts at SidecarMountPath.
	SidecarVolume    = "exporter-tls"
	SidecarMountPath = "/etc/exporter/tls"
	// SpreadTopologyKey is the key of the topology spread constraint. It is
	// ScheduleAnyway, so that it never keeps a pod from the kwok nodes.
	SpreadTopologyKey = "kubernetes.io/hostname"
	// PodLabel is a label the override gives the pods; not a selector
	// label, which the CRD refuses.
	PodLabel = "e2e.opbuilder.io/tier"
)

// PodOverride is a group's podTemplate as a user writes it.
type PodOverride struct {
	// Labels are podTemplate.metadata.labels.
	Labels map[string]string
	// Spec is podTemplate.spec.
	Spec corev1.PodSpec
	// Secret is the Secret the sidecar mounts.
	Secret string
}

// SidecarOverride returns the podTemplate that adds, to the pods of nodeType's
// group: a sidecar mounting the Secret secret, an initContainer, a
// topology spread constraint over the group's pods and PodLabel.
func (s *Scenario) SidecarOverride(nodeType, group, secret string) PodOverride {
	selector := map[string]string{keys.LabelInstance: s.Instance.Name, keys.LabelComponent: nodeType, keys.LabelGroup: group}
	return PodOverride{
		Labels: map[string]string{PodLabel: group},
		Secret: secret,
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name: SidecarContainer, Image: SidecarImage,
				VolumeMounts: []corev1.VolumeMount{{Name: SidecarVolume, MountPath: SidecarMountPath, ReadOnly: true}},
			}},
			InitContainers: []corev1.Container{{Name: InitContainer, Image: InitImage}},
			TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
				MaxSkew: 1, TopologyKey: SpreadTopologyKey, WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: selector},
			}},
			Volumes: []corev1.Volume{{
				Name:         SidecarVolume,
				VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}},
			}},
		},
	}
}

// SetPodTemplate sets o as the podTemplate of nodeType's first group.
func (s *Scenario) SetPodTemplate(ctx context.Context, nodeType string, o PodOverride) error {
	n, ok := s.Operator.NodeType(nodeType)
	if !ok {
		return fmt.Errorf("unknown node type %q", nodeType)
	}
	value := map[string]any{"metadata": map[string]any{"labels": o.Labels}, "spec": o.Spec}
	patch, err := jsonPatch("add", "/spec/"+n.FieldName()+"/0/podTemplate", value)
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// GroupWorkload returns the workload of nodeType's group.
func (s *Scenario) GroupWorkload(ctx context.Context, nodeType, group string) (Child, error) {
	children, err := s.Children(ctx)
	if err != nil {
		return Child{}, err
	}
	for _, c := range children.OfNodeType(nodeType).Workloads() {
		if c.Group() == group {
			return c, nil
		}
	}
	return Child{}, fmt.Errorf("no workload of %s/%s", nodeType, group)
}

// MainContainer returns the first container of the pod template of
// nodeType's group's workload: the one the operator builds.
func (s *Scenario) MainContainer(ctx context.Context, nodeType, group string) (corev1.Container, error) {
	w, err := s.GroupWorkload(ctx, nodeType, group)
	if err != nil {
		return corev1.Container{}, err
	}
	t := podTemplateOf(w.Object)
	if len(t.Spec.Containers) == 0 {
		return corev1.Container{}, fmt.Errorf("%s has no container", w)
	}
	return t.Spec.Containers[0], nil
}

// CheckOnlyGroupRolled is CheckOnlyRolled for one group's workload: every
// other workload, its node type's other groups included, keeps its
// revisions and generation. newHash says whether the roll must come with
// a new config hash.
func (s *Scenario) CheckOnlyGroupRolled(ctx context.Context, before *Snapshot, nodeType, group string, newHash bool) error {
	return s.checkOnlyRolled(ctx, before, nodeType+"/"+group, newHash,
		func(w WorkloadState) bool { return w.NodeType() == nodeType && w.Group() == group })
}

// CheckPodOverride returns nil when the pod template of nodeType's group's
// workload, and every pod of it, carry what o adds, while main, the
// operator's container as it was before o, is unchanged in the template
// and first everywhere. A pod of the old template (still terminating, or
// not replaced yet) keeps it waiting.
func (s *Scenario) CheckPodOverride(ctx context.Context, nodeType, group string, main corev1.Container, o PodOverride) error {
	w, err := s.GroupWorkload(ctx, nodeType, group)
	if err != nil {
		return err
	}
	t := podTemplateOf(w.Object)
	if len(t.Spec.Containers) == 0 || !equality.Semantic.DeepEqual(t.Spec.Containers[0], main) {
		return permanent("%s: the main container changed or is no longer first: %+v", w, t.Spec.Containers)
	}
	// A StatefulSet's claim templates are volumes of its pods, not of its
	// template.
	problems := o.problems("the pod template of "+w.String(), main.Name, t.Spec, t.Labels, claimNames(w.Object)...)
	pods, err := s.podsOf(ctx, w)
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		return fmt.Errorf("%s has no pods yet", w)
	}
	for _, p := range pods {
		problems = append(problems, o.problems("pod "+p.Name, main.Name, p.Spec, p.Labels)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the podTemplate override is not everywhere yet:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// problems lists what of o spec and labels lack, where names them; claims
// are volumes the pods get besides spec's.
func (o PodOverride) problems(where, main string, spec corev1.PodSpec, labels map[string]string, claims ...string) []string {
	var out []string
	miss := func(format string, args ...any) { out = append(out, where+": "+fmt.Sprintf(format, args...)) }
	if len(spec.Containers) == 0 || spec.Containers[0].Name != main {
		miss("containers %v, want %q first", containerNames(spec.Containers), main)
	}
	if c := findContainer(spec.Containers, SidecarContainer); c == nil || c.Image != SidecarImage ||
		!slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == SidecarVolume && m.MountPath == SidecarMountPath }) {
		miss("no sidecar %s (%s) mounting %s at %s: %v", SidecarContainer, SidecarImage, SidecarVolume, SidecarMountPath, containerNames(spec.Containers))
	}
	if c := findContainer(spec.InitContainers, InitContainer); c == nil || c.Image != InitImage {
		miss("no initContainer %s (%s): %v", InitContainer, InitImage, containerNames(spec.InitContainers))
	}
	if !slices.ContainsFunc(spec.TopologySpreadConstraints, func(c corev1.TopologySpreadConstraint) bool {
		return c.TopologyKey == SpreadTopologyKey && c.MaxSkew == 1
	}) {
		miss("no topology spread constraint over %s: %+v", SpreadTopologyKey, spec.TopologySpreadConstraints)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, c := range claims {
		volumes[c] = corev1.Volume{Name: c}
	}
	if v, ok := volumes[SidecarVolume]; !ok || v.Secret == nil || v.Secret.SecretName != o.Secret {
		miss("no volume %s of Secret %s: %v", SidecarVolume, o.Secret, slices.Sorted(maps.Keys(volumes)))
	}
	// The volumes the operator built stay: every mount of its container
	// still has its volume.
	if len(spec.Containers) > 0 {
		for _, m := range spec.Containers[0].VolumeMounts {
			if _, ok := volumes[m.Name]; !ok && !strings.HasPrefix(m.Name, "kube-api-access-") {
				miss("the main container mounts %s, which is no volume any more", m.Name)
			}
		}
	}
	for k, v := range o.Labels {
		if labels[k] != v {
			miss("label %s=%q, want %q", k, labels[k], v)
		}
	}
	return out
}

func findContainer(cs []corev1.Container, name string) *corev1.Container {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func containerNames(cs []corev1.Container) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// claimNames returns the names of a StatefulSet's volume claim templates.
func claimNames(o client.Object) []string {
	sts, ok := o.(*appsv1.StatefulSet)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(sts.Spec.VolumeClaimTemplates))
	for _, c := range sts.Spec.VolumeClaimTemplates {
		out = append(out, c.Name)
	}
	return out
}

func podTemplateOf(o client.Object) corev1.PodTemplateSpec {
	switch w := o.(type) {
	case *appsv1.Deployment:
		return w.Spec.Template
	case *appsv1.StatefulSet:
		return w.Spec.Template
	}
	return corev1.PodTemplateSpec{}
}

// podsOf lists the pods of workload w that are not being deleted.
func (s *Scenario) podsOf(ctx context.Context, w Child) ([]corev1.Pod, error) {
	var selector *metav1.LabelSelector
	switch o := w.Object.(type) {
	case *appsv1.Deployment:
		selector = o.Spec.Selector
	case *appsv1.StatefulSet:
		selector = o.Spec.Selector
	}
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("%s: selector: %w", w, err)
	}
	var pods corev1.PodList
	if err := s.Cluster.Client.List(ctx, &pods, client.InNamespace(s.Instance.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return p.DeletionTimestamp != nil }), nil
}

// RotateSecret replaces the data of the Secret name, as a user rotating a
// certificate would, keeping its labels.
func (s *Scenario) RotateSecret(ctx context.Context, name string, data map[string][]byte) error {
	var secret corev1.Secret
	if err := s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: s.Instance.Namespace, Name: name}, &secret); err != nil {
		return err
	}
	secret.Data = data
	if err := s.Cluster.Client.Update(ctx, &secret); err != nil {
		return fmt.Errorf("rotating Secret %s: %w", name, err)
	}
	return nil
}

// CheckNotOwned returns a permanent error when the Secret name is owned by
// anything or labelled as the CR's child: it is the user's, watched but
// never garbage-collected or pruned with the CR.
func (s *Scenario) CheckNotOwned(ctx context.Context, name string) error {
	var secret corev1.Secret
	if err := s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: s.Instance.Namespace, Name: name}, &secret); err != nil {
		return err
	}
	if len(secret.OwnerReferences) > 0 || secret.Labels[keys.LabelOwnerUID] != "" {
		return permanent("the user's Secret %s is owned: owners %v, labels %v", name, secret.OwnerReferences, secret.Labels)
	}
	return nil
}

// ---- Issue 12: the CR's shared config ----

// SharedConfigFile is the file the scaffolded sample puts in spec.config.
const SharedConfigFile = "common.properties"

// ChangeSharedConfig sets file of spec.config to content and returns the
// resourceVersion of the change.
func (s *Scenario) ChangeSharedConfig(ctx context.Context, file, content string) (uint64, error) {
	patch, err := jsonPatch("add", "/spec/config/"+file, content)
	if err != nil {
		return 0, err
	}
	return s.Instance.Patch(ctx, patch)
}

// CheckSharedConfig returns nil once the shared ConfigMap holds content in
// file and is controlled by the CR.
func (s *Scenario) CheckSharedConfig(ctx context.Context, file, content string) error {
	var cm corev1.ConfigMap
	if err := s.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: s.Instance.Namespace, Name: SharedConfigName(s.Instance.Name)}, &cm); err != nil {
		return err
	}
	if ref := metav1.GetControllerOf(&cm); ref == nil || ref.UID != s.UID {
		return permanent("ConfigMap %s is not controlled by the %s: %v", objectName(&cm), s.Operator.Kind, cm.OwnerReferences)
	}
	if cm.Data[file] != content {
		return fmt.Errorf("ConfigMap %s has %s = %q, want %q", objectName(&cm), file, cm.Data[file], content)
	}
	return nil
}

// CheckConfigRollout is CheckOrderedRollout for a change of what every
// workload consumes: the rollouts since resourceVersion since are the
// workloads' moves to a config hash other than the one they had in before,
// and must follow order.
func (s *Scenario) CheckConfigRollout(ctx context.Context, before *Snapshot, since uint64, order []string) ([]Rollout, error) {
	old := map[string]string{}
	for _, w := range before.Workloads {
		old[w.Kind+"/"+w.Object.GetName()] = w.ConfigHash
	}
	rollouts, err := s.Recorder.Rollouts(since, func(o Observation) bool {
		h, ok := old[o.Kind+"/"+o.Name]
		return ok && o.ConfigHash != h
	})
	if err != nil {
		return nil, err
	}
	groups, _, err := s.Groups(ctx)
	if err != nil {
		return rollouts, err
	}
	return rollouts, CheckOrder(rollouts, order, groups)
}

// ---- Issue 12: autoscaling ----

// SetAutoscaling makes nodeType's first group autoscale between minimum
// and maximum.
func (s *Scenario) SetAutoscaling(ctx context.Context, nodeType string, minimum, maximum int32) error {
	n, ok := s.Operator.NodeType(nodeType)
	if !ok {
		return fmt.Errorf("unknown node type %q", nodeType)
	}
	patch, err := jsonPatch("add", "/spec/"+n.FieldName()+"/0/autoscaling", map[string]int32{"minReplicas": minimum, "maxReplicas": maximum})
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// RemoveAutoscaling turns nodeType's first group's autoscaling off.
func (s *Scenario) RemoveAutoscaling(ctx context.Context, nodeType string) error {
	n, ok := s.Operator.NodeType(nodeType)
	if !ok {
		return fmt.Errorf("unknown node type %q", nodeType)
	}
	patch, err := jsonPatch("remove", "/spec/"+n.FieldName()+"/0/autoscaling", nil)
	if err != nil {
		return err
	}
	_, err = s.Instance.Patch(ctx, patch)
	return err
}

// CheckAutoscaled returns nil once the HorizontalPodAutoscaler of w, a
// workload, exists, is controlled by the CR, targets w and has the bounds
// minimum and maximum, and w runs minimum replicas, all Ready: an
// autoscaler that cannot read metrics (there is no metrics server) still
// raises a workload below its minimum to it.
func (s *Scenario) CheckAutoscaled(ctx context.Context, w Child, minimum, maximum int32) error {
	var hpa autoscalingv2.HorizontalPodAutoscaler
	switch err := s.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(w.Object), &hpa); {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("no HorizontalPodAutoscaler %s yet", objectName(w.Object))
	case err != nil:
		return err
	}
	if ref := metav1.GetControllerOf(&hpa); ref == nil || ref.UID != s.UID {
		return permanent("HorizontalPodAutoscaler %s is not controlled by the %s: %v", objectName(&hpa), s.Operator.Kind, hpa.OwnerReferences)
	}
	target := autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: w.Kind, Name: w.Object.GetName()}
	if hpa.Spec.ScaleTargetRef != target || ptr.Deref(hpa.Spec.MinReplicas, 1) != minimum || hpa.Spec.MaxReplicas != maximum {
		return permanent("HorizontalPodAutoscaler %s targets %+v with %d..%d replicas, want %+v with %d..%d",
			objectName(&hpa), hpa.Spec.ScaleTargetRef, ptr.Deref(hpa.Spec.MinReplicas, 1), hpa.Spec.MaxReplicas, target, minimum, maximum)
	}
	return s.checkWorkloadReplicas(ctx, w, minimum)
}

// checkWorkloadReplicas returns nil once workload w asks for replicas
// pods and is rolled out with all of them Ready.
func (s *Scenario) checkWorkloadReplicas(ctx context.Context, w Child, replicas int32) error {
	snap, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	st, ok := snap.Workloads[w.String()]
	if !ok {
		return permanent("%s disappeared", w)
	}
	if st.Replicas != replicas || !st.RolledOut() {
		return fmt.Errorf("%s, want %d replicas rolled out", st, replicas)
	}
	return nil
}

// AutoscalerScales returns the writes to the scale subresource of workload
// w since since by anyone but the operator: the autoscaler's.
func (s *Scenario) AutoscalerScales(since time.Time, w Child) ([]testcluster.AuditEvent, error) {
	resource := strings.ToLower(w.Kind) + "s"
	return s.Cluster.AuditEvents(func(e testcluster.AuditEvent) bool {
		r := e.ObjectRef
		return e.IsWrite() && e.User.Username != s.Identity.Username && !e.StageTimestamp.Time.Before(since) &&
			r != nil && r.Resource == resource && r.Subresource == "scale" && r.Namespace == w.Object.GetNamespace() && r.Name == w.Object.GetName()
	})
}

// CheckHandedBack returns nil once workload w has no
// HorizontalPodAutoscaler any more and runs replicas pods, the CR's value,
// all Ready.
func (s *Scenario) CheckHandedBack(ctx context.Context, w Child, replicas int32) error {
	err := s.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(w.Object), &autoscalingv2.HorizontalPodAutoscaler{})
	switch {
	case err == nil:
		return fmt.Errorf("HorizontalPodAutoscaler %s is not pruned yet", objectName(w.Object))
	case !apierrors.IsNotFound(err):
		return err
	}
	return s.checkWorkloadReplicas(ctx, w, replicas)
}

// CheckNoRollout returns a permanent error when a workload of before is
// gone or has a revision or a config hash other than in before, or, unless
// it is scaled (a Child.String()), another generation: a change of
// replicas rolls no pod.
func (s *Scenario) CheckNoRollout(ctx context.Context, before *Snapshot, scaled string) error {
	after, err := s.Snapshot(ctx)
	if err != nil {
		return err
	}
	for key, b := range before.Workloads {
		a, ok := after.Workloads[key]
		switch {
		case !ok:
			return permanent("%s disappeared", key)
		case a.Revisions != b.Revisions || a.ConfigHash != b.ConfigHash:
			return permanent("%s rolled: revisions %d → %d, config hash %q → %q", key, b.Revisions, a.Revisions, b.ConfigHash, a.ConfigHash)
		case key != scaled && a.Object.GetGeneration() != b.Object.GetGeneration():
			return permanent("%s was changed: generation %d → %d", key, b.Object.GetGeneration(), a.Object.GetGeneration())
		}
	}
	return nil
}
