package kinds

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestTiers(t *testing.T) {
	for _, tt := range []struct {
		gk     schema.GroupKind
		tier   Tier
		rolled bool
	}{
		{schema.GroupKind{Kind: "ConfigMap"}, Config, false},
		{schema.GroupKind{Kind: "Service"}, Attached, false},
		{schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, Workload, true},
		{schema.GroupKind{Group: "batch", Kind: "Job"}, Workload, false},
		{schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}, RefersToWorkload, false},
		// A group matters: a ConfigMap-named kind of a CRD is not one.
		{schema.GroupKind{Group: "example.com", Kind: "ConfigMap"}, Other, false},
		{schema.GroupKind{Group: "example.com", Kind: "Widget"}, Other, false},
	} {
		if got := TierOf(tt.gk); got != tt.tier {
			t.Errorf("TierOf(%v) = %d, want %d", tt.gk, got, tt.tier)
		}
		if got := Rolled(tt.gk); got != tt.rolled {
			t.Errorf("Rolled(%v) = %v, want %v", tt.gk, got, tt.rolled)
		}
	}
	// Applying in tier order puts what a workload needs before it and what
	// refers to it after it.
	if Config >= Attached || Attached >= Workload || Workload >= RefersToWorkload || RefersToWorkload >= Other {
		t.Error("tiers are out of order")
	}
}
