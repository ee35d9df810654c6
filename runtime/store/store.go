package store

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/status"
)

// Store is the desired-state store of one owner for one reconcile pass.
//
// Create a Store at the start of every reconcile with New, Record every
// object the owner desires while building and applying them, Fail when
// building or applying any of them failed, and finish with Prune (which also
// updates the owner's inventory in memory) or Reconcile (which in addition
// patches the owner's status when the inventory changed).
//
// *Store satisfies the Store interface of package builder.
//
// A Store is safe for concurrent use by the goroutines of one pass.
type Store struct {
	owner     status.Object
	ownerUID  types.UID
	namespace string
	client    client.Client
	reader    client.Reader
	status    client.SubResourceWriter
	scheme    *runtime.Scheme
	kinds     []schema.GroupVersionKind
	indexed   map[schema.GroupKind]bool
	prunePVCs bool

	// persisted is the owner's inventory as it was when the Store was made,
	// that is, as the API server last stored it.
	persisted []string

	mu       sync.Mutex
	desired  map[Key]ID
	failures []error
	last     Result
}

// New returns a Store for owner that deletes through c. In production c is
// the event-recording client of package eventclient, so every prune is
// recorded as an event on the owner.
//
// owner must have been read from the API server: its UID ties children to it
// and its status carries the inventory of the previous pass.
func New(owner status.Object, c client.Client, opts ...Option) (*Store, error) {
	if owner == nil {
		return nil, errors.New("store: owner is required")
	}
	if c == nil {
		return nil, errors.New("store: client is required")
	}
	if owner.GetUID() == "" {
		return nil, fmt.Errorf("store: owner %q has no UID; pass the object read from the API server", owner.GetName())
	}
	if owner.GetNamespace() == "" {
		return nil, fmt.Errorf("store: owner %q is cluster-scoped; only namespaced owners are supported", owner.GetName())
	}
	cs := owner.GetClusterStatus()
	if cs == nil {
		return nil, fmt.Errorf("store: owner %q returned a nil ClusterStatus", owner.GetName())
	}

	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	s := &Store{
		owner:     owner,
		ownerUID:  owner.GetUID(),
		namespace: owner.GetNamespace(),
		client:    c,
		reader:    cfg.reader,
		status:    cfg.statusWriter,
		scheme:    c.Scheme(),
		prunePVCs: cfg.prunePVCs,
		persisted: slices.Clone(cs.Inventory),
		desired:   map[Key]ID{},
	}
	if s.reader == nil {
		s.reader = c
	}
	for _, k := range cfg.indexed {
		if !kinds.Indexable(k) {
			continue
		}
		gvk, err := gvkOf(k, s.scheme)
		if err != nil {
			return nil, fmt.Errorf("store: WithOwnerIndex: %w", err)
		}
		if s.indexed == nil {
			s.indexed = map[schema.GroupKind]bool{}
		}
		s.indexed[gvk.GroupKind()] = true
	}
	if s.status == nil {
		s.status = c.Status()
	}
	for _, k := range cfg.kinds {
		gvk, err := gvkOf(k, s.scheme)
		if err != nil {
			return nil, fmt.Errorf("store: WithKinds: %w", err)
		}
		s.kinds = append(s.kinds, gvk)
	}
	return s, nil
}

// Record adds obj to the set of objects the owner desires in this pass. obj
// must be named and live in the owner's namespace; an empty namespace means
// the owner's. Objects are keyed by
// group, kind, namespace and name, so two kinds may share a name; recording
// the same object twice is harmless.
//
// A Record that fails also marks the pass failed, so that nothing is pruned
// on the strength of an incomplete desired set.
func (s *Store) Record(obj client.Object) error {
	err := s.record(obj)
	if err != nil {
		s.Fail(err)
	}
	return err
}

func (s *Store) record(obj client.Object) error {
	if obj == nil {
		return errors.New("store: Record: nil object")
	}
	id, err := IDOf(obj, s.scheme)
	if err != nil {
		return fmt.Errorf("store: Record: %w", err)
	}
	if id.Name == "" {
		return fmt.Errorf("store: Record: %s without a name (generateName is not supported)", id.Kind)
	}
	if id.Namespace == "" {
		// Not yet defaulted by the builder; children live in the owner's
		// namespace, and the builder refuses anything else.
		id.Namespace = s.namespace
	}
	if id.Namespace != s.namespace {
		return fmt.Errorf("store: Record: %s %q is in namespace %q, not in the owner's namespace %q",
			id.Kind, id.Name, id.Namespace, s.namespace)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.desired[id.Key()] = id
	return nil
}

// Fail records that building or applying a desired object failed in this
// pass. Once a pass is marked failed, Prune deletes nothing: an object
// missing from the desired set might only be missing because of the failure.
// A nil err is ignored.
func (s *Store) Fail(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, err)
}

// Failed reports whether the pass was marked failed, and why.
func (s *Store) Failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.failures...)
}

// Desired returns the IDs recorded so far, sorted by their String form.
func (s *Store) Desired() []ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Collect(maps.Values(s.desired))
	slices.SortFunc(ids, compareIDs)
	return ids
}

func compareIDs(a, b ID) int {
	if a == b {
		return 0
	}
	if a.String() < b.String() {
		return -1
	}
	return 1
}
