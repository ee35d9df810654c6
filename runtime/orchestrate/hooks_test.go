package orchestrate

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// clock is a settable clock for the hook runner.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestHookRunnerAsksAgainOnlyOnceTheAnswerIsStale(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	h := newHookRunner(c.now)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-0", UID: "u0"}}
	var calls atomic.Int32
	no := func(context.Context) (Verdict, error) { calls.Add(1); return Verdict{Reason: "loading segments"}, nil }

	a := h.ask(context.Background(), hookHealthy, pod, time.Second, 10*time.Second, no)
	if a.State != hookNo || a.Reason != "loading segments" || calls.Load() != 1 {
		t.Fatalf("first ask: %+v after %d calls", a, calls.Load())
	}
	c.add(9 * time.Second)
	if a := h.ask(context.Background(), hookHealthy, pod, time.Second, 10*time.Second, no); a.State != hookNo || calls.Load() != 1 {
		t.Fatalf("a fresh answer must be reused: %+v after %d calls", a, calls.Load())
	}
	c.add(2 * time.Second)
	h.ask(context.Background(), hookHealthy, pod, time.Second, 10*time.Second, no)
	if calls.Load() != 2 {
		t.Fatalf("a stale answer must be asked again: %d calls", calls.Load())
	}
	if !h.firstReport(hookHealthy, pod.UID, a) || h.firstReport(hookHealthy, pod.UID, a) {
		t.Error("an answer must be reported exactly once")
	}
	if !h.firstReport(hookHealthy, pod.UID, hookAnswer{State: hookNo, Reason: "other"}) {
		t.Error("a new reason must be reported")
	}
}

func TestHookRunnerReportsABlockedCallAndDoesNotCallAgainMeanwhile(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	h := newHookRunner(c.now)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p-0", UID: "u0"}}
	release := make(chan struct{})
	var calls atomic.Int32
	stuck := func(context.Context) (Verdict, error) {
		// Ignores its context, as a careless hook would.
		calls.Add(1)
		<-release
		return Verdict{OK: true}, nil
	}
	if a := h.ask(context.Background(), hookBeforeRemove, pod, 20*time.Millisecond, time.Minute, stuck); a.State != hookBlocked {
		t.Fatalf("a call past its timeout must be blocked, got %+v", a)
	}
	if a := h.ask(context.Background(), hookBeforeRemove, pod, 20*time.Millisecond, time.Minute, stuck); a.State != hookBlocked || calls.Load() != 1 {
		t.Fatalf("a running call must not be made again: %+v, %d calls", a, calls.Load())
	}
	close(release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if a := h.ask(context.Background(), hookBeforeRemove, pod, 20*time.Millisecond, time.Minute, stuck); a.State == hookYes {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late answer was not kept")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if calls.Load() != 1 {
		t.Errorf("the late answer must be used without a new call: %d calls", calls.Load())
	}
}

func TestHookRunnerReportsErrorsAndPanics(t *testing.T) {
	h := newHookRunner(time.Now)
	for name, call := range map[string]func(context.Context) (Verdict, error){
		"error": func(context.Context) (Verdict, error) { return Verdict{OK: true}, errors.New("connection refused") },
		"panic": func(context.Context) (Verdict, error) { panic("nil map") },
	} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
		if a := h.ask(context.Background(), hookHealthy, pod, time.Second, time.Second, call); a.State != hookFailed || a.Reason == "" {
			t.Errorf("%s: got %+v, want a failure with its text", name, a)
		}
	}
}
