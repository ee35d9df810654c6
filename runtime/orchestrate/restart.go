package orchestrate

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/opbuilder/opbuilder/runtime/eventclient"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// This file holds restarts on request: a new value of the CR's
// keys.AnnotationRestart restarts every node type once, in the deployment
// order and gated like any rollout; keys.AnnotationRestart + ".<node type>"
// restarts one node type.
//
// The restart is not part of the desired state the build functions return.
// A field manager of its own (restartManager) sets the tokens on the
// workload, as the record, and on its pod template, which rolls the pods.
// The Builder's applies never own those annotations, so removing a request
// from the CR removes nothing and restarts nothing; and the record lives on
// the workload, so a restart cut short by an operator restart carries on
// where it stopped. A workload created while a request is set is recorded
// as restarted without rolling: its pods are new.

// restartManager is the field manager of restarts.
func (o *Orchestrator[T]) restartManager() string { return o.cfg.FieldOwner + "-restart" }

// restartDue returns the restart tokens live must be restarted for, or nil
// when its record, or the memory of a restart the cache has not seen yet,
// has them all (or nothing is asked).
func (o *Orchestrator[T]) restartDue(owner client.Object, nodeType string, live client.Object) map[string]string {
	want := keys.RestartTokens(owner.GetAnnotations(), nodeType)
	if live == nil || len(want) == 0 || o.restarted.has(live.GetUID(), want) {
		return nil
	}
	have := live.GetAnnotations()
	for k, v := range want {
		if have[k] != v {
			return want
		}
	}
	return nil
}

// restartMemo remembers, per workload UID, the tokens last applied.
type restartMemo struct {
	mu     sync.Mutex
	tokens map[types.UID]map[string]string
}

func (m *restartMemo) remember(uid types.UID, tokens map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens == nil {
		m.tokens = map[types.UID]map[string]string{}
	}
	m.tokens[uid] = tokens
}

func (m *restartMemo) has(uid types.UID, want map[string]string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Equal(m.tokens[uid], want)
}

// restart applies tokens to live: as its record, and, unless the workload
// was just created, to its pod template, which rolls its pods.
func (o *Orchestrator[T]) restart(ctx context.Context, owner T, live client.Object, tokens map[string]string, created bool) error {
	gvk, err := apiutil.GVKForObject(live, o.scheme)
	if err != nil {
		return fmt.Errorf("orchestrate: restart %s: %w", live.GetName(), err)
	}
	record := map[string]any{}
	for k, v := range tokens {
		record[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvk.GroupVersion().String(),
		"kind":       gvk.Kind,
		"metadata":   map[string]any{"name": live.GetName(), "namespace": live.GetNamespace(), "annotations": record},
	}}
	detail := "recorded as restarted: it was created with the restart the CR asks for"
	opts := []client.ApplyOption{client.FieldOwner(o.restartManager()), client.ForceOwnership, eventclient.Before(live)}
	if !created {
		u.Object["spec"] = map[string]any{"template": map[string]any{"metadata": map[string]any{"annotations": maps.Clone(record)}}}
		detail = fmt.Sprintf("restarted, as the CR's %s annotation asks", keys.AnnotationRestart)
		opts = append(opts, eventclient.Rollout)
	}
	c, err := eventclient.New(o.client, o.recorder, eventclient.WithOwner(owner))
	if err != nil {
		return fmt.Errorf("orchestrate: %w", err)
	}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), append(opts, eventclient.Detail(detail))...); err != nil {
		return fmt.Errorf("orchestrate: restart %s %s: %w", gvk.Kind, live.GetName(), err)
	}
	o.restarted.remember(live.GetUID(), tokens)
	return nil
}
