package orchestrate

import (
	"context"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// dryRunClient reads through the wrapped client and pretends to write: every
// write succeeds without reaching the API server and is counted. A Builder
// made with it therefore runs its real decision (config hash, subset
// comparison, immutable-field checks) and tells whether reconciling a desired
// workload would write to it, which is what the rollout order needs to know
// before it lets the write happen.
//
// A delete is remembered, so that a later read of the same object answers
// NotFound, as it would after a real delete: the Builder's recreate path then
// completes at once instead of waiting for the object to go away.
//
// The hand-written wrapper stands in for a side-effect-free planning call on
// runtime/builder; controller-runtime's interceptor package needs a
// client.WithWatch, which the manager's client is not.
type dryRunClient struct {
	client.Client

	mu      sync.Mutex
	writes  int
	deleted map[deletedKey]bool
}

type deletedKey struct {
	gvk       string
	namespace string
	name      string
}

func newDryRunClient(c client.Client) *dryRunClient {
	return &dryRunClient{Client: c, deleted: map[deletedKey]bool{}}
}

// Writes returns how many writes were attempted since the last Reset.
func (c *dryRunClient) Writes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// Reset forgets the writes and deletes seen so far.
func (c *dryRunClient) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = 0
	clear(c.deleted)
}

func (c *dryRunClient) wrote() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
}

func (c *dryRunClient) key(obj runtime.Object, ns, name string) deletedKey {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return deletedKey{gvk: "?", namespace: ns, name: name}
	}
	return deletedKey{gvk: gvk.String(), namespace: ns, name: name}
}

// Get reads through the wrapped client, except for objects deleted in this
// dry run.
func (c *dryRunClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	c.mu.Lock()
	gone := c.deleted[c.key(obj, key.Namespace, key.Name)]
	c.mu.Unlock()
	if gone {
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// Create pretends to create obj.
func (c *dryRunClient) Create(context.Context, client.Object, ...client.CreateOption) error {
	c.wrote()
	return nil
}

// Update pretends to update obj.
func (c *dryRunClient) Update(context.Context, client.Object, ...client.UpdateOption) error {
	c.wrote()
	return nil
}

// Patch pretends to patch obj.
func (c *dryRunClient) Patch(context.Context, client.Object, client.Patch, ...client.PatchOption) error {
	c.wrote()
	return nil
}

// Apply pretends to apply cfg.
func (c *dryRunClient) Apply(context.Context, runtime.ApplyConfiguration, ...client.ApplyOption) error {
	c.wrote()
	return nil
}

// Delete pretends to delete obj and remembers that it is gone.
func (c *dryRunClient) Delete(_ context.Context, obj client.Object, _ ...client.DeleteOption) error {
	c.wrote()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deleted[c.key(obj, obj.GetNamespace(), obj.GetName())] = true
	return nil
}

// DeleteAllOf pretends to delete.
func (c *dryRunClient) DeleteAllOf(context.Context, client.Object, ...client.DeleteAllOfOption) error {
	c.wrote()
	return nil
}

// Status returns a writer that pretends to write.
func (c *dryRunClient) Status() client.SubResourceWriter { return dryRunSubResource{c: c} }

// SubResource returns a client that reads through and pretends to write.
func (c *dryRunClient) SubResource(name string) client.SubResourceClient {
	return dryRunSubResource{c: c, reader: c.Client.SubResource(name)}
}

type dryRunSubResource struct {
	c      *dryRunClient
	reader client.SubResourceReader
}

func (s dryRunSubResource) Get(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceGetOption) error {
	if s.reader == nil {
		return apierrors.NewBadRequest("dry run: status has no reader")
	}
	return s.reader.Get(ctx, obj, sub, opts...)
}

func (s dryRunSubResource) Create(context.Context, client.Object, client.Object, ...client.SubResourceCreateOption) error {
	s.c.wrote()
	return nil
}

func (s dryRunSubResource) Update(context.Context, client.Object, ...client.SubResourceUpdateOption) error {
	s.c.wrote()
	return nil
}

func (s dryRunSubResource) Patch(context.Context, client.Object, client.Patch, ...client.SubResourcePatchOption) error {
	s.c.wrote()
	return nil
}

func (s dryRunSubResource) Apply(context.Context, runtime.ApplyConfiguration, ...client.SubResourceApplyOption) error {
	s.c.wrote()
	return nil
}

// discardRecorder drops events: a dry run must not tell anyone about writes
// it did not make.
type discardRecorder struct{}

var _ events.EventRecorder = discardRecorder{}

func (discardRecorder) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {
}
