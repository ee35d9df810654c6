package scenario

import (
	"context"
	"fmt"
	"slices"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Event is an events.k8s.io/v1 Event recorded on a CR, reduced to what the
// scenario checks.
type Event struct {
	// Type is Normal or Warning.
	Type string
	// Reason is e.g. Created, Pruned, RolloutTriggered.
	Reason string
	// Note is the human-readable text.
	Note string
	// RelatedKind, RelatedName and RelatedUID name the child the event is
	// about, when it is about one.
	RelatedKind, RelatedName string
	RelatedUID               types.UID
	// FieldPath is the part of the CR the event is about, when it is about
	// a part of it (regarding.fieldPath).
	FieldPath string
	// Count is how many times the event occurred: 1, or the series count
	// when the recorder folded repeats of it into a series.
	Count int32
	// Time is when it was last observed.
	Time time.Time
}

func (e Event) String() string {
	s := fmt.Sprintf("%s %s", e.Type, e.Reason)
	if e.FieldPath != "" {
		s += " " + e.FieldPath
	}
	if e.RelatedKind != "" {
		s += fmt.Sprintf(" %s/%s", e.RelatedKind, e.RelatedName)
	}
	return fmt.Sprintf("%s: %s (x%d)", s, e.Note, e.Count)
}

// EventsOn lists the events.k8s.io/v1 Events whose regarding object is the
// CR with the given UID.
func EventsOn(ctx context.Context, c client.Client, namespace string, owner types.UID) ([]Event, error) {
	var list eventsv1.EventList
	if err := c.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("listing events: %w", err)
	}
	var out []Event
	for _, e := range list.Items {
		if e.Regarding.UID != owner {
			continue
		}
		ev := Event{Type: e.Type, Reason: e.Reason, Note: e.Note, FieldPath: e.Regarding.FieldPath, Count: 1, Time: e.EventTime.Time}
		if e.Series != nil {
			ev.Count = e.Series.Count
			ev.Time = e.Series.LastObservedTime.Time
		}
		if e.Related != nil {
			ev.RelatedKind, ev.RelatedName, ev.RelatedUID = e.Related.Kind, e.Related.Name, e.Related.UID
		}
		out = append(out, ev)
	}
	slices.SortStableFunc(out, func(a, b Event) int { return a.Time.Compare(b.Time) })
	return out, nil
}

// WithReason keeps the events with the given reason.
func WithReason(events []Event, reason string) []Event {
	var out []Event
	for _, e := range events {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// EventCount returns how many times an event with the given reason was
// recorded about the child, counting the repeats of an event series.
func EventCount(events []Event, reason string, c Child) int {
	n := 0
	for _, e := range events {
		if e.Reason != reason {
			continue
		}
		if e.RelatedUID == c.Object.GetUID() || (e.RelatedUID == "" && e.RelatedKind == c.Kind && e.RelatedName == c.Object.GetName()) {
			n += int(e.Count)
		}
	}
	return n
}

// MissingEvents returns the children that have no event with the given
// reason about them (matched by related UID, or kind and name when the
// event recorded no UID), as "Kind namespace/name".
func MissingEvents(events []Event, reason string, children Children) []string {
	var missing []string
	for _, c := range children {
		found := slices.ContainsFunc(events, func(e Event) bool {
			if e.Reason != reason {
				return false
			}
			if e.RelatedUID != "" {
				return e.RelatedUID == c.Object.GetUID()
			}
			return e.RelatedKind == c.Kind && e.RelatedName == c.Object.GetName()
		})
		if !found {
			missing = append(missing, c.String())
		}
	}
	return missing
}
