package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// clusterName is the name of every Cluster of the steady, edit, cpu and
// drift phases; each lives in a namespace of its own.
const clusterName = "c"

func sizeNamespace(approach string, nodeTypes int) string {
	return fmt.Sprintf("%s-n%d", approach, nodeTypes)
}

func scaleNamespace(approach string) string { return approach + "-scale" }

// manyReplicasNamespace holds an approach's Cluster whose workloads run
// Sizes.ManyReplicas replicas.
func manyReplicasNamespace(approach string, replicas int32) string {
	return fmt.Sprintf("%s-r%d", approach, replicas)
}

// editSize is one Cluster of the steady and edit phases.
type editSize struct {
	namespace string
	nodeTypes int
	replicas  int32
}

// editSizes are an approach's Clusters of the steady and edit phases: one
// of each size with one replica per workload, and one with ManyReplicas.
func (d *driver) editSizes(approach string) []editSize {
	var out []editSize
	for _, n := range d.sizes.NodeTypes {
		out = append(out, editSize{namespace: sizeNamespace(approach, n), nodeTypes: n, replicas: 1})
	}
	if d.sizes.ManyReplicas > 0 {
		out = append(out, editSize{namespace: manyReplicasNamespace(approach, d.sizes.ManyReplicas),
			nodeTypes: d.sizes.ManyReplicasNodeTypes, replicas: d.sizes.ManyReplicas})
	}
	return out
}

// approachNamespaces are the namespaces an approach's operator caches.
func (d *driver) approachNamespaces(approach string) []string {
	var out []string
	for _, s := range d.editSizes(approach) {
		out = append(out, s.namespace)
	}
	return append(out, scaleNamespace(approach))
}

// operator returns the approach's main operator, starting it (and creating
// its namespaces) when it is not running.
func (d *driver) operator(ctx context.Context, a Approach) (*operatorProc, error) {
	if p, ok := d.operators[a.Name()]; ok {
		return p, nil
	}
	for _, ns := range d.approachNamespaces(a.Name()) {
		if err := d.ensureNamespace(ctx, ns); err != nil {
			return nil, err
		}
	}
	p, err := d.startOperator(ctx, a.Name(), "main", d.approachNamespaces(a.Name()), a.ScopedCache())
	if err != nil {
		return nil, err
	}
	d.operators[a.Name()] = p
	return p, nil
}

// steadyPhase starts every approach's operator, creates one Cluster per
// size for each, waits until all are converged and then counts what each
// operator does while nothing changes.
func (d *driver) steadyPhase(ctx context.Context) error {
	for _, a := range d.approaches {
		for _, ns := range d.approachNamespaces(a.Name()) {
			if err := d.ensureNamespace(ctx, ns); err != nil {
				return err
			}
		}
		if _, err := d.operator(ctx, a); err != nil {
			return err
		}
	}
	t0 := time.Now()
	for _, a := range d.approaches {
		for _, sz := range d.editSizes(a.Name()) {
			cr := NewCluster(sz.namespace, clusterName, a.Name(), sz.nodeTypes, sz.replicas)
			if err := d.client.Create(ctx, cr); err != nil {
				return fmt.Errorf("create cluster %s/%s: %w", cr.Namespace, cr.Name, err)
			}
		}
	}
	var errs []error
	for _, a := range d.approaches {
		for _, sz := range d.editSizes(a.Name()) {
			if !poll(ctx, 500*time.Millisecond, 5*time.Minute, func(ctx context.Context) (bool, error) {
				return d.converged(ctx, sz.namespace, clusterName, sz.nodeTypes, true)
			}) {
				errs = append(errs, fmt.Errorf("%s: Cluster %s/%s did not converge in 5m", a.Name(), sz.namespace, clusterName))
			}
		}
	}
	d.logf("all steady-state Clusters converged in %s", time.Since(t0).Round(100*time.Millisecond))
	// Let the last status-driven reconciles finish before counting.
	sleep(ctx, 5*time.Second)
	for _, a := range d.approaches {
		if err := d.operators[a.Name()].reset(ctx); err != nil {
			return err
		}
	}
	sleep(ctx, d.sizes.Idle)
	for _, a := range d.approaches {
		st, err := d.operators[a.Name()].stats(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res := &IdleResult{Duration: d.sizes.Idle, ByVerb: map[string]int{}, ByResource: map[string]int{}}
		for _, c := range st.Requests {
			if c.Resource == "" {
				continue // discovery
			}
			res.Requests += c.N
			res.ByVerb[c.Verb] += c.N
			res.ByResource[resourceKey(c.Resource, c.Subresource)+" "+c.Verb] += c.N
			if c.IsWrite() {
				res.Writes += c.N
			}
		}
		for _, n := range st.Reconciles {
			res.Reconciles += n
		}
		d.report.Idle[a.Name()] = res
		d.logf("idle %-12s requests %d writes %d reconciles %d", a.Name(), res.Requests, res.Writes, res.Reconciles)
	}
	return errors.Join(errs...)
}

// converged reports whether the Cluster's children exist for all its node
// types: as many ConfigMaps, Services and PodDisruptionBudgets as node
// types, and Deployments whose generation the controller manager observed
// (and, with ready, whose replicas are all updated and available).
func (d *driver) converged(ctx context.Context, namespace, instance string, nodeTypes int, ready bool) (bool, error) {
	sel := client.MatchingLabels{keys.LabelInstance: instance}
	var deps appsv1.DeploymentList
	if err := d.client.List(ctx, &deps, client.InNamespace(namespace), sel); err != nil {
		return false, err
	}
	if len(deps.Items) != nodeTypes {
		return false, nil
	}
	for _, dep := range deps.Items {
		if !deploymentDone(&dep, ready) {
			return false, nil
		}
	}
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "ConfigMapList"},
		{Version: "v1", Kind: "ServiceList"},
		{Group: "policy", Version: "v1", Kind: "PodDisruptionBudgetList"},
	} {
		n, err := d.countMeta(ctx, gvk, namespace, sel)
		if err != nil {
			return false, err
		}
		if n != nodeTypes {
			return false, nil
		}
	}
	return true, nil
}

func deploymentDone(dep *appsv1.Deployment, ready bool) bool {
	if dep.Status.ObservedGeneration < dep.Generation {
		return false
	}
	if !ready {
		return true
	}
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	return dep.Status.UpdatedReplicas == want && dep.Status.AvailableReplicas == want && dep.Status.Replicas == want
}

// countMeta counts objects with a metadata-only list.
func (d *driver) countMeta(ctx context.Context, listGVK schema.GroupVersionKind, namespace string, opts ...client.ListOption) (int, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(listGVK)
	if err := d.client.List(ctx, list, append(opts, client.InNamespace(namespace))...); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}
