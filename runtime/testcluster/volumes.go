package testcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// provisionInterval is how often the volume provisioner looks for claims
// without a volume. It polls rather than watches: a list of claims every
// few hundred milliseconds costs a test cluster nothing, and it has no
// watch to re-establish.
const provisionInterval = 200 * time.Millisecond

// startVolumeProvisioner stands in for the storage provisioner a kwok
// cluster lacks: without one, a StatefulSet's claims stay Pending and the
// scheduler never places its pods. For every Pending claim it makes a
// hostPath PersistentVolume of the claimed size, bound in advance to that
// claim, and kube-controller-manager's volume binder completes the binding.
// The volumes are never written to: kwok runs no containers.
func (c *Cluster) startVolumeProvisioner() {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.stopProvisioner = func() {
		stop()
		<-done
	}
	go func() {
		defer close(done)
		wait.UntilWithContext(ctx, func(ctx context.Context) {
			// A failed round is tried again at the next tick; the claim is
			// still Pending then.
			_ = c.provisionPendingClaims(ctx)
		}, provisionInterval)
	}()
}

// provisionPendingClaims makes a volume for every Pending claim that has
// none yet.
func (c *Cluster) provisionPendingClaims(ctx context.Context) error {
	var claims corev1.PersistentVolumeClaimList
	if err := c.Client.List(ctx, &claims); err != nil {
		return fmt.Errorf("testcluster: listing claims: %w", err)
	}
	for i := range claims.Items {
		claim := &claims.Items[i]
		if claim.Spec.VolumeName != "" || claim.Status.Phase != corev1.ClaimPending || claim.DeletionTimestamp != nil {
			continue
		}
		err := c.Client.Create(ctx, volumeFor(claim))
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("testcluster: making a volume for claim %s/%s: %w", claim.Namespace, claim.Name, err)
		}
	}
	return nil
}

// volumeFor returns the volume made for claim: named after the claim's UID,
// so a claim recreated under the same name gets a volume of its own, and
// bound to it through ClaimRef, so no other claim can take it.
func volumeFor(claim *corev1.PersistentVolumeClaim) *corev1.PersistentVolume {
	name := "testcluster-" + string(claim.UID)
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:         corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:      claim.Spec.AccessModes,
			VolumeMode:       claim.Spec.VolumeMode,
			StorageClassName: ptr.Deref(claim.Spec.StorageClassName, ""),
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			// Retain: deleting a hostPath volume needs a recycler that
			// kube-controller-manager does not run by default.
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: filepath.Join("/var/lib/testcluster", string(claim.UID))},
			},
		},
	}
}
