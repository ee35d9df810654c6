package orchestrate

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestCanaryPods(t *testing.T) {
	tests := []struct {
		pods     intstr.IntOrString
		replicas int32
		want     int32
	}{
		{intstr.FromInt32(1), 3, 1},
		{intstr.FromInt32(5), 3, 2},      // all but one
		{intstr.FromInt32(1), 1, 0},      // a group of one pod has no canary
		{intstr.FromString("10%"), 3, 1}, // rounded up
		{intstr.FromString("50%"), 10, 5},
		{intstr.FromString("100%"), 4, 3},
	}
	for _, tt := range tests {
		c := &Canary{Pods: tt.pods}
		if got := c.pods(tt.replicas); got != tt.want {
			t.Errorf("Canary{Pods: %s}.pods(%d) = %d, want %d", tt.pods.String(), tt.replicas, got, tt.want)
		}
	}
}

func TestCanaryValidate(t *testing.T) {
	for _, bad := range []*Canary{
		{Pods: intstr.FromInt32(0)},
		{Pods: intstr.FromString("0%")},
		{Pods: intstr.FromString("ten")},
		{Pods: intstr.FromInt32(1), Soak: -time.Second},
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("Canary %+v is valid, want an error", *bad)
		}
	}
	var none *Canary
	for _, good := range []*Canary{none, {Pods: intstr.FromInt32(1)}, {Pods: intstr.FromString("25%"), Soak: time.Minute}} {
		if err := good.validate(); err != nil {
			t.Errorf("Canary %+v: %v", good, err)
		}
	}
}
