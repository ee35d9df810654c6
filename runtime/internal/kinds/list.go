package kinds

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// List lists the objects of kind gvk that opts select. A kind the scheme
// knows is listed typed, so a cached reader shares the informer the
// controller's Owns watch already runs; any other kind is listed as metadata
// only, which is all that deciding what to keep or prune reads. scheme may
// be nil. Every object returned carries gvk, which typed lists leave out of
// their items and the store's IDs and the event-recording client need.
func List(ctx context.Context, r client.Reader, scheme *runtime.Scheme, gvk schema.GroupVersionKind,
	opts ...client.ListOption,
) ([]client.Object, error) {
	list, err := newList(scheme, gvk)
	if err != nil {
		return nil, err
	}
	if err := r.List(ctx, list, opts...); err != nil {
		return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", gvk.Kind, err)
	}
	objs := make([]client.Object, 0, len(items))
	for _, it := range items {
		obj, ok := it.(client.Object)
		if !ok {
			return nil, fmt.Errorf("list %s: item %T is not a client.Object", gvk.Kind, it)
		}
		if obj.GetObjectKind().GroupVersionKind().Empty() {
			obj.GetObjectKind().SetGroupVersionKind(gvk)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

func newList(scheme *runtime.Scheme, gvk schema.GroupVersionKind) (client.ObjectList, error) {
	listGVK := gvk.GroupVersion().WithKind(gvk.Kind + "List")
	if scheme != nil && scheme.Recognizes(listGVK) {
		o, err := scheme.New(listGVK)
		if err != nil {
			return nil, fmt.Errorf("new %s: %w", listGVK.Kind, err)
		}
		if l, ok := o.(client.ObjectList); ok {
			return l, nil
		}
	}
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(listGVK)
	return l, nil
}

// OwnedBy selects the children that carry the owner label of the CR with
// uid. indexed says that the reader's cache has keys.IndexOwnerUID on the
// kind listed (cachescope.SetupIndexes): the children are then looked up in
// the index, where a label selector matches the label of every cached object
// of the kind in the namespace, for every CR's pass. Both select the same
// objects.
func OwnedBy(uid types.UID, indexed bool) client.ListOption {
	if indexed {
		return client.MatchingFields{keys.IndexOwnerUID: string(uid)}
	}
	return client.MatchingLabels{keys.LabelOwnerUID: string(uid)}
}

// Indexable reports whether obj's kind (obj is an object or a list of its
// kind) can carry a field index of a manager's cache: a typed one.
// controller-runtime's client reads unstructured and metadata-only objects
// from the API server unless told otherwise, and the API server knows no
// custom field index.
func Indexable(obj runtime.Object) bool {
	switch obj.(type) {
	case runtime.Unstructured, *metav1.PartialObjectMetadata, *metav1.PartialObjectMetadataList:
		return false
	}
	return true
}
