package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// cpuPhase makes an approach's operator reconcile each of its converged
// Clusters NoopIterations times in a row and reports the median CPU time;
// for opbuilder's builder approach (or, without it, orchestrate) it also
// takes a CPU profile of the largest Cluster's no-op reconciles.
func (d *driver) cpuPhase(ctx context.Context, a Approach) error {
	p, ok := d.operators[a.Name()]
	if !ok {
		return fmt.Errorf("%s: operator not running", a.Name())
	}
	results := map[int]*CPUResult{}
	var errs []error
	for _, n := range d.sizes.NodeTypes {
		r, err := p.noop(ctx, sizeNamespace(a.Name(), n), clusterName, d.sizes.NoopIterations, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res := &CPUResult{
			NodeTypes: n, Iterations: len(r.CPU), Errors: r.Errors,
			MedianCPU: percentile(r.CPU, 50), P95CPU: percentile(r.CPU, 95), MedianWall: percentile(r.Wall, 50),
		}
		for _, c := range r.Requests {
			if c.Resource == "" {
				continue
			}
			res.Requests += float64(c.N)
			if c.IsWrite() {
				res.Writes += float64(c.N)
			}
		}
		if len(r.CPU) > 0 {
			res.Requests /= float64(len(r.CPU))
			res.Writes /= float64(len(r.CPU))
		}
		results[n] = res
		d.logf("cpu %-12s n=%-2d median %s (p95 %s) wall %s, %.1f requests and %.1f writes per reconcile",
			a.Name(), n, res.MedianCPU, res.P95CPU, res.MedianWall, res.Requests, res.Writes)
	}
	d.report.CPU[a.Name()] = results

	if d.profileApproach() != a.Name() {
		return errors.Join(errs...)
	}
	n := slices.Max(d.sizes.NodeTypes)
	path := d.workDirFile(fmt.Sprintf("cpu-%s-n%d.pprof", a.Name(), n))
	t0 := time.Now()
	if _, err := p.noop(ctx, sizeNamespace(a.Name(), n), clusterName, d.sizes.ProfileIterations, path); err != nil {
		return errors.Join(append(errs, err)...)
	}
	summary, err := summarizeProfile(path)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	summary.Approach, summary.NodeTypes = a.Name(), n
	d.report.Profile = summary
	d.logf("profiled %d no-op reconciles of %s with %d node types in %s: %s", d.sizes.ProfileIterations, a.Name(), n, time.Since(t0).Round(100*time.Millisecond), path)
	return errors.Join(errs...)
}

// profileApproach is the approach whose steady state is profiled.
func (d *driver) profileApproach() string {
	for _, want := range []string{"opbuilder", "orchestrate"} {
		for _, a := range d.approaches {
			if a.Name() == want {
				return want
			}
		}
	}
	return ""
}
