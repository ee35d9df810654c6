package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// profileAnalysis is the paragraph on where the remaining steady-state cost
// goes. Its reading of the code paths is written by hand; every figure in it
// comes from the run, so a regenerated report stays true to its tables.
func profileAnalysis(r *Report) string {
	p := r.Profile
	share := func(label string) string {
		for _, f := range p.Focus {
			if strings.HasPrefix(f.Name, label) {
				return fmt.Sprintf("%.0f%%", f.Share*100)
			}
		}
		return "n/a"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A no-op reconcile of `%s` makes no request at all (see the steady-state table); what it costs is local work. ", p.Approach)
	fmt.Fprintf(&b, "Most of it is deciding, per child, whether an apply is needed. The builder's Expectations remember, per child, the desired object and the live object's resourceVersion "+
		"from the last full comparison that found no apply needed, so for an unchanged child a pass compares the freshly built desired object with the remembered one (%s of the samples) "+
		"and checks the live object's resourceVersion; apimachinery's conversion of typed objects into unstructured form (%s), dropping empty optional fields (%s), "+
		"hashing the desired content (%s) and the subset comparison with the live object (%s) run only for children that changed. ",
		share("comparing each desired"), share("typed objects"), share("dropping"), share("hashing"), share("subset"))
	fmt.Fprintf(&b, "%s goes to REST-mapper lookups, which controller-runtime's multi-namespace cache makes on every read to ask whether the kind is namespaced; "+
		"%s to informer-cache reads, which deep-copy every object they return; %s to the store's pass, which looks the Cluster's children up in the cache's owner index to find what to prune. ",
		share("REST mapping"), share("informer-cache"), share("the store"))
	fmt.Fprintf(&b, "All of it allocates: %s of the time is under `runtime.mallocgc` and %s in background garbage collection. ",
		share("memory allocation"), share("background"))
	if cmp := cpuComparison(r); cmp != "" {
		b.WriteString(cmp)
	}
	b.WriteString("Where it could go next, without changing behaviour: read live objects without the cache's deep copy where they are not modified, " +
		"and compare desired objects more cheaply than reflect.DeepEqual does.")
	return b.String()
}

// cpuComparison compares the profiled approach's no-op CPU per node type
// with the baselines', at the largest size.
func cpuComparison(r *Report) string {
	if len(r.Sizes.NodeTypes) == 0 {
		return ""
	}
	n := slices.Max(r.Sizes.NodeTypes)
	ref := r.CPU[r.Profile.Approach][n]
	if ref == nil || ref.MedianCPU == 0 {
		return ""
	}
	var parts []string
	for _, a := range r.Approaches {
		c := r.CPU[a.Name][n]
		if a.Name == r.Profile.Approach || c == nil || c.MedianCPU == 0 {
			continue
		}
		detail := ""
		if c.Requests > 0 {
			detail = fmt.Sprintf(" plus %.0f requests", c.Requests)
		}
		parts = append(parts, fmt.Sprintf("`%s` %s%s", a.Name, perNodeType(c), detail))
	}
	return fmt.Sprintf("Per node type that is %s of CPU per no-op reconcile, against %s. "+
		"The baselines that are cheaper in CPU are cheaper because they check less: the CreateOrUpdate variants compare typed objects in memory (and the whole-spec one then writes anyway), "+
		"and the seed pattern only compares one annotation, which is why it reverts no drift. ",
		perNodeType(ref), strings.Join(parts, ", "))
}

func perNodeType(c *CPUResult) string {
	return (c.MedianCPU / time.Duration(c.NodeTypes)).Round(time.Microsecond).String()
}
