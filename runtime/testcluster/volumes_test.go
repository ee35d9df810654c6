package testcluster_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// TestVolumeProvisionerLetsStatefulSetPodsStart: on kwok nodes, which have
// no storage, a StatefulSet with a volume claim template gets its claims
// bound and its pods Ready, each claim to a volume of its own size.
func TestVolumeProvisionerLetsStatefulSetPodsStart(t *testing.T) {
	ctx := t.Context()
	c := start(t, testcluster.WithKwokNodes(1), testcluster.WithVolumeProvisioner())
	cl := c.Client

	labels := map[string]string{"app": "db"}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "db", Image: "db:1",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("3Gi")},
					},
				},
			}},
		},
	}
	if err := cl.Create(ctx, sts); err != nil {
		t.Fatal(err)
	}

	eventually(t, "the StatefulSet to report 2 ready replicas", func(ctx context.Context) (bool, error) {
		var got appsv1.StatefulSet
		if err := cl.Get(ctx, client.ObjectKeyFromObject(sts), &got); err != nil {
			return false, err
		}
		return got.Status.ReadyReplicas == 2, nil
	})

	var claims corev1.PersistentVolumeClaimList
	if err := cl.List(ctx, &claims, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	if len(claims.Items) != 2 {
		t.Fatalf("%d claims, want 2", len(claims.Items))
	}
	volumes := map[string]bool{}
	for _, claim := range claims.Items {
		if claim.Status.Phase != corev1.ClaimBound {
			t.Errorf("claim %s is %s, want Bound", claim.Name, claim.Status.Phase)
		}
		var pv corev1.PersistentVolume
		if err := cl.Get(ctx, client.ObjectKey{Name: claim.Spec.VolumeName}, &pv); err != nil {
			t.Fatalf("claim %s: its volume: %v", claim.Name, err)
		}
		if got := pv.Spec.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("3Gi")) != 0 {
			t.Errorf("volume of claim %s holds %s, want 3Gi", claim.Name, got.String())
		}
		volumes[pv.Name] = true
	}
	if len(volumes) != 2 {
		t.Errorf("the claims share volumes: %v", volumes)
	}
}
