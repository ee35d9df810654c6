package builder

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
)

// This file holds the replicas rule: a workload desired without replicas
// leaves them to someone else, a HorizontalPodAutoscaler typically, and
// must not lose its pods on the way.
//
// Server-side apply removes a field its manager stops sending when no other
// manager owns it, and the API server then defaults a Deployment's or
// StatefulSet's replicas to 1. So the apply that first leaves replicas out
// would scale a group of ten down to one pod, until the autoscaler scales it
// back. The Builder therefore first hands the field, at its live value, to a
// field manager of its own kept only for that (handoverManager), as the
// Kubernetes documentation transfers ownership to an autoscaler; the
// autoscaler's first scale takes it from there. Sending replicas again
// (autoscaling turned off) takes them back with forced ownership: the
// replicas change, the pod template does not, so nothing rolls.

// handoverSuffix makes the name of the field manager that holds the
// replicas of a workload between the Builder and an autoscaler.
const handoverSuffix = "-handover"

// handoverManager is the field manager that holds replicas the Builder let
// go of.
func (b *Builder) handoverManager() string { return b.cfg.fieldOwner + handoverSuffix }

// handOverReplicas applies live's replicas as handoverManager when p, a
// workload, is desired without replicas while the Builder still owns them
// on live. It writes nothing otherwise. The apply carries live's
// resourceVersion, so a scale made since live was read fails it with a
// conflict instead of being undone.
func (b *Builder) handOverReplicas(ctx context.Context, p *prepared, live client.Object) error {
	if live == nil || !isWorkload(p.gvk) || desiresReplicas(p) || !b.ownsReplicas(live) {
		return nil
	}
	content, err := toContent(live)
	if err != nil {
		return err
	}
	replicas, found, err := unstructured.NestedFieldNoCopy(content, "spec", "replicas")
	if err != nil || !found {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": p.gvk.GroupVersion().String(),
		"kind":       p.gvk.Kind,
		"metadata": map[string]any{
			"name":            live.GetName(),
			"namespace":       live.GetNamespace(),
			"resourceVersion": live.GetResourceVersion(),
		},
		"spec": map[string]any{"replicas": replicas},
	}}
	err = b.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u),
		client.FieldOwner(b.handoverManager()), client.ForceOwnership, eventclient.Before(live),
		eventclient.Detail(fmt.Sprintf("replicas (%v) are no longer set by the operator: they are handed over as they are, for an autoscaler to take", replicas)))
	if err != nil {
		return fmt.Errorf("hand over replicas: %w", err)
	}
	return nil
}

// desiresReplicas reports whether p sets spec.replicas.
func desiresReplicas(p *prepared) bool {
	if err := p.ensureContent(); err != nil {
		// Unreadable desired content fails the apply that follows anyway.
		return true
	}
	_, found, _ := unstructured.NestedFieldNoCopy(p.content, "spec", "replicas")
	return found
}

// ownsReplicas reports whether the Builder's field manager owns
// spec.replicas on live, by its applies.
func (b *Builder) ownsReplicas(live client.Object) bool {
	for _, mf := range live.GetManagedFields() {
		if mf.Manager != b.cfg.fieldOwner || mf.Operation != metav1.ManagedFieldsOperationApply || mf.FieldsV1 == nil {
			continue
		}
		var fields struct {
			Spec map[string]json.RawMessage `json:"f:spec"`
		}
		if err := json.Unmarshal(mf.FieldsV1.GetRawBytes(), &fields); err == nil {
			if _, ok := fields.Spec["f:replicas"]; ok {
				return true
			}
		}
	}
	return false
}
