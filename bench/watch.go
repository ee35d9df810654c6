package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// stamp is a moment at which the driver saw something.
type stamp struct {
	at    time.Time
	value string
}

// timeline records, as the driver's informers deliver them, every change of
// a Deployment's pod template and every new ReplicaSet, so that latencies
// can be read afterwards.
type timeline struct {
	mu          sync.Mutex
	templates   map[string][]stamp // "ns/deployment" -> template hashes
	replicaSets map[string][]stamp // "ns/deployment" -> ReplicaSet names
	cancel      context.CancelFunc
}

// watchNamespaces starts informers on Deployments and ReplicaSets in the
// namespaces and returns once they have synced. Stop it with stop.
func (d *driver) watchNamespaces(ctx context.Context, namespaces []string) (*timeline, error) {
	ctx, cancel := context.WithCancel(ctx)
	tl := &timeline{templates: map[string][]stamp{}, replicaSets: map[string][]stamp{}, cancel: cancel}
	for _, ns := range namespaces {
		f := informers.NewSharedInformerFactoryWithOptions(d.kube, 0, informers.WithNamespace(ns))
		deps := f.Apps().V1().Deployments().Informer()
		if _, err := deps.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { tl.deployment(obj) },
			UpdateFunc: func(_, obj any) { tl.deployment(obj) },
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("watch deployments: %w", err)
		}
		rss := f.Apps().V1().ReplicaSets().Informer()
		if _, err := rss.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) { tl.replicaSet(obj) },
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("watch replicasets: %w", err)
		}
		f.Start(ctx.Done())
		for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				cancel()
				return nil, fmt.Errorf("watch %v in %s: cache did not sync", typ, ns)
			}
		}
	}
	return tl, nil
}

func (tl *timeline) stop() { tl.cancel() }

func (tl *timeline) deployment(obj any) {
	dep, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	now := time.Now()
	h := templateHash(&dep.Spec.Template)
	key := dep.Namespace + "/" + dep.Name
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.templates[key]
	if len(s) == 0 || s[len(s)-1].value != h {
		tl.templates[key] = append(s, stamp{at: now, value: h})
	}
}

func (tl *timeline) replicaSet(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	now := time.Now()
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil || ref.Kind != "Deployment" {
		return
	}
	key := rs.Namespace + "/" + ref.Name
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.replicaSets[key] = append(tl.replicaSets[key], stamp{at: now, value: rs.Name})
}

// lastTemplate is the last template hash seen for a Deployment.
func (tl *timeline) lastTemplate(key string) string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	s := tl.templates[key]
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1].value
}

// templateChangeAfter is the first template change of a Deployment at or
// after t, away from prev.
func (tl *timeline) templateChangeAfter(key string, t time.Time, prev string) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, s := range tl.templates[key] {
		if !s.at.Before(t) && s.value != prev {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// replicaSetAfter is the first ReplicaSet of a Deployment created at or
// after t.
func (tl *timeline) replicaSetAfter(key string, t time.Time) (time.Time, bool) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, s := range tl.replicaSets[key] {
		if !s.at.Before(t) {
			return s.at, true
		}
	}
	return time.Time{}, false
}

// templateHash identifies a pod template by the SHA-256 of its JSON.
func templateHash(t *corev1.PodTemplateSpec) string {
	b, err := json.Marshal(t)
	if err != nil {
		return "unmarshalable:" + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
