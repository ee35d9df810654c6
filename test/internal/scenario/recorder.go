package scenario

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Observation is one state of a workload as a watch delivered it.
type Observation struct {
	// RV is the resourceVersion of this state. With a single etcd it is the
	// etcd revision, a counter over all writes of the cluster, so it orders
	// the states of different objects; the recorder uses it as its clock
	// because watch events of two resources may arrive in either order.
	RV uint64
	// Kind, Name, NodeType and Group name the workload.
	Kind, Name, NodeType, Group string
	// Generation is metadata.generation: it changes when the spec does.
	Generation int64
	// Image is the first container's image in the pod template.
	Image string
	// ConfigHash is the pod template's opbuilder.io/config-hash annotation.
	ConfigHash string
	// RolledOut is true when the workload's controller has observed this
	// generation and every desired replica is updated and ready.
	RolledOut bool
}

// Key names the workload of the observation, e.g.
// "historical/hot StatefulSet druid-sample-historical-hot".
func (o Observation) Key() string {
	return o.NodeType + "/" + o.Group + " " + o.Kind + " " + o.Name
}

// Recorder watches the workloads of one CR and keeps every state it sees.
type Recorder struct {
	mu     sync.Mutex
	obs    []Observation
	errs   []error
	cancel context.CancelFunc
	done   chan struct{}
}

var workloadGVRs = map[string]schema.GroupVersionResource{
	"StatefulSet": {Group: "apps", Version: "v1", Resource: "statefulsets"},
	"Deployment":  {Group: "apps", Version: "v1", Resource: "deployments"},
}

// StartRecorder starts watching the StatefulSets and Deployments labelled
// as children of the CR with the given UID, and returns once the watches
// have synced. The watches run until Stop, whatever becomes of ctx, which
// only bounds the wait for the sync.
func StartRecorder(ctx context.Context, c *Cluster, namespace string, owner types.UID) (*Recorder, error) {
	waitCtx := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &Recorder{cancel: cancel, done: make(chan struct{})}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(c.Dynamic, 0, namespace,
		func(o *metav1.ListOptions) { o.LabelSelector = keys.LabelOwnerUID + "=" + string(owner) })
	for kind, gvr := range workloadGVRs {
		inf := factory.ForResource(gvr).Informer()
		record := func(obj any) {
			u, ok := obj.(*unstructured.Unstructured)
			if !ok {
				return
			}
			r.add(kind, u)
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    record,
			UpdateFunc: func(_, obj any) { record(obj) },
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("watching %s: %w", gvr.Resource, err)
		}
	}
	factory.Start(ctx.Done())
	go func() {
		<-ctx.Done()
		factory.Shutdown()
		close(r.done)
	}()
	syncCtx, syncCancel := context.WithTimeout(waitCtx, 2*time.Minute)
	defer syncCancel()
	for gvr, ok := range factory.WaitForCacheSync(syncCtx.Done()) {
		if !ok {
			r.Stop()
			return nil, fmt.Errorf("watching %s: the informer did not sync", gvr.Resource)
		}
	}
	return r, nil
}

// Stop ends the watches.
func (r *Recorder) Stop() {
	r.cancel()
	<-r.done
}

func (r *Recorder) add(kind string, u *unstructured.Unstructured) {
	o, err := observe(kind, u)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	r.obs = append(r.obs, o)
}

func observe(kind string, u *unstructured.Unstructured) (Observation, error) {
	rv, err := strconv.ParseUint(u.GetResourceVersion(), 10, 64)
	if err != nil {
		return Observation{}, fmt.Errorf("%s %s: resourceVersion %q is not a number", kind, u.GetName(), u.GetResourceVersion())
	}
	o := Observation{
		RV:         rv,
		Kind:       kind,
		Name:       u.GetName(),
		NodeType:   u.GetLabels()[keys.LabelComponent],
		Group:      u.GetLabels()[keys.LabelGroup],
		Generation: u.GetGeneration(),
	}
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if len(containers) > 0 {
		if c, ok := containers[0].(map[string]any); ok {
			o.Image, _ = c["image"].(string)
		}
	}
	o.ConfigHash, _, _ = unstructured.NestedString(u.Object, "spec", "template", "metadata", "annotations", keys.AnnotationConfigHash)

	u = u.DeepCopy()
	u.SetAPIVersion("apps/v1")
	u.SetKind(kind)
	res, err := status.Compute(u)
	if err != nil {
		return Observation{}, fmt.Errorf("%s %s: computing status: %w", kind, u.GetName(), err)
	}
	want, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		want = 1
	}
	ready, _, _ := unstructured.NestedInt64(u.Object, "status", "readyReplicas")
	updated, _, _ := unstructured.NestedInt64(u.Object, "status", "updatedReplicas")
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	o.RolledOut = res.Status == status.CurrentStatus && observed >= o.Generation && ready == want && updated == want
	return o, nil
}

// Observations returns everything seen so far, in resourceVersion order,
// or the first error met while decoding an event.
func (r *Recorder) Observations() ([]Observation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) > 0 {
		return nil, r.errs[0]
	}
	out := slices.Clone(r.obs)
	slices.SortStableFunc(out, func(a, b Observation) int { return cmpUint(a.RV, b.RV) })
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Rollout is one workload's move to a new pod template.
type Rollout struct {
	// Kind, Name, NodeType and Group name the workload.
	Kind, Name, NodeType, Group string
	// Started is the resourceVersion at which its pod template first
	// matched; Done the first one after that at which it was rolled out
	// (0 while it is not).
	Started, Done uint64
}

func (r Rollout) String() string {
	done := "not done"
	if r.Done > 0 {
		done = "done@" + strconv.FormatUint(r.Done, 10)
	}
	return fmt.Sprintf("%s/%s (%s %s): started@%d, %s", r.NodeType, r.Group, r.Kind, r.Name, r.Started, done)
}

// Rollouts returns, for every workload whose pod template came to satisfy
// changed at or after resourceVersion since, when that happened and when the
// workload was rolled out afterwards, ordered by when they started.
func (r *Recorder) Rollouts(since uint64, changed func(Observation) bool) ([]Rollout, error) {
	obs, err := r.Observations()
	if err != nil {
		return nil, err
	}
	return RolloutsFrom(obs, since, changed), nil
}

// RolloutsFrom is Rollouts over a list of observations in resourceVersion
// order.
func RolloutsFrom(obs []Observation, since uint64, changed func(Observation) bool) []Rollout {
	byKey := map[string]*Rollout{}
	var order []string
	for _, o := range obs {
		if o.RV < since || !changed(o) {
			continue
		}
		ro, ok := byKey[o.Key()]
		if !ok {
			ro = &Rollout{Kind: o.Kind, Name: o.Name, NodeType: o.NodeType, Group: o.Group, Started: o.RV}
			byKey[o.Key()] = ro
			order = append(order, o.Key())
		}
		if ro.Done == 0 && o.RolledOut {
			ro.Done = o.RV
		}
	}
	out := make([]Rollout, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

// LatestRV returns the highest resourceVersion seen so far; pass it as
// since to Rollouts to look only at what happens next.
func (r *Recorder) LatestRV() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var m uint64
	for _, o := range r.obs {
		m = max(m, o.RV)
	}
	return m
}

// FormatRollouts renders rollouts one per line, for reports.
func FormatRollouts(rs []Rollout) string {
	lines := make([]string, 0, len(rs))
	for i, r := range rs {
		lines = append(lines, fmt.Sprintf("%d. %s", i+1, r))
	}
	return strings.Join(lines, "\n")
}
