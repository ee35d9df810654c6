package orchestrate

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

func testOwner(order ...string) *testv1.Cluster {
	return &testv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "uid"},
		Spec: testv1.ClusterSpec{Order: order}}
}

func sts(name string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}}}
}

func groups(g ...Group) BuildFunc[*testv1.Cluster] {
	return func(context.Context, *testv1.Cluster) ([]Group, error) { return g, nil }
}

func orchestrator(nts ...NodeType[*testv1.Cluster]) *Orchestrator[*testv1.Cluster] {
	return &Orchestrator[*testv1.Cluster]{nodeTypes: nts}
}

func TestDeploymentOrder(t *testing.T) {
	o := orchestrator(NodeType[*testv1.Cluster]{Name: "a"}, NodeType[*testv1.Cluster]{Name: "b"}, NodeType[*testv1.Cluster]{Name: "c"})
	tests := []struct {
		order   []string
		want    []int
		wantErr string
	}{
		{order: nil, want: []int{0, 1, 2}},
		{order: []string{"c", "a", "b"}, want: []int{2, 0, 1}},
		{order: []string{"b"}, want: []int{1, 0, 2}},
		{order: []string{"a", "x"}, wantErr: `names node type "x"`},
		{order: []string{"a", "a"}, wantErr: "twice"},
	}
	for _, tt := range tests {
		got, err := o.deploymentOrder(testOwner(tt.order...))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("order %v: error %v, want one containing %q", tt.order, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !equalInts(got, tt.want) {
			t.Errorf("order %v = %v, %v; want %v", tt.order, got, err, tt.want)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBuildLabelsPlacesAndAddsBudgets(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg"}}
	own := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(3))}}
	o := orchestrator(
		NodeType[*testv1.Cluster]{Name: "hist", Build: groups(
			Group{Name: "hot", Objects: []client.Object{cm, sts("hist-hot")}},
			Group{Name: "cold", Objects: []client.Object{sts("hist-cold"), own}},
		)},
		NodeType[*testv1.Cluster]{Name: "broker", Build: groups(Group{Objects: []client.Object{sts("broker")}}),
			Disruption: Disruption{MinAvailable: ptr.To(intstr.FromString("50%"))}},
		NodeType[*testv1.Cluster]{Name: "off", Build: groups()},
	)
	built, err := o.build(context.Background(), testOwner(), []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	hot := built[0].groups[0]
	if len(hot.objects) != 3 {
		t.Fatalf("hot group: %d objects, want ConfigMap, StatefulSet and a generated PDB", len(hot.objects))
	}
	pdb, ok := hot.objects[2].(*policyv1.PodDisruptionBudget)
	if !ok || pdb.Name != "hist-hot" || pdb.Spec.MaxUnavailable.IntValue() != 1 || pdb.Spec.MinAvailable != nil ||
		pdb.Spec.Selector.MatchLabels["app"] != "hist-hot" {
		t.Errorf("generated PDB = %+v", hot.objects[2])
	}
	for _, obj := range hot.objects {
		if obj.GetNamespace() != "ns" || obj.GetLabels()[keys.LabelComponent] != "hist" || obj.GetLabels()[keys.LabelGroup] != "hot" {
			t.Errorf("%s: namespace %q labels %v", obj.GetName(), obj.GetNamespace(), obj.GetLabels())
		}
	}
	if cold := built[0].groups[1]; len(cold.objects) != 2 {
		t.Errorf("a group with its own PDB got another one: %d objects", len(cold.objects))
	}
	// Available is judged by the budget each group really has.
	if got := built[0].groups[1].budget.availableNeeded(3); got != 3 {
		t.Errorf("the cold group's own budget keeps %d of 3 pods, want 3", got)
	}
	if got := built[1].groups[0].budget.availableNeeded(4); got != 2 {
		t.Errorf("broker's generated budget keeps %d of 4 pods, want 2 (50%%)", got)
	}
	bpdb := built[1].groups[0].objects[1].(*policyv1.PodDisruptionBudget)
	if bpdb.Spec.MinAvailable.String() != "50%" || bpdb.Spec.MaxUnavailable != nil {
		t.Errorf("configured PDB: %+v", bpdb.Spec)
	}
	if _, has := built[1].groups[0].objects[0].GetLabels()[keys.LabelGroup]; has {
		t.Errorf("an unnamed group set the group label")
	}
	if len(built[2].groups) != 0 {
		t.Errorf("a node type that builds nothing has groups")
	}
}

func TestBuildRefusesMistakes(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		nts     []NodeType[*testv1.Cluster]
		wantErr string
	}{
		{"build error", []NodeType[*testv1.Cluster]{{Name: "a", Build: func(context.Context, *testv1.Cluster) ([]Group, error) { return nil, errBoom }}}, "boom"},
		{"two workloads in a group", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Objects: []client.Object{sts("x"), sts("y")}})}}, "two workloads"},
		{"unnamed group among several", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Name: "hot"}, Group{})}}, "must name each"},
		{"group twice", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Name: "hot"}, Group{Name: "hot"})}}, "twice"},
		{"object in two node types", []NodeType[*testv1.Cluster]{
			{Name: "a", Build: groups(Group{Objects: []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}}})},
			{Name: "b", Build: groups(Group{Objects: []client.Object{&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}}})},
		}, "desired by both"},
		{"another namespace", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Objects: []client.Object{
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "other"}}}})}}, "owner's namespace"},
		{"no name", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Objects: []client.Object{&corev1.ConfigMap{}}})}}, "has no name"},
		{"nil object", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Objects: []client.Object{nil}})}}, "is nil"},
		{"workload without selector", []NodeType[*testv1.Cluster]{{Name: "a", Build: groups(Group{Objects: []client.Object{&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}}}})}}, "no pod selector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := make([]int, len(tt.nts))
			for i := range order {
				order[i] = i
			}
			_, err := orchestrator(tt.nts...).build(context.Background(), testOwner(), order)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	if err := (Config{}).validate(); err == nil || !strings.Contains(err.Error(), "App is required") || !strings.Contains(err.Error(), "FieldOwner is required") {
		t.Errorf("empty Config: %v", err)
	}
	if err := (Config{App: "druid", FieldOwner: "bad owner!"}).validate(); err == nil {
		t.Errorf("a field owner that is no label value was accepted")
	}
	build := groups()
	for name, nts := range map[string][]NodeType[*testv1.Cluster]{
		"bad name":     {{Name: "Hot_Tier", Build: build}},
		"no build":     {{Name: "a"}},
		"twice":        {{Name: "a", Build: build}, {Name: "a", Build: build}},
		"bad budget":   {{Name: "a", Build: build, Disruption: Disruption{MaxUnavailable: ptr.To(intstr.FromString("lots"))}}},
		"negative int": {{Name: "a", Build: build, Disruption: Disruption{MinAvailable: ptr.To(intstr.FromInt32(-1))}}},
	} {
		if err := validateNodeTypes(nts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := validateNodeTypes([]NodeType[*testv1.Cluster]{{Name: "a", Build: build}}); err != nil {
		t.Errorf("a valid node type: %v", err)
	}
	// A kind scaffolded without node types yet must still start.
	if err := validateNodeTypes[*testv1.Cluster](nil); err != nil {
		t.Errorf("no node types: %v", err)
	}
}
