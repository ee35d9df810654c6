package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// scalePhase creates ScaleCRs Clusters of ScaleNodeTypes node types at once
// for each approach in turn, measures the time until all their children
// exist and the controller manager has observed every Deployment, and
// counts the operator's requests. The operator is stopped afterwards, so
// that its many Clusters cost nothing during the next approach's run.
// Workloads have zero replicas: pod scheduling is the same for every
// approach and would only add noise.
func (d *driver) scalePhase(ctx context.Context) error {
	runs := d.scaleRuns()
	var errs []error
	for i, run := range runs {
		a := run.approach
		p, err := d.operator(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res, err := d.scaleOne(ctx, p, a.Name(), run.crs, run.timeout)
		if res != nil {
			run.into[a.Name()] = res
			d.logf("scale %-12s %d CRs converged=%t in %s, %d requests (%d writes, %d conflicts), %d reconciles, heap %.1f→%.1f MiB (peak %.1f)",
				a.Name(), run.crs, res.Converged, res.Time.Round(100*time.Millisecond), res.Requests, res.Writes, res.Conflicts, res.Reconciles,
				mib(res.HeapBefore), mib(res.HeapAfter), mib(res.PeakHeap))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Name(), err))
		}
		p.stop()
		delete(d.operators, a.Name())
		if i == len(runs)-1 {
			break // the control plane is stopped next anyway
		}
		// Each run starts from the same state: without this, every
		// approach's run is slower than the previous one's (measured: the
		// order decided the ranking).
		t0 := time.Now()
		if err := d.deleteNamespace(ctx, scaleNamespace(a.Name())); err != nil {
			errs = append(errs, err)
		}
		d.logf("removed %s in %s", scaleNamespace(a.Name()), time.Since(t0).Round(100*time.Millisecond))
	}
	return errors.Join(errs...)
}

// scaleRun is one run of the scale phase: an approach with a number of
// Clusters, and where its result goes.
type scaleRun struct {
	approach Approach
	crs      int
	timeout  time.Duration
	into     map[string]*ScaleResult
}

// scaleRuns are every approach with ScaleCRs, each followed, for the
// LargeScaleApproaches, by a run with LargeScaleCRs.
func (d *driver) scaleRuns() []scaleRun {
	var runs []scaleRun
	for _, a := range d.approaches {
		runs = append(runs, scaleRun{approach: a, crs: d.sizes.ScaleCRs, timeout: d.sizes.ScaleTimeout, into: d.report.Scale})
		if d.sizes.LargeScaleCRs > 0 && slices.Contains(d.sizes.LargeScaleApproaches, a.Name()) {
			runs = append(runs, scaleRun{approach: a, crs: d.sizes.LargeScaleCRs, timeout: d.sizes.LargeScaleTimeout, into: d.report.LargeScale})
		}
	}
	return runs
}

// deleteNamespace deletes a namespace and waits until it is gone.
func (d *driver) deleteNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := d.client.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete namespace %s: %w", name, err)
	}
	if !poll(ctx, time.Second, 5*time.Minute, func(ctx context.Context) (bool, error) {
		err := d.client.Get(ctx, client.ObjectKey{Name: name}, &corev1.Namespace{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	}) {
		return fmt.Errorf("namespace %s was not gone within 5m", name)
	}
	return nil
}

func (d *driver) scaleOne(ctx context.Context, p *operatorProc, approach string, n int, timeout time.Duration) (*ScaleResult, error) {
	ns := scaleNamespace(approach)
	nt := d.sizes.ScaleNodeTypes
	heap0, err := p.mem(ctx)
	if err != nil {
		return nil, err
	}
	before, err := d.scrapeRequestTotals(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.reset(ctx); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := d.createClusters(ctx, ns, approach, n, nt); err != nil {
		return nil, err
	}
	want := n * nt
	res := &ScaleResult{CRs: n, NodeTypes: nt, HeapBefore: heap0.HeapInuse}
	var childrenAt time.Time
	res.Converged = poll(ctx, time.Second, timeout, func(ctx context.Context) (bool, error) {
		counts, observed, err := d.scaleCounts(ctx, ns)
		if err != nil {
			return false, err
		}
		res.Progress = counts
		res.Progress["Deployment observed"] = observed
		if childrenAt.IsZero() && complete(counts, want) {
			childrenAt = time.Now()
		}
		return !childrenAt.IsZero() && observed >= want, nil
	})
	if !childrenAt.IsZero() {
		res.ChildrenTime = childrenAt.Sub(t0)
	}
	res.Time = time.Since(t0)
	// Trailing reconciles: status updates of the last Deployments.
	sleep(ctx, 5*time.Second)
	st, err := p.stats(ctx)
	if err != nil {
		return res, err
	}
	res.PeakHeap = st.PeakHeap
	heap1, err := p.mem(ctx)
	if err != nil {
		return res, err
	}
	res.HeapAfter = heap1.HeapInuse
	after, err := d.scrapeRequestTotals(ctx)
	if err != nil {
		return res, err
	}
	res.APIServer = after.byVerbSince(before)
	res.ByVerb = map[string]int{}
	for _, c := range st.Requests {
		if c.Resource == "" {
			continue
		}
		res.Requests += c.N
		res.ByVerb[c.Verb] += c.N
		if c.IsWrite() {
			res.Writes += c.N
		}
		if c.Code == 409 {
			res.Conflicts += c.N
			if res.ConflictsBy == nil {
				res.ConflictsBy = map[string]int{}
			}
			res.ConflictsBy[resourceKey(c.Resource, c.Subresource)+" "+c.Verb+" "+c.Reason] += c.N
		}
	}
	for _, v := range st.Reconciles {
		res.Reconciles += v
	}
	if !res.Converged {
		return res, fmt.Errorf("%d Clusters did not converge within %s (reached %v); see %s", n, timeout, res.Progress, p.logPath)
	}
	return res, nil
}

// scaleCounts counts the children in a namespace by kind (ConfigMaps
// without kube-root-ca.crt), and the Deployments whose generation
// kube-controller-manager has observed.
func (d *driver) scaleCounts(ctx context.Context, ns string) (map[string]int, int, error) {
	counts := map[string]int{}
	var deps appsv1.DeploymentList
	if err := d.client.List(ctx, &deps, client.InNamespace(ns)); err != nil {
		return nil, 0, err
	}
	counts["Deployment"] = len(deps.Items)
	observed := 0
	for i := range deps.Items {
		if deploymentDone(&deps.Items[i], false) {
			observed++
		}
	}
	for kind, gvk := range map[string]schema.GroupVersionKind{
		"ConfigMap":           {Version: "v1", Kind: "ConfigMapList"},
		"Service":             {Version: "v1", Kind: "ServiceList"},
		"PodDisruptionBudget": {Group: "policy", Version: "v1", Kind: "PodDisruptionBudgetList"},
	} {
		c, err := d.countMeta(ctx, gvk, ns, client.HasLabels{keys.LabelInstance})
		if err != nil {
			return nil, 0, err
		}
		counts[kind] = c
	}
	return counts, observed, nil
}

func complete(counts map[string]int, want int) bool {
	for _, k := range []string{"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"} {
		if counts[k] < want {
			return false
		}
	}
	return true
}

// createClusters creates n Clusters of nt node types (zero replicas) with
// sixteen writers.
func (d *driver) createClusters(ctx context.Context, ns, approach string, n, nt int) error {
	jobs := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cr := NewCluster(ns, fmt.Sprintf("s%03d", i), approach, nt, 0)
				if err := d.client.Create(ctx, cr); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("create %s/%s: %w", ns, cr.Name, err))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return errors.Join(errs...)
}
