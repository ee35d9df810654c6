package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

const (
	memNamespace       = "mem"
	unrelatedNamespace = "unrelated"
)

type memVariant struct {
	approach string
	scoped   bool
}

// memoryPhase measures each approach's operator, running cluster-wide, once
// before and once after MemObjects unrelated ConfigMaps and Secrets exist.
// Each measurement is a fresh process: started, cache synced, its Cluster
// converged, then heap and RSS after garbage collection.
func (d *driver) memoryPhase(ctx context.Context) error {
	// The baselines that read and watch the same kinds through the default
	// cache (cou-full, ssa-always) hold what cou-careful holds; they are
	// left out to keep the run short.
	var variants []memVariant
	for _, a := range d.approaches {
		switch a.Name() {
		case "cou-full", "ssa-always":
			continue
		case "opbuilder":
			variants = append(variants, memVariant{approach: a.Name(), scoped: true}, memVariant{approach: a.Name(), scoped: false})
		default:
			variants = append(variants, memVariant{approach: a.Name(), scoped: a.ScopedCache()})
		}
	}
	if err := d.ensureNamespace(ctx, memNamespace); err != nil {
		return err
	}
	if err := d.ensureNamespace(ctx, unrelatedNamespace); err != nil {
		return err
	}
	for _, v := range variants {
		if !v.scoped && v.approach == "opbuilder" {
			continue // shares the Cluster of the scoped variant
		}
		cr := NewCluster(memNamespace, "mem-"+v.approach, v.approach, 4, 0)
		if err := d.client.Create(ctx, cr); err != nil {
			return fmt.Errorf("create %s: %w", cr.Name, err)
		}
	}
	results := make([]MemoryResult, len(variants))
	var errs []error
	for i, v := range variants {
		results[i] = MemoryResult{Approach: v.approach, Scoped: v.scoped}
		m, err := d.measureOperatorMemory(ctx, v, "before")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results[i].Before = m
	}
	t0 := time.Now()
	if err := d.createUnrelated(ctx); err != nil {
		return errors.Join(append(errs, err)...)
	}
	d.logf("created %d unrelated ConfigMaps and Secrets of %d bytes in %s", d.sizes.MemObjects, d.sizes.MemObjectBytes, time.Since(t0).Round(100*time.Millisecond))
	for i, v := range variants {
		m, err := d.measureOperatorMemory(ctx, v, "after")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		results[i].After = m
	}
	d.report.Memory = results
	return errors.Join(errs...)
}

func (d *driver) measureOperatorMemory(ctx context.Context, v memVariant, when string) (MemStats, error) {
	tag := fmt.Sprintf("mem-%s-scoped-%t", when, v.scoped)
	p, err := d.startOperator(ctx, v.approach, tag, nil, v.scoped)
	if err != nil {
		return MemStats{}, err
	}
	defer p.stop()
	name := "mem-" + v.approach
	converged := poll(ctx, 200*time.Millisecond, 2*time.Minute, func(ctx context.Context) (bool, error) {
		var deps appsv1.DeploymentList
		if err := d.client.List(ctx, &deps, client.InNamespace(memNamespace), client.MatchingLabels{keys.LabelInstance: name}); err != nil {
			return false, err
		}
		return len(deps.Items) == 4, nil
	})
	if !converged {
		return MemStats{}, fmt.Errorf("memory %s: Cluster %s did not get its Deployments; see %s", v.approach, name, p.logPath)
	}
	// Let the reconciles that the start-up triggers finish.
	sleep(ctx, 3*time.Second)
	m, err := p.mem(ctx)
	if err != nil {
		return MemStats{}, err
	}
	d.logf("memory %-12s scoped=%-5t %-6s heap %6.1f MiB  rss %6.1f MiB", v.approach, v.scoped, when, mib(m.HeapInuse), mib(m.RSS))
	return m, nil
}

// createUnrelated creates MemObjects ConfigMaps and Secrets (half each) of
// MemObjectBytes of data in their own namespace, with eight writers.
func (d *driver) createUnrelated(ctx context.Context) error {
	n := d.sizes.MemObjects
	jobs := make(chan int)
	errc := make(chan error, 8)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42)) //nolint:gosec // filler data
			buf := make([]byte, d.sizes.MemObjectBytes)
			for i := range jobs {
				for j := range buf {
					buf[j] = 'a' + byte(rng.IntN(26))
				}
				var obj client.Object
				meta := metav1.ObjectMeta{Namespace: unrelatedNamespace, Name: fmt.Sprintf("unrelated-%05d", i)}
				if i%2 == 0 {
					obj = &corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"blob": string(buf)}}
				} else {
					obj = &corev1.Secret{ObjectMeta: meta, Data: map[string][]byte{"blob": append([]byte(nil), buf...)}}
				}
				if err := d.client.Create(ctx, obj); err != nil {
					select {
					case errc <- fmt.Errorf("create unrelated object %s: %w", meta.Name, err):
					default:
					}
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range n {
		select {
		case jobs <- i:
		case err = <-errc:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return err
	}
	select {
	case err = <-errc:
		return err
	default:
		return nil
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
