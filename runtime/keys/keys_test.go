package keys

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestAllKeysAreValidQualifiedNames(t *testing.T) {
	all := []string{
		LabelName, LabelInstance, LabelComponent, LabelManagedBy, LabelOwnerUID, LabelGroup,
		AnnotationConfigHash, AnnotationAppliedHash, AnnotationPauseRollout, AnnotationReconcile,
		AnnotationForceRollout,
	}
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k] {
			t.Errorf("key %q defined twice", k)
		}
		seen[k] = true
		if err := ValidateAnnotationKeys(map[string]string{k: ""}); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
		if strings.HasPrefix(k, "app.kubernetes.io/") {
			continue
		}
		if !strings.HasPrefix(k, Prefix+"/") {
			t.Errorf("key %q does not use prefix %q", k, Prefix)
		}
	}
}

func TestStandardLabels(t *testing.T) {
	got := StandardLabels("druid", "prod", "broker", "druid-operator")
	want := map[string]string{
		LabelName: "druid", LabelInstance: "prod", LabelComponent: "broker", LabelManagedBy: "druid-operator",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("label %s = %q, want %q", k, got[k], v)
		}
	}
	if err := ValidateLabels(got); err != nil {
		t.Errorf("valid labels rejected: %v", err)
	}
	if _, ok := StandardLabels("druid", "prod", "", "op")[LabelComponent]; ok {
		t.Error("empty component must be left out")
	}
}

func TestSelectorLabelsExcludeMutableIdentity(t *testing.T) {
	sel := SelectorLabels("druid", "prod", "broker")
	for _, k := range []string{LabelManagedBy, LabelOwnerUID} {
		if _, ok := sel[k]; ok {
			t.Errorf("selector must not contain %s", k)
		}
	}
	if len(sel) != 3 {
		t.Errorf("selector = %v, want 3 labels", sel)
	}
}

func TestValidateLabelsRejects(t *testing.T) {
	cases := map[string]map[string]string{
		"value too long": {LabelInstance: strings.Repeat("a", 64)},
		"bad value char": {LabelInstance: "a b"},
		"bad key":        {"-bad/key": "x"},
	}
	for name, l := range cases {
		if err := ValidateLabels(l); err == nil {
			t.Errorf("%s: expected an error for %v", name, l)
		}
	}
	if err := ValidateLabels(OwnerLabels(types.UID("0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"))); err != nil {
		t.Errorf("uid label rejected: %v", err)
	}
}

func TestMerge(t *testing.T) {
	got := Merge(map[string]string{"a": "1", "b": "1"}, nil, map[string]string{"b": "2"})
	if got["a"] != "1" || got["b"] != "2" || len(got) != 2 {
		t.Errorf("Merge = %v", got)
	}
}

func TestCRAnnotations(t *testing.T) {
	a := map[string]string{
		AnnotationReconcile:    ValueDisabled,
		AnnotationPauseRollout: ValueTrue,
		AnnotationForceRollout: " broker, ,historical,broker ",
	}
	if !ReconcileDisabled(a) || !RolloutPaused(a) {
		t.Error("annotations not recognised")
	}
	if ReconcileDisabled(nil) || RolloutPaused(map[string]string{AnnotationPauseRollout: "yes"}) {
		t.Error("only the exact values switch the behaviour on")
	}
	got := ForceRolloutNodeTypes(a)
	if strings.Join(got, ",") != "broker,historical" {
		t.Errorf("ForceRolloutNodeTypes = %v", got)
	}
	if ForceRolloutNodeTypes(nil) != nil {
		t.Error("absent annotation must give nil")
	}
}
