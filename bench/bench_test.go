package bench

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{50, 5}, {95, 10}, {10, 1}, {100, 10}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("percentile(%d) = %d, want %d", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of nothing = %d, want 0", got)
	}
}

func TestSummarizeEditsCountsNeedlessWrites(t *testing.T) {
	ns, edited := "a-n4", "c-nt0"
	st := OperatorStats{
		Requests: []Counted{
			{testcluster.Request{Verb: "UPDATE", Resource: "configmaps", Namespace: ns, Name: "c-nt0-config", Code: 200}, 2},
			{testcluster.Request{Verb: "UPDATE", Resource: "deployments", Namespace: ns, Name: edited, Code: 200}, 3},
			{testcluster.Request{Verb: "UPDATE", Resource: "deployments", Namespace: ns, Name: edited, Code: 409}, 1},
			{testcluster.Request{Verb: "UPDATE", Resource: "deployments", Namespace: ns, Name: "c-nt1", Code: 200}, 4},
			{testcluster.Request{Verb: "UPDATE", Resource: "services", Namespace: ns, Name: "c-nt1", Code: 200}, 5},
			{testcluster.Request{Verb: "CREATE", Group: "events.k8s.io", Resource: "events", Namespace: ns, Code: 201}, 6},
			{testcluster.Request{Verb: "PATCH", Group: "test.opbuilder.io", Resource: "clusters", Subresource: "status", Namespace: ns, Name: "c", Code: 200}, 1},
			{testcluster.Request{Verb: "LIST", Resource: "configmaps", Namespace: ns, Code: 200}, 7},
			{testcluster.Request{Verb: "UPDATE", Resource: "services", Namespace: "other", Name: "x", Code: 200}, 100},
		},
		Reconciles: map[string]int{ns + "/c": 9, "other/c": 50},
	}
	res := &EditResult{Edits: 2, Writes: map[string]int{}}
	summarizeEdits(res, st, ns, edited)
	check := func(name string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	check("ConfigMapWrites", res.ConfigMapWrites, 2)
	check("DeploymentWrites", res.DeploymentWrites, 8)
	check("ServiceWrites", res.ServiceWrites, 5)
	check("EventWrites", res.EventWrites, 6)
	check("StatusWrites", res.StatusWrites, 1)
	check("Reads", res.Reads, 7)
	check("Conflicts", res.Conflicts, 1)
	check("Reconciles", res.Reconciles, 9)
	// 4 (other Deployment) + 5 (Service) + (4 writes to the edited one - 2 edits).
	check("NeedlessUpdates", res.NeedlessUpdates, 11)
	check("WorkloadCreatesDeletes", res.WorkloadCreatesDeletes, 0)
}

func TestDesiredObjectsAreConsistent(t *testing.T) {
	cr := NewCluster("ns", "c", "x", 3, 2)
	cr.UID = "uid"
	for _, style := range []RolloutStyle{RolloutByRuntime, RolloutTemplateAnnotation, RolloutEnvPerConfigMap} {
		nts := Desired(cr, "bench-x", style)
		if len(nts) != 3 {
			t.Fatalf("style %d: %d node types, want 3", style, len(nts))
		}
		for _, nt := range nts {
			dep := nt.Deployment
			sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
				t.Errorf("%s: selector %v does not match template labels %v", dep.Name, sel, dep.Spec.Template.Labels)
			}
			if *dep.Spec.Replicas != 2 {
				t.Errorf("%s: replicas %d, want 2", dep.Name, *dep.Spec.Replicas)
			}
			if v := dep.Spec.Template.Spec.Volumes[0].ConfigMap.Name; v != nt.ConfigMap.Name {
				t.Errorf("%s mounts %q, want its ConfigMap %q", dep.Name, v, nt.ConfigMap.Name)
			}
		}
	}
}

func TestConfigChangeReachesThePodTemplate(t *testing.T) {
	before := NewCluster("ns", "c", "x", 2, 1)
	after := before.DeepCopy()
	after.Spec.NodeTypes[0].Config["edit"] = "1"
	for _, tc := range []struct {
		style       RolloutStyle
		wantChanged bool // the baselines change the template themselves
	}{
		{RolloutTemplateAnnotation, true},
		{RolloutEnvPerConfigMap, true},
		{RolloutByRuntime, false}, // the runtime stamps its own hash
	} {
		b, a := Desired(before, "o", tc.style), Desired(after, "o", tc.style)
		if a[0].ConfigMap.Data[configKey] == b[0].ConfigMap.Data[configKey] {
			t.Errorf("style %d: ConfigMap data did not change", tc.style)
		}
		changed := templateHash(&a[0].Deployment.Spec.Template) != templateHash(&b[0].Deployment.Spec.Template)
		if changed != tc.wantChanged {
			t.Errorf("style %d: template changed = %t, want %t", tc.style, changed, tc.wantChanged)
		}
		if templateHash(&a[1].Deployment.Spec.Template) != templateHash(&b[1].Deployment.Spec.Template) {
			t.Errorf("style %d: the template of an unedited node type changed", tc.style)
		}
	}
}

func TestMarkdownShowsRatiosAgainstOpbuilder(t *testing.T) {
	r := &Report{
		Command: "make bench",
		Sizes:   Sizes{NodeTypes: []int{4}, Edits: 2},
		Approaches: []ApproachInfo{
			{Name: "cou-full", Title: "baseline"},
			{Name: referenceApproach, Title: "runtime"},
		},
		Edits: map[string]map[int]*EditResult{
			"cou-full":        {4: {NodeTypes: 4, Edits: 2, ConfigMapWrites: 2, DeploymentWrites: 8, Reaction: []time.Duration{time.Millisecond}}},
			referenceApproach: {4: {NodeTypes: 4, Edits: 2, ConfigMapWrites: 2, DeploymentWrites: 2, Reaction: []time.Duration{time.Millisecond}}},
		},
		Memory: []MemoryResult{{Approach: referenceApproach, Scoped: true,
			Before: MemStats{HeapInuse: 100 << 20, RSS: 200 << 20}, After: MemStats{HeapInuse: 105 << 20, RSS: 210 << 20}}},
	}
	md := Markdown(r)
	for _, want := range []string{
		"| Deployment writes | 4.0 (4×) | 1.0 |",
		"| opbuilder | scoped | 100.0 | 105.0 | +5% |",
		"make bench",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownShowsTheManyReplicasAndLargeScaleSizes(t *testing.T) {
	r := &Report{
		Sizes: Sizes{NodeTypes: []int{4}, Edits: 2, ManyReplicas: 10, ManyReplicasNodeTypes: 4,
			ScaleCRs: 2, ScaleNodeTypes: 4, LargeScaleCRs: 10, LargeScaleApproaches: []string{largeScaleReference, "orchestrate"}},
		Approaches: []ApproachInfo{{Name: largeScaleReference}, {Name: referenceApproach}, {Name: "orchestrate"}},
		EditsManyReplicas: map[string]*EditResult{
			"orchestrate": {NodeTypes: 4, Replicas: 10, Edits: 2, StatusWrites: 4},
		},
		Scale: map[string]*ScaleResult{
			"orchestrate": {CRs: 2, NodeTypes: 4, Converged: true, HeapBefore: 10 << 20, HeapAfter: 10<<20 + 2<<10},
		},
		LargeScale: map[string]*ScaleResult{
			largeScaleReference: {CRs: 10, NodeTypes: 4, Converged: true, Requests: 100, HeapBefore: 10 << 20, HeapAfter: 10<<20 + 10<<10},
			"orchestrate":       {CRs: 10, NodeTypes: 4, Converged: true, Requests: 110, HeapBefore: 10 << 20, HeapAfter: 10<<20 + 20<<10},
		},
	}
	md := Markdown(r)
	for _, want := range []string{
		"### 4 node types, 10 replicas each",
		"| CR status writes | – | – | 2.0 |",
		"### 10 Clusters",
		"| requests | 100 | – | 110 (1.1×) |",
		"| heap per Cluster (KiB) | 1.0 | – | 2.0 (2×) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
