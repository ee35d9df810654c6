package orchestrate

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// This file holds the calling of a node type's hooks (Hooks): answers are
// remembered per pod so a pod is not asked again while its answer is fresh,
// a call that outlives its timeout is reported as blocked without holding
// up the reconcile worker, and no lock is held while a hook runs.

const (
	defaultHookTimeout = 10 * time.Second
	defaultHookRecheck = 10 * time.Second
)

// hookKind names a hook of Hooks.
type hookKind int

const (
	hookHealthy hookKind = iota
	hookBeforeRemove
)

func (k hookKind) String() string {
	if k == hookHealthy {
		return "health gate"
	}
	return "before-remove hook"
}

// hookState is what is known of one pod's answer.
type hookState int

const (
	// hookYes: the hook said yes.
	hookYes hookState = iota
	// hookNo: the hook said no, with a reason.
	hookNo
	// hookFailed: the hook returned an error.
	hookFailed
	// hookBlocked: the call is still running after its timeout.
	hookBlocked
)

// hookAnswer is one pod's answer from one hook.
type hookAnswer struct {
	State hookState
	// Reason is the hook's reason, the error's text or the timeout.
	Reason string
}

// hookWait is what a group waits for: a pod a hook has not said yes to.
type hookWait struct {
	Kind   hookKind
	Pod    string
	Answer hookAnswer
}

// message is the wait as conditions and events say it.
func (w hookWait) message() string {
	switch w.Answer.State {
	case hookFailed:
		return fmt.Sprintf("the %s of pod %s failed: %s", w.Kind, w.Pod, w.Answer.Reason)
	case hookBlocked:
		return fmt.Sprintf("the %s of pod %s has not answered: %s", w.Kind, w.Pod, w.Answer.Reason)
	}
	if w.Kind == hookHealthy {
		return fmt.Sprintf("pod %s is not healthy yet: %s", w.Pod, w.Answer.Reason)
	}
	return fmt.Sprintf("pod %s may not be removed yet: %s", w.Pod, w.Answer.Reason)
}

// hookKey identifies one pod's answer from one hook. A replaced pod has a
// new UID, so it is asked afresh.
type hookKey struct {
	kind hookKind
	pod  types.UID
}

// hookEntry is a remembered answer, or a call under way.
type hookEntry struct {
	answer  hookAnswer
	at      time.Time // when answer was given, or the call started
	recheck time.Duration
	running bool
	// reported is the answer last recorded as an event, so each pod and
	// reason gets one.
	reported *hookAnswer
}

// hookRunner calls hooks and remembers their answers. It is shared by the
// passes of every CR of an Orchestrator.
type hookRunner struct {
	mu      sync.Mutex
	entries map[hookKey]*hookEntry
	now     func() time.Time
}

func newHookRunner(now func() time.Time) *hookRunner {
	return &hookRunner{entries: map[hookKey]*hookEntry{}, now: now}
}

// ask returns pod's answer from hook: the remembered one while it is fresh
// or a call is still running, else the answer of a new call, waited for at
// most timeout. A call that takes longer goes on in the background and its
// answer is kept for the next ask.
func (h *hookRunner) ask(ctx context.Context, kind hookKind, pod *corev1.Pod, timeout, recheck time.Duration,
	call func(context.Context) (Verdict, error)) hookAnswer {
	key := hookKey{kind: kind, pod: pod.UID}
	h.mu.Lock()
	h.sweep()
	e := h.entries[key]
	if e != nil && e.running {
		h.mu.Unlock()
		return hookAnswer{State: hookBlocked, Reason: fmt.Sprintf("no answer within %s", timeout)}
	}
	if e != nil && h.now().Sub(e.at) < recheck {
		a := e.answer
		h.mu.Unlock()
		return a
	}
	if e == nil {
		e = &hookEntry{}
		h.entries[key] = e
	}
	e.running, e.at, e.recheck = true, h.now(), recheck
	h.mu.Unlock()

	done := make(chan hookAnswer, 1)
	// The call outlives this pass when it overruns, so it gets its own
	// deadline instead of the pass's context.
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	go func() {
		defer cancel()
		a := runHook(callCtx, call)
		h.mu.Lock()
		e.answer, e.at, e.running = a, h.now(), false
		h.mu.Unlock()
		done <- a
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-done:
		return a
	case <-timer.C:
		return hookAnswer{State: hookBlocked, Reason: fmt.Sprintf("no answer within %s", timeout)}
	}
}

// runHook calls a hook, turning a panic into a failure so that a bug in
// the application's hook does not take the operator down.
func runHook(ctx context.Context, call func(context.Context) (Verdict, error)) (a hookAnswer) {
	defer func() {
		if p := recover(); p != nil {
			a = hookAnswer{State: hookFailed, Reason: fmt.Sprintf("panic: %v", p)}
		}
	}()
	v, err := call(ctx)
	switch {
	case err != nil:
		return hookAnswer{State: hookFailed, Reason: err.Error()}
	case v.OK:
		return hookAnswer{State: hookYes}
	case v.Reason == "":
		return hookAnswer{State: hookNo, Reason: "the hook said no"}
	default:
		return hookAnswer{State: hookNo, Reason: v.Reason}
	}
}

// firstReport reports whether w has not been recorded as an event for its
// pod yet, and notes it as recorded.
func (h *hookRunner) firstReport(kind hookKind, pod types.UID, a hookAnswer) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entries[hookKey{kind: kind, pod: pod}]
	if e == nil || (e.reported != nil && *e.reported == a) {
		return false
	}
	e.reported = &a
	return true
}

// sweep forgets answers long stale, which are those of pods that are gone
// or no longer asked about, so memory stays bounded by the pods under way.
// The caller holds h.mu.
func (h *hookRunner) sweep() {
	for k, e := range h.entries {
		if !e.running && h.now().Sub(e.at) > 10*e.recheck {
			delete(h.entries, k)
		}
	}
}
