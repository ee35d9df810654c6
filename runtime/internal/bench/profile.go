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
					cum[name] += v
				}
			}
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("profile %s is empty", path)
	}
	return &ProfileSummary{
		Path:    path,
		Total:   time.Duration(total),
		Buckets: topShares(byPackage, total, 12),
		TopFlat: topShares(flat, total, 15),
		TopCum:  topShares(cum, total, 25),
	}, nil
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
