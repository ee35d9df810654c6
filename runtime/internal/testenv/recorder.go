package testenv

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Event is one event a Recorder saw.
type Event struct {
	Type, Reason, Action, Note string
	Regarding, Related         *corev1.ObjectReference
}

// Recorder keeps the events recorded through it in memory, so a test can
// assert synchronously what a call recorded (or that it recorded nothing),
// and forwards them to Next, when set, so they also reach the API server.
type Recorder struct {
	Next events.EventRecorder

	mu  sync.Mutex
	evs []Event
}

var _ events.EventRecorder = &Recorder{}

// Eventf implements events.EventRecorder.
func (r *Recorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	ev := Event{Type: eventtype, Reason: reason, Action: action, Note: fmt.Sprintf(note, args...)}
	ev.Regarding, _ = regarding.(*corev1.ObjectReference)
	ev.Related, _ = related.(*corev1.ObjectReference)
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	if r.Next != nil {
		r.Next.Eventf(regarding, related, eventtype, reason, action, note, args...)
	}
}

// Take returns and forgets the events recorded so far.
func (r *Recorder) Take() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.evs
	r.evs = nil
	return out
}
