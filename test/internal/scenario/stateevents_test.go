package scenario_test

import (
	"strings"
	"testing"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

func ev(reason, note string, count int32) scenario.Event {
	return scenario.Event{Type: "Normal", Reason: reason, Note: note, Count: count}
}

func TestNodeTypeOf(t *testing.T) {
	for note, want := range map[string]string{
		`node type "broker": applied a new spec`:                        "broker",
		`node type "historical": waiting for node type "a" to roll out`: "historical",
		`the pause was lifted`:                                          "",
		`node type broker: unquoted`:                                    "",
	} {
		if got := scenario.NodeTypeOf(ev("RolloutStarted", note, 1)); got != want {
			t.Errorf("NodeTypeOf(%q) = %q, want %q", note, got, want)
		}
	}
}

func TestJudgeEvents(t *testing.T) {
	want := scenario.EventTally{}
	want.Add(scenario.ReasonRolloutStarted, "a", 1)
	want.Add(scenario.ReasonRolloutStarted, "b", 1)
	want.Add(scenario.ReasonRolloutBlocked, "b", 1)

	started := func(nt string, n int32) scenario.Event {
		return ev(scenario.ReasonRolloutStarted, `node type "`+nt+`": created`, n)
	}
	blocked := ev(scenario.ReasonRolloutBlocked, `node type "b": waiting for node type "a" to roll out`, 1)
	unrelated := ev("Created", "created ConfigMap x", 3)

	tests := []struct {
		name      string
		events    []scenario.Event
		wantErr   string // "" for success
		permanent bool
	}{
		{"exactly as wanted", []scenario.Event{started("a", 1), started("b", 1), blocked, unrelated}, "", false},
		{"one still missing", []scenario.Event{started("a", 1), blocked}, "RolloutStarted b: 0 so far, want 1", false},
		{"a series of two counts twice", []scenario.Event{started("a", 2), started("b", 1), blocked}, "RolloutStarted a: 2, want 1", true},
		{"two Events count twice", []scenario.Event{started("a", 1), started("a", 1), started("b", 1), blocked}, "RolloutStarted a: 2, want 1", true},
		{"a reason wanted nowhere", []scenario.Event{started("a", 1), started("b", 1), blocked,
			ev(scenario.ReasonRolloutCompleted, `node type "a": every workload is rolled out`, 1)}, "RolloutCompleted a: 1, want 0", true},
		{"too many and too few at once is permanent", []scenario.Event{started("a", 2), blocked}, "RolloutStarted b: 0 so far, want 1", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := scenario.JudgeEvents(tc.events, want, scenario.RolloutReasons...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("JudgeEvents: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("JudgeEvents = %v, want an error containing %q", err, tc.wantErr)
			}
			if got := scenario.IsPermanent(err); got != tc.permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", got, tc.permanent, err)
			}
			if !strings.Contains(err.Error(), "(x") {
				t.Errorf("the error does not list the events: %v", err)
			}
		})
	}
}
