package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/builder"
	"github.com/opbuilder/opbuilder/runtime/cachescope"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Orchestrator reconciles the node types of CRs of type T. Create it with New;
// it is safe for concurrent use by the reconcile workers of one controller.
type Orchestrator[T Object] struct {
	cfg       Config
	nodeTypes []NodeType[T]
	shared    SharedFunc[T]
	kinds     []client.Object
	// ownerIndexed is set by Controller, which registers keys.IndexOwnerUID
	// on the typed kinds among kinds: their children are then looked up in
	// the index. Without Controller every kind is listed by the owner label.
	ownerIndexed bool

	client    client.Client
	apiReader client.Reader
	labeler   *cachescope.Labeler
	scheme    *runtime.Scheme
	recorder  events.EventRecorder
	now       func() time.Time
	// expectations are shared by the Builders of every pass, so a pass
	// that reads a child from a cache that has not yet seen the previous
	// pass's apply of it does not apply it again.
	expectations *builder.Expectations
	// statuses remembers the status each CR was last written with, so a
	// pass that reads the CR from a cache that has not seen that write
	// starts from it instead of failing its status patch with a conflict.
	statuses *statusMemo
	// restarted remembers the restart tokens applied to each workload, so a
	// pass that reads it from a cache that has not seen the restart does
	// not restart it again.
	restarted restartMemo
	// hooks calls the node types' hooks and remembers their answers per
	// pod; gates remembers the workloads whose pods passed the health gate.
	hooks *hookRunner
	gates gateMemo
	// reverts remembers the workloads a revert of drift wrote, while
	// their controllers catch up with it (revert.go).
	reverts revertMemo
	// metrics are the domain metrics (metrics.go).
	metrics *domainMetrics
}

// defaultKinds are the kinds of children every Orchestrator owns.
func defaultKinds() []client.Object {
	return []client.Object{
		&appsv1.Deployment{}, &appsv1.StatefulSet{},
		&corev1.ConfigMap{}, &corev1.Secret{}, &corev1.Service{},
		&policyv1.PodDisruptionBudget{},
	}
}

// New validates the configuration and node types and returns an Orchestrator
// that reads through mgr's client (the cache), writes with it, reads pods
// for StuckPodRecovery through mgr's API reader and records events with
// mgr's events.k8s.io/v1 recorder. T must be a pointer to a struct type
// registered in mgr's scheme. Node types are registered in the order given,
// which is the deployment order unless the CR says otherwise.
func New[T Object](mgr manager.Manager, cfg Config, nodeTypes ...NodeType[T]) (*Orchestrator[T], error) {
	if mgr == nil {
		return nil, errors.New("orchestrate: a manager is required")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := validateNodeTypes(nodeTypes); err != nil {
		return nil, err
	}
	if reflect.TypeFor[T]().Kind() != reflect.Pointer {
		return nil, fmt.Errorf("orchestrate: the owner type %s must be a pointer type, such as *v1.Druid", reflect.TypeFor[T]())
	}
	gvk, err := apiutil.GVKForObject(newObject[T](), mgr.GetScheme())
	if err != nil {
		return nil, fmt.Errorf("orchestrate: the owner type is not in the manager's scheme: %w", err)
	}
	metrics, err := newDomainMetrics(defaultMetricsRegistry(), gvk.Kind)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: register the metrics: %w", err)
	}
	recorder := cfg.EventRecorder
	if recorder == nil {
		name := cfg.EventRecorderName
		if name == "" {
			name = cfg.FieldOwner
		}
		recorder = mgr.GetEventRecorder(name)
	}
	kinds := defaultKinds()
	for i, k := range cfg.OwnedKinds {
		if k == nil {
			return nil, fmt.Errorf("orchestrate: Config.OwnedKinds[%d] is nil", i)
		}
		if _, err := apiutil.GVKForObject(k, mgr.GetScheme()); err != nil {
			return nil, fmt.Errorf("orchestrate: Config.OwnedKinds[%d]: %w", i, err)
		}
		kinds = append(kinds, k)
	}
	labeler, err := cachescope.NewLabeler(mgr.GetClient(), mgr.GetAPIReader(), cfg.FieldOwner)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: %w", err)
	}
	return &Orchestrator[T]{
		labeler:   labeler,
		cfg:       cfg,
		nodeTypes: append([]NodeType[T](nil), nodeTypes...),
		kinds:     kinds,
		client:    mgr.GetClient(),
		apiReader: mgr.GetAPIReader(),
		scheme:    mgr.GetScheme(),
		recorder:  recorder,
		now:       time.Now,

		expectations: builder.NewExpectations(),
		statuses:     newStatusMemo(),
		hooks:        newHookRunner(time.Now),
		metrics:      metrics,
	}, nil
}

// SetShared registers the function that returns the CR's objects that
// belong to no node type (see SharedFunc). Call it before the Orchestrator
// reconciles, typically right after New.
func (o *Orchestrator[T]) SetShared(build SharedFunc[T]) {
	o.shared = build
}

func (c Config) validate() error {
	var errs []error
	if c.App == "" {
		errs = append(errs, errors.New("Config.App is required"))
	}
	if c.FieldOwner == "" {
		errs = append(errs, errors.New("Config.FieldOwner is required"))
	}
	if err := keys.ValidateLabels(keys.StandardLabels(c.App, "", "", c.FieldOwner)); err != nil {
		errs = append(errs, fmt.Errorf("Config.App and Config.FieldOwner become label values: %w", err))
	}
	if r := c.StuckPodRecovery; r != nil && r.UnreadyFor < 0 {
		errs = append(errs, fmt.Errorf("Config.StuckPodRecovery.UnreadyFor is negative (%s)", r.UnreadyFor))
	}
	if len(errs) > 0 {
		return fmt.Errorf("orchestrate: %w", errors.Join(errs...))
	}
	return nil
}

func validateNodeTypes[T Object](nodeTypes []NodeType[T]) error {
	// No node types is valid: a freshly scaffolded kind has none until its
	// first `create nodetype`, and its operator must still start. Such a CR
	// owns no children, so a pass only prunes and writes status.
	var errs []error
	seen := map[string]bool{}
	for i, nt := range nodeTypes {
		if msgs := validation.IsDNS1123Label(nt.Name); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("node type %d: name %q: %v", i, nt.Name, msgs))
		}
		if seen[nt.Name] {
			errs = append(errs, fmt.Errorf("node type %q is registered twice", nt.Name))
		}
		seen[nt.Name] = true
		if nt.Build == nil {
			errs = append(errs, fmt.Errorf("node type %q: Build is required", nt.Name))
		}
		if err := nt.Disruption.validate(); err != nil {
			errs = append(errs, fmt.Errorf("node type %q: %w", nt.Name, err))
		}
		if err := nt.Canary.validate(); err != nil {
			errs = append(errs, fmt.Errorf("node type %q: Canary: %w", nt.Name, err))
		}
		if err := nt.ChangeBudget.validate(); err != nil {
			errs = append(errs, fmt.Errorf("node type %q: ChangeBudget: %w", nt.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orchestrate: %w", errors.Join(errs...))
	}
	return nil
}

// newObject returns a new, empty T; T is a pointer type (checked by New).
func newObject[T Object]() T {
	obj, _ := reflect.New(reflect.TypeFor[T]().Elem()).Interface().(T)
	return obj
}

// Reconcile brings the CR's children to their desired state, honouring the
// deployment order, pause and disable annotations, and patches the CR's status
// when it changed. Call it from the controller's Reconcile with the CR just
// read from the cache; on return owner carries the status that was written.
// Progress is driven by the watches Controller sets up; the returned Result
// asks to be requeued only for what brings no watch event: a hook to ask
// again, an object in the way, a missing ConfigMap, a claim growing, a pod
// StuckPodRecovery waits on, or rollout progress whose status write was
// held back (statuspace.go).
func (o *Orchestrator[T]) Reconcile(ctx context.Context, owner T) (ctrl.Result, error) {
	if reflect.ValueOf(owner).IsNil() {
		return ctrl.Result{}, errors.New("orchestrate: Reconcile: nil owner")
	}
	if owner.GetDeletionTimestamp() != nil {
		// The garbage collector removes the children through their owner
		// references; nothing may be applied any more.
		o.statuses.forget(owner.GetUID())
		o.metrics.forget(client.ObjectKeyFromObject(owner))
		return ctrl.Result{}, nil
	}
	if owner.GetClusterStatus() == nil {
		return ctrl.Result{}, fmt.Errorf("orchestrate: %T.GetClusterStatus returned nil", owner)
	}
	// Everything below, the store's inventory included, reads the status
	// the previous pass wrote, even if the cache has not caught up with it.
	o.statuses.catchUp(owner)
	base, ok := owner.DeepCopyObject().(T)
	if !ok {
		return ctrl.Result{}, fmt.Errorf("orchestrate: %T.DeepCopyObject does not return a %T", owner, owner)
	}

	out := &outcome{generation: owner.GetGeneration()}
	var (
		res     ctrl.Result
		passErr error
	)
	if keys.ReconcileDisabled(owner.GetAnnotations()) {
		out.disabled = true
	} else {
		res, passErr = o.pass(ctx, owner, out)
		out.terminal = errors.Is(passErr, reconcile.TerminalError(nil))
	}
	if err := o.writeStatus(ctx, base, owner, out); err != nil {
		return res, errors.Join(passErr, err)
	}
	o.metrics.observePass(client.ObjectKeyFromObject(owner), owner.GetClusterStatus(), out)
	if due := out.progressDue; due > 0 && (res.RequeueAfter == 0 || due < res.RequeueAfter) {
		// Nothing else may come to write the progress held back.
		res.RequeueAfter = due
	}
	return res, passErr
}
