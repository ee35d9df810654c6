package cachescope

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

// WatchFieldOwnerSuffix is appended to the operator's field owner to name the
// field manager that owns the watch label on external objects, so that
// managedFields show plainly which label the operator added to a user's
// object.
const WatchFieldOwnerSuffix = "-watch"

// Labeler puts keys.LabelWatch on the external ConfigMaps and Secrets that
// the operator's workloads consume (for example a user-supplied TLS Secret),
// so that the cache of Options holds them and WatchReferencedConfig sees
// their changes. It never creates, deletes or otherwise changes those
// objects, and never reads their contents.
//
// The label is written with a JSON merge patch of that one label, sent as
// metadata only and recorded under its own field manager (fieldOwner +
// WatchFieldOwnerSuffix). A patch, unlike a server-side apply, never creates
// an object: an apply to a name that does not exist creates it, even when the
// apply names a resourceVersion, so a reference to a missing (or just
// deleted) Secret would conjure up an empty one.
type Labeler struct {
	client     client.Client
	cache      client.Reader
	api        client.Reader
	fieldOwner string
}

// NewLabeler returns a Labeler that reads through c (normally mgr.GetClient(),
// the cache) and apiReader (mgr.GetAPIReader(), for the field ownership of
// the label, which Release checks) and writes through c. fieldOwner is the
// operator's field owner.
func NewLabeler(c client.Client, apiReader client.Reader, fieldOwner string) (*Labeler, error) {
	if c == nil || apiReader == nil {
		return nil, errors.New("cachescope: NewLabeler: a client and an API reader are required")
	}
	if fieldOwner == "" {
		return nil, errors.New("cachescope: NewLabeler: the operator's field owner is required")
	}
	return &Labeler{client: c, cache: c, api: apiReader, fieldOwner: fieldOwner + WatchFieldOwnerSuffix}, nil
}

// Watch makes sure every ConfigMap and Secret in refs, in namespace, carries
// the watch label. Pass the references of a workload that are not among the
// operator's own desired objects (those carry the label already).
//
// An object found in the cache carries the label by construction, so in
// steady state Watch makes no request at all. Otherwise a metadata-only read
// finds out whether the object exists, and one metadata-only patch adds the
// label; a missing object costs that read and no write. References to objects that do not exist are
// returned in missing; call Watch again on a later reconcile to label them
// once they exist.
func (l *Labeler) Watch(ctx context.Context, namespace string, refs []confighash.Ref) (missing []confighash.Ref, err error) {
	var errs []error
	for _, r := range refs {
		found, err := l.ensure(ctx, namespace, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !found {
			missing = append(missing, r)
		}
	}
	return missing, errors.Join(errs...)
}

func (l *Labeler) ensure(ctx context.Context, namespace string, r confighash.Ref) (bool, error) {
	typed, err := emptyOf(r.Kind)
	if err != nil {
		return false, err
	}
	key := client.ObjectKey{Namespace: namespace, Name: r.Name}
	switch err := l.cache.Get(ctx, key, typed); {
	case err == nil && typed.GetLabels()[keys.LabelWatch] == keys.ValueTrue:
		return true, nil
	case err != nil && !apierrors.IsNotFound(err):
		return false, fmt.Errorf("cachescope: read %s %s/%s from the cache: %w", r.Kind, namespace, r.Name, err)
	}
	// Not in the cache: either unlabelled or missing. Ask the API server
	// (metadata only, never the contents) before writing, so a reference to
	// a missing object costs a read per pass, not a write request.
	obj := metadataOf(r.Kind, namespace, r.Name)
	switch err := l.api.Get(ctx, key, obj); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cachescope: read %s %s/%s: %w", r.Kind, namespace, r.Name, err)
	case obj.GetLabels()[keys.LabelWatch] == keys.ValueTrue:
		// Labelled already; the cache has not caught up yet.
		return true, nil
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+keys.LabelWatch+`":"`+keys.ValueTrue+`"}}}`))
	switch err := l.client.Patch(ctx, obj, patch, client.FieldOwner(l.fieldOwner)); {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cachescope: label %s %s/%s: %w", r.Kind, namespace, r.Name, err)
	}
	return true, nil
}

// Release removes the watch label that Watch added from every object in
// refs, in namespace, that no Deployment or StatefulSet in the cache still
// consumes (looked up through IndexConfigRefs, so it needs SetupIndexes).
// The label goes only when, according to the object's managedFields, this
// Labeler's field manager owns it and no other manager does: a label that a
// builder set on its own ConfigMap, or that another operator also set,
// stays.
func (l *Labeler) Release(ctx context.Context, namespace string, refs []confighash.Ref) error {
	var errs []error
	for _, r := range refs {
		used, err := l.consumed(ctx, namespace, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if used {
			continue
		}
		if err := l.release(ctx, namespace, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (l *Labeler) consumed(ctx context.Context, namespace string, r confighash.Ref) (bool, error) {
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingFields{IndexConfigRefs: RefValue(r.Kind, r.Name)}}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}} {
		if err := l.cache.List(ctx, list, opts...); err != nil {
			return false, fmt.Errorf("cachescope: find consumers of %s %s/%s: %w", r.Kind, namespace, r.Name, err)
		}
		if n, _ := listLen(list); n > 0 {
			return true, nil
		}
	}
	return false, nil
}

// release removes the watch label from one object if this Labeler's field
// manager owns it and no other manager does. The patch carries the
// resourceVersion the ownership was read at, so a concurrent change of
// ownership makes it conflict and start over.
func (l *Labeler) release(ctx context.Context, namespace string, r confighash.Ref) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := metadataOf(r.Kind, namespace, r.Name)
		if err := l.api.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return client.IgnoreNotFound(err)
		}
		mine, others := l.labelOwners(obj)
		if !mine || others || obj.GetLabels()[keys.LabelWatch] == "" {
			return nil
		}
		body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"labels":{%q:null}}}`, obj.GetResourceVersion(), keys.LabelWatch)
		return client.IgnoreNotFound(l.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(body)), client.FieldOwner(l.fieldOwner)))
	})
	if err != nil {
		return fmt.Errorf("cachescope: unlabel %s %s/%s: %w", r.Kind, namespace, r.Name, err)
	}
	return nil
}

// labelOwners reports whether this Labeler's field manager, and whether any
// other manager, owns the watch label of obj according to its managedFields.
func (l *Labeler) labelOwners(obj metav1.Object) (mine, others bool) {
	field := `"f:` + keys.LabelWatch + `"`
	for _, mf := range obj.GetManagedFields() {
		if mf.FieldsV1 == nil || !strings.Contains(mf.FieldsV1.GetRawString(), field) {
			continue
		}
		if mf.Manager == l.fieldOwner {
			mine = true
		} else {
			others = true
		}
	}
	return mine, others
}

func metadataOf(kind confighash.Kind, namespace, name string) *metav1.PartialObjectMetadata {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	obj.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(string(kind)))
	return obj
}

func emptyOf(kind confighash.Kind) (client.Object, error) {
	switch kind {
	case confighash.KindConfigMap:
		return &corev1.ConfigMap{}, nil
	case confighash.KindSecret:
		return &corev1.Secret{}, nil
	default:
		return nil, fmt.Errorf("cachescope: unsupported kind %q", kind)
	}
}

func listLen(list client.ObjectList) (int, bool) {
	switch l := list.(type) {
	case *appsv1.DeploymentList:
		return len(l.Items), true
	case *appsv1.StatefulSetList:
		return len(l.Items), true
	default:
		return 0, false
	}
}
