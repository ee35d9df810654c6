package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

const (
	foreignAnnotation = "example.com/owned-by-someone-else"
	restartAnnotation = "kubectl.kubernetes.io/restartedAt"
	driftImage        = "registry.example/drift:1"
	revisionKey       = "deployment.kubernetes.io/revision"
)

// driftPhase runs, for every approach at once (staggered), on its Cluster
// with at least four node types: a hand scale and a hand image change of one
// workload, a restart plus a foreign annotation followed by a config change
// of another, and the removal of a third node type.
func (d *driver) driftPhase(ctx context.Context) error {
	size := 0
	for _, n := range d.sizes.NodeTypes {
		if n >= 4 && (size == 0 || n < size) {
			size = n
		}
	}
	if size == 0 {
		return errors.New("drift: needs a size with at least four node types")
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for i, a := range d.approaches {
		p, ok := d.operators[a.Name()]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: operator not running", a.Name()))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sleep(ctx, time.Duration(i)*700*time.Millisecond)
			res, err := d.driftOne(ctx, p, sizeNamespace(a.Name(), size), size)
			mu.Lock()
			defer mu.Unlock()
			d.report.Drift[a.Name()] = res
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.Name(), err))
			}
		}()
	}
	wg.Wait()
	for _, a := range d.approaches {
		if r := d.report.Drift[a.Name()]; r != nil {
			d.logf("drift %-12s scale reverted=%t (%s, %d writes) image reverted=%t (%s, %d writes) foreign kept=%t restart kept=%t rollback=%t pruned %v left %v",
				a.Name(), r.Scale.Reverted, r.Scale.Latency.Round(time.Millisecond), r.Scale.Writes,
				r.Image.Reverted, r.Image.Latency.Round(time.Millisecond), r.Image.Writes,
				r.Actors.ForeignAnnotationKept, r.Actors.RestartAnnotationKept, r.Actors.RolledBack,
				r.Prune.Removed, r.Prune.Remaining)
		}
	}
	return errors.Join(errs...)
}

func (d *driver) driftOne(ctx context.Context, p *operatorProc, ns string, size int) (*DriftResult, error) {
	res := &DriftResult{}
	var errs []error
	dep := types.NamespacedName{Namespace: ns, Name: WorkloadName(clusterName, "nt1")}

	// A hand-made scale through the scale subresource, as kubectl scale does.
	scale, err := d.driftCase(ctx, p, dep,
		func(ctx context.Context) error {
			_, err := d.kube.AppsV1().Deployments(ns).Patch(ctx, dep.Name, types.MergePatchType,
				[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}, "scale")
			return err
		},
		func(dp *appsv1.Deployment) bool { return dp.Spec.Replicas != nil && *dp.Spec.Replicas == 1 },
		func(ctx context.Context) error {
			_, err := d.kube.AppsV1().Deployments(ns).Patch(ctx, dep.Name, types.MergePatchType,
				[]byte(`{"spec":{"replicas":1}}`), metav1.PatchOptions{}, "scale")
			return err
		})
	res.Scale = scale
	errs = append(errs, err)

	// A hand-made image change, as kubectl set image does.
	imagePatch := func(image string) func(context.Context) error {
		return func(ctx context.Context) error {
			body := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":%q,"image":%q}]}}}}`, containerName, image)
			_, err := d.kube.AppsV1().Deployments(ns).Patch(ctx, dep.Name, types.StrategicMergePatchType, []byte(body), metav1.PatchOptions{})
			return err
		}
	}
	image, err := d.driftCase(ctx, p, dep, imagePatch(driftImage),
		func(dp *appsv1.Deployment) bool {
			c := dp.Spec.Template.Spec.Containers
			return len(c) > 0 && c[0].Image == defaultImage
		},
		imagePatch(defaultImage))
	res.Image = image
	errs = append(errs, err)
	if !poll(ctx, 250*time.Millisecond, time.Minute, func(ctx context.Context) (bool, error) {
		return d.converged(ctx, ns, clusterName, size, true)
	}) {
		errs = append(errs, errors.New("did not settle after the drift cases"))
	}

	actors, err := d.otherActors(ctx, ns)
	res.Actors = actors
	errs = append(errs, err)

	prune, err := d.pruneCase(ctx, p, ns)
	res.Prune = prune
	errs = append(errs, err)
	return res, errors.Join(errs...)
}

// driftCase makes a hand edit DriftSamples times, each time waiting for the
// operator to revert it (driftSample); it stops at the first it does not
// revert. The latency is the median of the samples', the writes the most
// one sample made.
func (d *driver) driftCase(ctx context.Context, p *operatorProc, key types.NamespacedName,
	edit func(context.Context) error, reverted func(*appsv1.Deployment) bool, restore func(context.Context) error,
) (DriftCase, error) {
	out := DriftCase{Reverted: true}
	for range max(d.sizes.DriftSamples, 1) {
		s, err := d.driftSample(ctx, p, key, edit, reverted, restore)
		if err != nil {
			return out, err
		}
		if s.Writes >= out.Writes {
			out.Writes, out.Detail = s.Writes, s.Detail
		}
		if !s.Reverted {
			out.Reverted = false
			break
		}
		out.Latencies = append(out.Latencies, s.Latency)
	}
	if out.Reverted {
		out.Latency = percentile(out.Latencies, 50)
	}
	return out, nil
}

// driftSample makes a hand edit, waits up to DriftTimeout for the operator
// to revert it, and counts the operator's writes meanwhile (and for two
// seconds after). When the operator does not revert it, restore does.
func (d *driver) driftSample(ctx context.Context, p *operatorProc, key types.NamespacedName,
	edit func(context.Context) error, reverted func(*appsv1.Deployment) bool, restore func(context.Context) error,
) (DriftCase, error) {
	var out DriftCase
	if err := p.reset(ctx); err != nil {
		return out, err
	}
	t0 := time.Now()
	if err := edit(ctx); err != nil {
		return out, fmt.Errorf("hand edit: %w", err)
	}
	// A fine poll, so that the latency is read to within a few
	// milliseconds: a revert takes tens of them, and the goal is ten.
	out.Reverted = poll(ctx, 2*time.Millisecond, d.sizes.DriftTimeout, func(ctx context.Context) (bool, error) {
		var dp appsv1.Deployment
		if err := d.client.Get(ctx, key, &dp); err != nil {
			return false, err
		}
		return reverted(&dp), nil
	})
	if out.Reverted {
		out.Latency = time.Since(t0)
	}
	sleep(ctx, 2*time.Second)
	st, err := p.stats(ctx)
	if err != nil {
		return out, err
	}
	out.Writes, out.Detail = writesIn(st, key.Namespace)
	if !out.Reverted {
		if err := restore(ctx); err != nil {
			return out, fmt.Errorf("restore after hand edit: %w", err)
		}
	}
	return out, nil
}

// writesIn counts the operator's write requests in a namespace, with a
// "resource VERB xN" breakdown.
func writesIn(st OperatorStats, ns string) (int, []string) {
	n := 0
	by := map[string]int{}
	for _, c := range st.Requests {
		if c.Namespace != ns || !c.IsWrite() {
			continue
		}
		n += c.N
		by[resourceKey(c.Resource, c.Subresource)+" "+c.Verb] += c.N
	}
	var detail []string
	for k, v := range by {
		detail = append(detail, fmt.Sprintf("%s x%d", k, v))
	}
	slices.Sort(detail)
	return n, detail
}

// otherActors annotates a Deployment as a foreign tool would, restarts it
// as `kubectl rollout restart` does, then changes its config in the
// Cluster, and checks what survived.
func (d *driver) otherActors(ctx context.Context, ns string) (ActorsResult, error) {
	var out ActorsResult
	key := types.NamespacedName{Namespace: ns, Name: WorkloadName(clusterName, "nt2")}
	before, err := d.replicaSetRevisions(ctx, key)
	if err != nil {
		return out, err
	}
	deps := d.kube.AppsV1().Deployments(ns)
	if _, err := deps.Patch(ctx, key.Name, types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"keep-me"}}}`, foreignAnnotation), metav1.PatchOptions{}); err != nil {
		return out, fmt.Errorf("foreign annotation: %w", err)
	}
	restartedAt := time.Now().Format(time.RFC3339)
	if _, err := deps.Patch(ctx, key.Name, types.StrategicMergePatchType,
		fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, restartAnnotation, restartedAt), metav1.PatchOptions{}); err != nil {
		return out, fmt.Errorf("restart: %w", err)
	}
	// The controller manager makes a ReplicaSet for the restarted template.
	restarted := poll(ctx, 100*time.Millisecond, 15*time.Second, func(ctx context.Context) (bool, error) {
		now, err := d.replicaSetRevisions(ctx, key)
		if err != nil {
			return false, err
		}
		return len(now) > len(before), nil
	})
	if !restarted {
		out.Detail = "no ReplicaSet appeared for the restart within 15 s: the operator had already reverted the restart annotation"
	}
	// Time for the operator to react to the restart as it will.
	sleep(ctx, 3*time.Second)
	var dp appsv1.Deployment
	if err := d.client.Get(ctx, key, &dp); err != nil {
		return out, err
	}
	beforeChange := templateHash(&dp.Spec.Template)
	if _, err := d.setConfig(ctx, ns, clusterName, "nt2", "other-actors"); err != nil {
		return out, err
	}
	out.ConfigRolled = poll(ctx, 50*time.Millisecond, 15*time.Second, func(ctx context.Context) (bool, error) {
		if err := d.client.Get(ctx, key, &dp); err != nil {
			return false, err
		}
		return templateHash(&dp.Spec.Template) != beforeChange, nil
	})
	sleep(ctx, 3*time.Second)
	if err := d.client.Get(ctx, key, &dp); err != nil {
		return out, err
	}
	out.ForeignAnnotationKept = dp.Annotations[foreignAnnotation] == "keep-me"
	out.RestartAnnotationKept = dp.Spec.Template.Annotations[restartAnnotation] == restartedAt
	after, err := d.replicaSetRevisions(ctx, key)
	if err != nil {
		return out, err
	}
	for name, rev := range before {
		if after[name] != "" && after[name] != rev {
			out.RolledBack = true
			out.Detail = strings.TrimSpace(out.Detail + fmt.Sprintf(" ReplicaSet %s from before the restart became current again (revision %s -> %s)", name, rev, after[name]))
		}
	}
	return out, nil
}

// replicaSetRevisions maps the Deployment's ReplicaSets to their revision.
func (d *driver) replicaSetRevisions(ctx context.Context, key types.NamespacedName) (map[string]string, error) {
	var rss appsv1.ReplicaSetList
	if err := d.client.List(ctx, &rss, client.InNamespace(key.Namespace)); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, rs := range rss.Items {
		if ref := metav1.GetControllerOfNoCopy(&rs); ref != nil && ref.Kind == "Deployment" && ref.Name == key.Name {
			out[rs.Name] = rs.Annotations[revisionKey]
		}
	}
	return out, nil
}

// pruneCase removes node type nt3 from the Cluster and checks which of its
// children are deleted within PruneTimeout.
func (d *driver) pruneCase(ctx context.Context, p *operatorProc, ns string) (PruneResult, error) {
	var out PruneResult
	if err := p.reset(ctx); err != nil {
		return out, err
	}
	const removed = "nt3"
	kinds := []struct {
		name string
		gvk  schema.GroupVersionKind
	}{
		{"ConfigMap", schema.GroupVersionKind{Version: "v1", Kind: "ConfigMapList"}},
		{"Deployment", schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DeploymentList"}},
		{"Service", schema.GroupVersionKind{Version: "v1", Kind: "ServiceList"}},
		{"PodDisruptionBudget", schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "PodDisruptionBudgetList"}},
	}
	sel := client.MatchingLabels{keys.LabelInstance: clusterName, keys.LabelComponent: removed}
	remaining := func(ctx context.Context) ([]string, []string, error) {
		var gone, left []string
		for _, k := range kinds {
			n, err := d.countMeta(ctx, k.gvk, ns, sel)
			if err != nil {
				return nil, nil, err
			}
			if n == 0 {
				gone = append(gone, k.name)
			} else {
				left = append(left, k.name)
			}
		}
		return gone, left, nil
	}
	_, left, err := remaining(ctx)
	if err != nil {
		return out, err
	}
	if len(left) != len(kinds) {
		return out, fmt.Errorf("before pruning, %s should have all four children, has %v", removed, left)
	}
	t0, err := d.updateCluster(ctx, ns, clusterName, func(cr *testapiv1.Cluster) {
		cr.Spec.NodeTypes = slices.DeleteFunc(cr.Spec.NodeTypes, func(nt testapiv1.NodeTypeSpec) bool { return nt.Name == removed })
	})
	if err != nil {
		return out, err
	}
	if poll(ctx, 100*time.Millisecond, d.sizes.PruneTimeout, func(ctx context.Context) (bool, error) {
		_, left, err := remaining(ctx)
		return len(left) == 0, err
	}) {
		out.Latency = time.Since(t0)
	}
	if out.Removed, out.Remaining, err = remaining(ctx); err != nil {
		return out, err
	}
	sleep(ctx, time.Second)
	st, err := p.stats(ctx)
	if err != nil {
		return out, err
	}
	out.Writes, _ = writesIn(st, ns)
	return out, nil
}
