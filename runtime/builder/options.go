package builder

import (
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Option configures a Builder.
type Option func(*config)

type config struct {
	client     client.Client
	owner      client.Object
	recorder   events.EventRecorder
	store      Store
	fieldOwner string
	app        string
	component  string
	group      string
	labels     map[string]string
	objects    []client.Object
	// expectations is nil unless WithExpectations is given.
	expectations *Expectations
	// apiReader is nil unless WithAPIReader is given.
	apiReader client.Reader
}

// WithAPIReader sets a reader that asks the API server itself, not a cache:
// in a controller pass mgr.GetAPIReader(). A controller's cache is scoped to
// the objects the operator labelled, so an object somebody else made under a
// child's name looks absent, and writing it would take it over. With an API
// reader, a child the client does not hold is created create-only: the API
// server refuses the create when the name is taken, and only then does the
// Builder read the object through the reader and apply the ownership rules
// to it. Without it the client's answer is trusted, which is right only for
// a client that reads the API server.
func WithAPIReader(r client.Reader) Option {
	return func(cfg *config) { cfg.apiReader = r }
}

// WithClient sets the client the Builder reads and writes through. In a
// controller pass mgr.GetClient(): reads then come from the manager's cache.
// Required.
func WithClient(c client.Client) Option {
	return func(cfg *config) { cfg.client = c }
}

// WithOwner sets the custom resource that owns every child. It must be
// namespaced and have a UID (that is, be read from the API server); every
// child lives in its namespace. Required.
func WithOwner(owner client.Object) Option {
	return func(cfg *config) { cfg.owner = owner }
}

// WithRecorder sets the events.k8s.io/v1 recorder, normally
// mgr.GetEventRecorder(name), that records an event on the owner for every
// write. Required.
func WithRecorder(r events.EventRecorder) Option {
	return func(cfg *config) { cfg.recorder = r }
}

// WithStore sets the desired-state store that records every desired object
// and prunes what is no longer desired (see ReconcileStore). Optional; without
// it ReconcileStore returns an error.
func WithStore(s Store) Option {
	return func(cfg *config) { cfg.store = s }
}

// WithFieldOwner sets the server-side apply field manager, also used as the
// app.kubernetes.io/managed-by label value (e.g. "druid-operator"). Required.
func WithFieldOwner(name string) Option {
	return func(cfg *config) { cfg.fieldOwner = name }
}

// WithApp sets the application name, the app.kubernetes.io/name label value
// (e.g. "druid"). Required.
func WithApp(name string) Option {
	return func(cfg *config) { cfg.app = name }
}

// WithComponent sets the app.kubernetes.io/component label (the node type)
// for children that do not carry one themselves. Optional.
func WithComponent(name string) Option {
	return func(cfg *config) { cfg.component = name }
}

// WithGroup sets the opbuilder.io/group label (the node-type group) for
// children that do not carry one themselves. Optional.
func WithGroup(name string) Option {
	return func(cfg *config) { cfg.group = name }
}

// WithLabels adds labels to every child. The standard labels and the owner
// label always win over them. Optional.
func WithLabels(labels map[string]string) Option {
	return func(cfg *config) {
		if cfg.labels == nil {
			cfg.labels = map[string]string{}
		}
		for k, v := range labels {
			cfg.labels[k] = v
		}
	}
}

// WithObjects adds desired objects. ReconcileAll reconciles them; config
// hashes of Deployments and StatefulSets read ConfigMaps and Secrets among
// them from these desired objects rather than from the cache. Objects are
// never modified; the Builder works on copies.
func WithObjects(objs ...client.Object) Option {
	return func(cfg *config) { cfg.objects = append(cfg.objects, objs...) }
}

// WithExpectations shares e with the Builder: it remembers the Builder's
// applies and skips repeating one while the client's cache has not caught up
// with it, and remembers the last comparison of every child so that a child
// neither side of which changed is not converted and compared again (see
// Expectations). Give every pass of one controller the same Expectations.
// Optional; without it every pass compares every child in full, and a pass
// that reads a stale cache applies again.
func WithExpectations(e *Expectations) Option {
	return func(cfg *config) { cfg.expectations = e }
}
