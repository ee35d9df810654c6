package orchestrate

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/opbuilder/opbuilder/runtime/status"
	"github.com/opbuilder/opbuilder/runtime/store"
)

// This file holds the metrics of the domain: what each node type of each CR
// is doing, how long its rollouts take, what waits on a hook, what was
// pruned and what was refused. They are registered in controller-runtime's
// registry, so the manager's metrics endpoint serves them next to its own.
//
// Every series is labelled by the CR's kind, namespace and name, and most by
// node type; none by pod or child name, so their number grows with CRs and
// node types and not with replicas. A CR's series are removed when the CR is
// deleted, and a node type's when the CR stops running it.

// Label names of the domain metrics.
const (
	labelKind     = "kind"
	labelNS       = "namespace"
	labelName     = "name"
	labelNodeType = "node_type"
	labelState    = "state"
	labelHook     = "hook"
	labelResource = "resource"
)

// Node type states, as the opbuilder_node_type_state metric names them. A
// node type is in exactly one; the order is the precedence when several
// apply.
const (
	stateBlocked     = "blocked"
	stateWaiting     = "waiting"
	stateRolling     = "rolling"
	stateUnavailable = "unavailable"
	stateReady       = "ready"
)

var nodeTypeStates = []string{stateBlocked, stateWaiting, stateRolling, stateUnavailable, stateReady}

// hookLabel is a hook as the metrics' hook label names it.
func hookLabel(k hookKind) string {
	if k == hookHealthy {
		return "healthy"
	}
	return "before_remove"
}

// domainMetrics are the collectors of the domain metrics and the node types
// each CR has series for.
type domainMetrics struct {
	kind string

	state       *prometheus.GaugeVec
	duration    *prometheus.HistogramVec
	hookWaiting *prometheus.GaugeVec
	hookErrors  *prometheus.CounterVec
	pruned      *prometheus.CounterVec
	refused     *prometheus.GaugeVec

	mu        sync.Mutex
	nodeTypes map[types.NamespacedName][]string
}

// newDomainMetrics returns the domain metrics of CRs of kind, registered in
// reg. The Orchestrators of several kinds in one manager share the
// collectors: the first registers them, the others find them registered.
func newDomainMetrics(reg prometheus.Registerer, kind string) (*domainMetrics, error) {
	crLabels := []string{labelKind, labelNS, labelName}
	ntLabels := append(slices.Clone(crLabels), labelNodeType)
	m := &domainMetrics{kind: kind, nodeTypes: map[types.NamespacedName][]string{}}
	var err error
	if m.state, err = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "opbuilder_node_type_state",
		Help: "1 for the state each node type of a CR is in (blocked, waiting, rolling, unavailable or ready), 0 for the others.",
	}, append(slices.Clone(ntLabels), labelState))); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "opbuilder_rollout_duration_seconds",
		Help: "Time from a node type starting to roll out to its rollout completing.",
		// Data systems roll slowly: a node type of many pods that each
		// load data before they are healthy takes hours.
		Buckets: []float64{5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400},
	}, ntLabels)); err != nil {
		return nil, err
	}
	if m.hookWaiting, err = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "opbuilder_hook_waiting_pods",
		Help: "Pods a node type's rollout or removal waits on because a hook has not said yes.",
	}, append(slices.Clone(ntLabels), labelHook))); err != nil {
		return nil, err
	}
	if m.hookErrors, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "opbuilder_hook_errors_total",
		Help: "Hook calls that failed or outlived their timeout, counted once per pod and answer.",
	}, append(slices.Clone(ntLabels), labelHook))); err != nil {
		return nil, err
	}
	if m.pruned, err = register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "opbuilder_pruned_objects_total",
		Help: "Children deleted because the CR no longer desires them, by their kind.",
	}, append(slices.Clone(crLabels), labelResource))); err != nil {
		return nil, err
	}
	if m.refused, err = register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "opbuilder_refused_objects",
		Help: "Children of a node type the last pass would not write (an object in the way that the operator does not own).",
	}, ntLabels)); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c in reg, or returns the collector of the same
// description already registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// defaultMetricsRegistry is where the Orchestrator's metrics go: the
// registry the manager's metrics endpoint serves.
func defaultMetricsRegistry() prometheus.Registerer { return ctrlmetrics.Registry }

func (m *domainMetrics) crLabels(cr types.NamespacedName) prometheus.Labels {
	return prometheus.Labels{labelKind: m.kind, labelNS: cr.Namespace, labelName: cr.Name}
}

func (m *domainMetrics) ntLabels(cr types.NamespacedName, nodeType string) prometheus.Labels {
	l := m.crLabels(cr)
	l[labelNodeType] = nodeType
	return l
}

// observePass sets the gauges of CR cr from the status the pass wrote (or
// found already written) and from what it found waiting and refused; the
// series of node types the status no longer lists are removed.
func (m *domainMetrics) observePass(cr types.NamespacedName, cs *status.ClusterStatus, out *outcome) {
	if out.nodeTypes == nil {
		// The pass did not get as far as the node types: their status is
		// as it was, and so are their gauges.
		return
	}
	names := make([]string, 0, len(cs.NodeTypes))
	for _, nt := range cs.NodeTypes {
		names = append(names, nt.Name)
		st := metricState(nt)
		for _, s := range nodeTypeStates {
			v := 0.0
			if s == st {
				v = 1
			}
			m.state.With(m.stateLabels(cr, nt.Name, s)).Set(v)
		}
	}
	for _, nt := range out.nodeTypes {
		if !slices.Contains(names, nt.Name) {
			continue
		}
		m.refused.With(m.ntLabels(cr, nt.Name)).Set(float64(len(nt.Refused)))
		for _, k := range []hookKind{hookHealthy, hookBeforeRemove} {
			l := m.ntLabels(cr, nt.Name)
			l[labelHook] = hookLabel(k)
			m.hookWaiting.With(l).Set(float64(len(out.waiting[nt.Name][k])))
		}
	}
	m.mu.Lock()
	gone := slices.DeleteFunc(m.nodeTypes[cr], func(n string) bool { return slices.Contains(names, n) })
	m.nodeTypes[cr] = names
	m.mu.Unlock()
	for _, n := range gone {
		m.deleteMatching(m.ntLabels(cr, n))
	}
}

func (m *domainMetrics) stateLabels(cr types.NamespacedName, nodeType, state string) prometheus.Labels {
	l := m.ntLabels(cr, nodeType)
	l[labelState] = state
	return l
}

// metricState is the one state a node type is in, read from its conditions
// with the verdicts of kstatus.go: blocked when its rollout is stalled or
// held by anything but the deployment order, a change budget, a pause and a canary (a hook's
// no or failure, an object in the way), waiting when held by those, rolling
// while pods change, and unavailable or ready once rolled out.
func metricState(nt status.NodeTypeStatus) string {
	s := stateOf(nt)
	blocked := meta.FindStatusCondition(nt.Conditions, ConditionRolloutBlocked)
	switch {
	case s.Verdict == stalled:
		return stateBlocked
	case s.Blocked && (blocked.Reason == ReasonWaitingForNodeType || blocked.Reason == ReasonWaitingForChangeBudget || verdictOf(blocked.Reason) == held):
		return stateWaiting
	case s.Blocked:
		return stateBlocked
	case s.Verdict == reconciling:
		return stateRolling
	case meta.IsStatusConditionFalse(nt.Conditions, ConditionAvailable):
		return stateUnavailable
	}
	return stateReady
}

// observeRollouts observes the duration of every node type whose rollout
// the status write that took prev to next completed: from its Progressing
// condition turning true to now. The conditions' transition times live in
// the CR, so a rollout that outlived an operator restart is timed whole.
func (m *domainMetrics) observeRollouts(cr types.NamespacedName, prev, next *status.ClusterStatus, now time.Time) {
	for _, nt := range next.NodeTypes {
		done := meta.FindStatusCondition(nt.Conditions, ConditionProgressing)
		if done == nil || done.Reason != ReasonRolloutComplete {
			continue
		}
		i := slices.IndexFunc(prev.NodeTypes, func(p status.NodeTypeStatus) bool { return p.Name == nt.Name })
		if i < 0 {
			continue
		}
		was := meta.FindStatusCondition(prev.NodeTypes[i].Conditions, ConditionProgressing)
		if was == nil || was.Status != metav1.ConditionTrue {
			continue
		}
		m.duration.With(m.ntLabels(cr, nt.Name)).Observe(now.Sub(was.LastTransitionTime.Time).Seconds())
	}
}

// hookError counts a hook call of node type nodeType that failed or timed
// out, once per pod and answer (as its Warning event).
func (m *domainMetrics) hookError(cr types.NamespacedName, nodeType string, k hookKind) {
	l := m.ntLabels(cr, nodeType)
	l[labelHook] = hookLabel(k)
	m.hookErrors.With(l).Inc()
}

// observePruned counts the children a pass pruned.
func (m *domainMetrics) observePruned(cr types.NamespacedName, pruned []store.ID) {
	for _, id := range pruned {
		l := m.crLabels(cr)
		l[labelResource] = id.Kind
		m.pruned.With(l).Inc()
	}
}

// forget removes every series of a CR that was deleted.
func (m *domainMetrics) forget(cr types.NamespacedName) {
	m.mu.Lock()
	delete(m.nodeTypes, cr)
	m.mu.Unlock()
	m.deleteMatching(m.crLabels(cr))
}

func (m *domainMetrics) deleteMatching(l prometheus.Labels) {
	m.state.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.hookWaiting.DeletePartialMatch(l)
	m.hookErrors.DeletePartialMatch(l)
	m.refused.DeletePartialMatch(l)
	if _, perNodeType := l[labelNodeType]; !perNodeType {
		m.pruned.DeletePartialMatch(l)
	}
}
