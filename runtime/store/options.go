package store

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Option configures a Store.
type Option func(*config)

type config struct {
	reader       client.Reader
	statusWriter client.SubResourceWriter
	kinds        []client.Object
	indexed      []client.Object
	prunePVCs    bool
}

// WithReader sets where the store lists candidate children. It defaults to
// the client given to New, which for a manager's client reads from the
// informer cache. Listing is always namespaced and label-selected on the
// owner label, so an uncached reader makes one small request per kind.
func WithReader(r client.Reader) Option {
	return func(c *config) { c.reader = r }
}

// WithStatusWriter sets the writer PersistInventory patches the owner's status
// subresource with. It defaults to the Status() writer of the client given to
// New. Use it to keep the status write out of an event-recording client.
func WithStatusWriter(w client.SubResourceWriter) Option {
	return func(c *config) { c.statusWriter = w }
}

// WithKinds names the kinds of children the operator manages, as empty typed
// objects (for example &appsv1.StatefulSet{}); pass the same kinds the
// controller Owns. The store lists every one of them by the owner label on
// each prune, so a child is found even when its kind is no longer desired at
// all and the owner's inventory has been lost. Kinds that were recorded in
// this pass or appear in the previous inventory are always scanned as well.
//
// Only list kinds the operator may list and watch: with a cached reader each
// kind is an informer.
func WithKinds(kinds ...client.Object) Option {
	return func(c *config) { c.kinds = append(c.kinds, kinds...) }
}

// WithOwnerIndex says that the reader's cache has the field index
// keys.IndexOwnerUID on the kinds given, as empty objects: pass the kinds
// given to cachescope.SetupIndexes, which registers it on the typed ones. The
// store then looks those kinds' children up there instead of matching the
// owner label of every object of the kind in the namespace; with many CRs in
// one namespace that matching is most of a pass's work. Other kinds, and
// unstructured or metadata-only ones, are listed by label. Listing a kind
// through an index the reader does not have fails the prune, and nothing is
// deleted.
func WithOwnerIndex(kinds ...client.Object) Option {
	return func(c *config) { c.indexed = append(c.indexed, kinds...) }
}

// WithPVCPruning opts in to deleting PersistentVolumeClaims that are no longer
// desired. By default a PersistentVolumeClaim is never deleted by the store,
// so that data outlives a removed node type; it is reported in Result.Kept
// and dropped from the inventory instead.
//
// Even with the opt-in a claim is deleted only under the same rules as any
// other child: it must carry the owner label and a controller reference to
// the owner. Claims that a StatefulSet made from its volumeClaimTemplates
// carry the labels of the template but, unless the template sets one, no
// owner reference to the CR; use the StatefulSet's
// persistentVolumeClaimRetentionPolicy to have Kubernetes delete those. The
// API server's kubernetes.io/pvc-protection finalizer keeps a deleted claim
// until no pod uses it.
func WithPVCPruning(enabled bool) Option {
	return func(c *config) { c.prunePVCs = enabled }
}
