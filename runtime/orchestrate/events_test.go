package orchestrate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"

	testv1 "github.com/opbuilder/opbuilder/runtime/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/internal/testenv"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// memorySink is an events.EventSink that keeps Events by name, answering as
// the API server would: AlreadyExists for a second create of a name, NotFound
// for a patch of an unknown one. It stands in for the API server so that
// client-go's real broadcaster, which decides what to write, runs
// unmodified and fast; the e2e suite checks the same outcome against a real
// API server.
type memorySink struct {
	mu      sync.Mutex
	events  map[string]*eventsv1.Event
	creates int
	patches int
}

var _ events.EventSink = &memorySink{}

func (s *memorySink) Create(_ context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creates++
	if _, ok := s.events[e.Name]; ok {
		return nil, apierrors.NewAlreadyExists(eventsv1.Resource("events"), e.Name)
	}
	s.events[e.Name] = e.DeepCopy()
	return e, nil
}

func (s *memorySink) Update(_ context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.events[e.Name]; !ok {
		return nil, apierrors.NewNotFound(eventsv1.Resource("events"), e.Name)
	}
	s.events[e.Name] = e.DeepCopy()
	return e, nil
}

// Patch stores the event it is given: client-go's series patch carries
// exactly the series that the event holds.
func (s *memorySink) Patch(_ context.Context, e *eventsv1.Event, _ []byte) (*eventsv1.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.patches++
	if _, ok := s.events[e.Name]; !ok {
		return nil, apierrors.NewNotFound(eventsv1.Resource("events"), e.Name)
	}
	s.events[e.Name] = e.DeepCopy()
	return e, nil
}

// occurrences returns how many occurrences the stored Events count (1 each,
// or the series count), and the stored Events sorted by note.
func (s *memorySink) occurrences() (int, []eventsv1.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var out []eventsv1.Event
	for _, e := range s.events {
		out = append(out, *e.DeepCopy())
		if e.Series != nil {
			n += int(e.Series.Count)
		} else {
			n++
		}
	}
	slices.SortFunc(out, func(a, b eventsv1.Event) int { return strings.Compare(a.Note, b.Note) })
	return n, out
}

// installTransition is the status change of a first install of node types
// a, b and c: each starts rolling out, in one status write.
func installTransition() (prev, next *status.ClusterStatus) {
	next = &status.ClusterStatus{}
	for _, name := range []string{"a", "b", "c"} {
		nt := status.NodeTypeStatus{Name: name}
		meta.SetStatusCondition(&nt.Conditions, metav1.Condition{Type: ConditionProgressing, Status: metav1.ConditionTrue, Reason: ReasonRollingOut, Message: "created"})
		meta.SetStatusCondition(&nt.Conditions, metav1.Condition{Type: ConditionRolloutBlocked, Status: metav1.ConditionFalse, Reason: ReasonNotBlocked, Message: "no change is held"})
		next.NodeTypes = append(next.NodeTypes, nt)
	}
	return &status.ClusterStatus{}, next
}

// startBroadcaster runs client-go's events.k8s.io broadcaster, as a manager
// does, into a memorySink.
func startBroadcaster(t *testing.T) (events.EventRecorder, *memorySink) {
	t.Helper()
	sink := &memorySink{events: map[string]*eventsv1.Event{}}
	b := events.NewBroadcaster(sink)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); b.Shutdown() })
	if err := b.StartRecordingToSinkWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	return b.NewRecorder(testenv.Scheme(), "orchestrate-events-test"), sink
}

func eventOwner() *testv1.Cluster {
	cr := &testv1.Cluster{}
	cr.Namespace, cr.Name, cr.UID, cr.ResourceVersion = "ns", "db", "uid-1", "42"
	return cr
}

// waitForOccurrences waits until the sink's Events count want occurrences
// and no write is in flight, or fails listing what it holds.
func waitForOccurrences(t *testing.T, sink *memorySink, want int) []eventsv1.Event {
	t.Helper()
	var got []eventsv1.Event
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		var n int
		n, got = sink.occurrences()
		return n >= want, nil
	})
	if err != nil {
		var lines []string
		for _, e := range got {
			lines = append(lines, describeEvent(e))
		}
		t.Fatalf("the sink holds fewer than %d occurrences:\n  %s", want, strings.Join(lines, "\n  "))
	}
	return got
}

func describeEvent(e eventsv1.Event) string {
	count := int32(1)
	if e.Series != nil {
		count = e.Series.Count
	}
	return fmt.Sprintf("%s %s: %s (x%d)", e.Reason, e.Regarding.FieldPath, e.Note, count)
}

// TestRecordEventsOneEventPerNodeType records the three RolloutStarted
// events of one status write through client-go's real broadcaster: each node
// type's becomes an Event of its own, regarding its status entry, and no
// series is started, so nothing is left for the broadcaster to patch later.
func TestRecordEventsOneEventPerNodeType(t *testing.T) {
	rec, sink := startBroadcaster(t)
	evs := statusEvents(installTransition())
	if len(evs) != 3 {
		t.Fatalf("statusEvents = %v, want a RolloutStarted per node type", evs)
	}
	recordEvents(t.Context(), rec, testenv.Scheme(), eventOwner(), evs)

	got := waitForOccurrences(t, sink, 3)
	if len(got) != 3 {
		t.Fatalf("%d Events, want 3", len(got))
	}
	for i, name := range []string{"a", "b", "c"} {
		e := got[i]
		if e.Series != nil {
			t.Errorf("%s: a series of %d, want a single occurrence", describeEvent(e), e.Series.Count)
		}
		if want := `node type "` + name + `": created`; e.Note != want {
			t.Errorf("note %q, want %q", e.Note, want)
		}
		if want := "status.nodeTypes{" + name + "}"; e.Regarding.FieldPath != want {
			t.Errorf("%s: regarding.fieldPath %q, want %q", describeEvent(e), e.Regarding.FieldPath, want)
		}
		if e.Regarding.UID != "uid-1" || e.Regarding.Kind != "Cluster" || e.Regarding.Name != "db" {
			t.Errorf("%s: regarding %+v, want the Cluster", describeEvent(e), e.Regarding)
		}
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.patches != 0 {
		t.Errorf("%d event PATCHes, want none: no series", sink.patches)
	}
}

// TestRecordEventsCRWideEventsRegardTheWholeCR: events about the whole CR
// (pause, disable) carry no field path.
func TestRecordEventsCRWideEventsRegardTheWholeCR(t *testing.T) {
	rec, sink := startBroadcaster(t)
	paused := &status.ClusterStatus{Conditions: []metav1.Condition{{Type: ConditionRolloutPaused, Status: metav1.ConditionTrue, Reason: ReasonPausedByAnnotation}}}
	recordEvents(t.Context(), rec, testenv.Scheme(), eventOwner(), statusEvents(&status.ClusterStatus{}, paused))
	got := waitForOccurrences(t, sink, 1)
	if len(got) != 1 || got[0].Reason != EventRolloutPaused || got[0].Regarding.FieldPath != "" || got[0].Regarding.UID != "uid-1" {
		t.Errorf("events %+v, want one RolloutPaused regarding the whole Cluster", got)
	}
}

// TestBroadcasterFoldsEventsThatDifferOnlyInTheirNote documents why
// recordEvents sets a field path: recorded on the CR as a whole, the same
// three events become one Event, whose note names only one node type, with a
// series count of 2; the third occurrence stays in the broadcaster's memory
// until its finishSeries patches it minutes later. If client-go ever stops
// folding such events, this test fails and the field path can be revisited.
func TestBroadcasterFoldsEventsThatDifferOnlyInTheirNote(t *testing.T) {
	rec, sink := startBroadcaster(t)
	owner := eventOwner()
	for _, e := range statusEvents(installTransition()) {
		rec.Eventf(owner, nil, e.Type, e.Reason, e.Action, "%s", e.Note)
	}
	waitForOccurrences(t, sink, 2)
	// Give a third occurrence, were it written, the time to arrive.
	time.Sleep(500 * time.Millisecond)
	n, got := sink.occurrences()
	if len(got) != 1 || got[0].Series == nil || got[0].Series.Count != 2 || n != 2 {
		var lines []string
		for _, e := range got {
			lines = append(lines, describeEvent(e))
		}
		t.Fatalf("want the broadcaster to fold three events into one Event with a series count of 2, got %d occurrences:\n  %s", n, strings.Join(lines, "\n  "))
	}
	t.Logf("three RolloutStarted events for a, b, c became: %s", describeEvent(got[0]))
}
