package scenario

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Reasons of the events the runtime's orchestrator (runtime/orchestrate)
// records once per change of a node type's rollout state. They are spelled
// out rather than imported, so that the test module does not compile the
// orchestrator's dependencies; a renamed reason makes every count fall short
// of what a check wants, so it cannot go unnoticed.
const (
	ReasonRolloutStarted   = "RolloutStarted"
	ReasonRolloutBlocked   = "RolloutBlocked"
	ReasonRolloutCompleted = "RolloutCompleted"
)

// RolloutReasons are those reasons.
var RolloutReasons = []string{ReasonRolloutStarted, ReasonRolloutBlocked, ReasonRolloutCompleted}

// EventKey is a reason and the node type an event with it is about.
type EventKey struct {
	Reason, NodeType string
}

func (k EventKey) String() string { return k.Reason + " " + k.NodeType }

// EventTally is how many times events occurred, by reason and node type,
// the repeats an event series counts included.
type EventTally map[EventKey]int

// Add adds n occurrences of reason about nodeType.
func (t EventTally) Add(reason, nodeType string, n int) {
	if n != 0 {
		t[EventKey{reason, nodeType}] += n
	}
}

// Clone returns a copy of the tally.
func (t EventTally) Clone() EventTally { return maps.Clone(t) }

// NodeTypeOf returns the node type an event of the orchestrator is about,
// which its note names first (`node type "broker": ...`), or "" when the
// note names none.
func NodeTypeOf(e Event) string {
	rest, ok := strings.CutPrefix(e.Note, "node type ")
	if !ok {
		return ""
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return ""
	}
	name, err := strconv.Unquote(quoted)
	if err != nil {
		return ""
	}
	return name
}

// TallyEvents counts the events with the given reasons by reason and node
// type (NodeTypeOf), an Event whose series counts n occurrences counting n.
func TallyEvents(events []Event, reasons ...string) EventTally {
	t := EventTally{}
	for _, e := range events {
		if slices.Contains(reasons, e.Reason) {
			t.Add(e.Reason, NodeTypeOf(e), int(e.Count))
		}
	}
	return t
}

// JudgeEvents compares the events with the given reasons against want. It
// returns nil when they occurred exactly as often as want says (a key
// missing from want: never); a PermanentError when one occurred more often,
// since events never go away while the scenario runs; and a plain error
// while some are still missing. Both errors list the events.
func JudgeEvents(events []Event, want EventTally, reasons ...string) error {
	got := TallyEvents(events, reasons...)
	var over, under []string
	keys := slices.AppendSeq(slices.Collect(maps.Keys(got)), maps.Keys(want))
	slices.SortFunc(keys, func(a, b EventKey) int {
		return cmp.Or(cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.NodeType, b.NodeType))
	})
	keys = slices.Compact(keys)
	for _, k := range keys {
		switch g, w := got[k], want[k]; {
		case g > w:
			over = append(over, fmt.Sprintf("%s: %d, want %d", k, g, w))
		case g < w:
			under = append(under, fmt.Sprintf("%s: %d so far, want %d", k, g, w))
		}
	}
	var listed []string
	for _, e := range events {
		if slices.Contains(reasons, e.Reason) {
			listed = append(listed, e.String())
		}
	}
	list := strings.Join(listed, "\n  ")
	if len(over) > 0 {
		return permanent("events recorded more often than the state changed (an Event with a series counts as often as the series says):\n  %s\nthe events:\n  %s",
			strings.Join(append(over, under...), "\n  "), list)
	}
	if len(under) > 0 {
		return fmt.Errorf("events missing:\n  %s\nthe events so far:\n  %s", strings.Join(under, "\n  "), list)
	}
	return nil
}

// CheckRolloutEvents judges (JudgeEvents) the CR's RolloutStarted,
// RolloutBlocked and RolloutCompleted events against want.
func (s *Scenario) CheckRolloutEvents(ctx context.Context, want EventTally) error {
	events, err := EventsOn(ctx, s.Cluster.Client, s.Instance.Namespace, s.UID)
	if err != nil {
		return err
	}
	return JudgeEvents(events, want, RolloutReasons...)
}
