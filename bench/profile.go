package bench

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// summarizeProfile reads a CPU profile and sums its time by package of the
// leaf function (flat), and by function, flat and cumulative.
func summarizeProfile(path string) (*ProfileSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open profile: %w", err)
	}
	defer func() { _ = f.Close() }()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse profile %s: %w", path, err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			idx = i
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("profile %s has no cpu/nanoseconds samples", path)
	}
	var total int64
	focus := make([]int64, len(profileFocus))
	flat := map[string]int64{}
	cum := map[string]int64{}
	byPackage := map[string]int64{}
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		seen := map[string]bool{}
		for li, loc := range s.Location {
			for ln, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				name := line.Function.Name
				if li == 0 && ln == 0 {
					flat[name] += v
					byPackage[packageOf(name)] += v
				}
				if !seen[name] {
					seen[name] = true
					if !benchFrame(name) {
						cum[name] += v
					}
				}
			}
		}
		for i, f := range profileFocus {
			for _, sym := range f.symbols {
				if seen[sym] {
					focus[i] += v
					break
				}
			}
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("profile %s is empty", path)
	}
	var shares []ProfileShare
	for i, f := range profileFocus {
		shares = append(shares, ProfileShare{Name: f.label, Time: time.Duration(focus[i]), Share: float64(focus[i]) / float64(total)})
	}
	return &ProfileSummary{
		Focus:   shares,
		Path:    path,
		Total:   time.Duration(total),
		Buckets: topShares(byPackage, total, 12),
		TopFlat: topShares(flat, total, 15),
		TopCum:  topShares(cum, total, 25),
	}, nil
}

// profileFocus are the parts of a reconcile the report names: a sample
// counts towards one when any of its symbols is on the sample's stack.
var profileFocus = []struct {
	label   string
	symbols []string
}{
	{"comparing each desired object with the one remembered from the last full comparison", []string{"github.com/opbuilder/opbuilder/runtime/builder.(*Expectations).desiredHash"}},
	{"typed objects converted to unstructured form (desired and live)", []string{"k8s.io/apimachinery/pkg/runtime.(*unstructuredConverter).ToUnstructured"}},
	{"dropping empty optional fields from the desired object", []string{"github.com/opbuilder/opbuilder/runtime/builder.pruneOmitEmpty"}},
	{"hashing the desired state (applied-hash)", []string{"github.com/opbuilder/opbuilder/runtime/builder.contentHash"}},
	{"subset comparison with the live object", []string{"github.com/opbuilder/opbuilder/runtime/builder.isSubset"}},
	{"REST mapping lookups (is the child namespaced?)", []string{"sigs.k8s.io/controller-runtime/pkg/client/apiutil.IsObjectNamespaced"}},
	{"informer-cache reads and their deep copies", []string{
		"sigs.k8s.io/controller-runtime/pkg/cache/internal.(*CacheReader).Get",
		"sigs.k8s.io/controller-runtime/pkg/cache/internal.(*CacheReader).List",
	}},
	{"the store's pass (listing children to prune, inventory)", []string{"github.com/opbuilder/opbuilder/runtime/store.(*Store).Reconcile", "github.com/opbuilder/opbuilder/runtime/store.(*Store).Prune"}},
	{"building the desired objects (the benchmark's own model)", []string{"github.com/opbuilder/opbuilder/bench.Desired", "github.com/opbuilder/opbuilder/bench.DesiredNodeType"}},
	{"memory allocation (runtime.mallocgc)", []string{"runtime.mallocgc"}},
	{"background garbage collection", []string{"runtime.gcBgMarkWorker"}},
}

// benchFrame reports whether a function is the benchmark's own plumbing
// around the reconcile (the control API's HTTP server), which every sample
// of the loop has on its stack.
func benchFrame(name string) bool {
	return strings.HasPrefix(name, "net/http.") || strings.Contains(name, "(*controlAPI)")
}

// packageOf is the import path of a Go symbol such as
// "k8s.io/apimachinery/pkg/runtime.(*Scheme).Convert".
func packageOf(symbol string) string {
	slash := strings.LastIndex(symbol, "/")
	dot := strings.Index(symbol[slash+1:], ".")
	if dot < 0 {
		return symbol
	}
	return symbol[:slash+1+dot]
}

func topShares(m map[string]int64, total int64, n int) []ProfileShare {
	names := slices.Collect(maps.Keys(m))
	slices.SortFunc(names, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	if len(names) > n {
		names = names[:n]
	}
	out := make([]ProfileShare, 0, len(names))
	for _, name := range names {
		out = append(out, ProfileShare{Name: name, Time: time.Duration(m[name]), Share: float64(m[name]) / float64(total)})
	}
	return out
}
