package orchestrate_test

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// watchEvents watches the objects of list's kind in the test namespace that
// opts select, from now until the test ends, and hands each event to handle,
// one at a time. The returned function reports whether the API server ended
// the watch before the test did, so that a test counting events can tell it
// missed some.
func (e *env) watchEvents(list client.ObjectList, handle func(watch.Event), opts ...client.ListOption) (endedEarly func() bool) {
	e.t.Helper()
	wc, err := client.NewWithWatch(cluster(e.t).Config, client.Options{Scheme: testScheme})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := wc.Watch(ctx, list, append([]client.ListOption{client.InNamespace(e.ns)}, opts...)...)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	var ended atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.ResultChan():
				if !ok {
					ended.Store(ctx.Err() == nil)
					return
				}
				handle(ev)
			}
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
	return ended.Load
}
