package cachescope

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
//
// A Labeler is safe for concurrent use.
type Labeler struct {
	client client.Client
	cache  client.Reader
	api    client.Reader
	// operator is the operator's field owner, the managed-by label of its
	// workloads; fieldOwner is the watch label's field manager.
	operator   string
	fieldOwner string

	mu sync.Mutex
	// foreign holds, per object, the resourceVersion at which ReleaseUnused
	// found its watch label owned by another manager as well (or not by
	// this one), so that it is not read again until it changes.
	foreign map[objectID]string
}

// NewLabeler returns a Labeler that reads through c (normally mgr.GetClient(),
// the cache) and apiReader (mgr.GetAPIReader(), for the field ownership of
// the label and the consumers of an object, which Release checks) and writes
// through c. fieldOwner is the operator's field owner, which is also the
// app.kubernetes.io/managed-by label of its workloads.
func NewLabeler(c client.Client, apiReader client.Reader, fieldOwner string) (*Labeler, error) {
	if c == nil || apiReader == nil {
		return nil, errors.New("cachescope: NewLabeler: a client and an API reader are required")
	}
	if fieldOwner == "" {
		return nil, errors.New("cachescope: NewLabeler: the operator's field owner is required")
	}
	return &Labeler{
		client:     c,
		cache:      c,
		api:        apiReader,
		operator:   fieldOwner,
		fieldOwner: fieldOwner + WatchFieldOwnerSuffix,
		foreign:    map[objectID]string{},
	}, nil
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
// refs, in namespace, that no Deployment or StatefulSet of the operator still
// consumes. The label goes only when, according to the object's
// managedFields, this Labeler's field manager owns it and no other manager
// does: a label that a builder set on its own ConfigMap, or that another
// operator also set, stays.
//
// Consumers are looked up in the cache first, through IndexConfigRefs (so
// Release needs SetupIndexes); that costs no request, and a consumed object
// costs nothing more. Before an object is unlabelled, its consumers are
// looked up again in the API server among the Deployments and StatefulSets
// labelled app.kubernetes.io/managed-by=<the operator's field owner>: the
// cache may not have seen a workload that was just created or just changed
// to consume the object, and an object unlabelled too early drops out of the
// cache while a workload consumes it.
func (l *Labeler) Release(ctx context.Context, namespace string, refs []confighash.Ref) error {
	var errs []error
	for _, r := range refs {
		used, err := l.consumedInCache(ctx, namespace, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if used {
			continue
		}
		if _, err := l.release(ctx, namespace, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ReleaseUnused finds, in the cache, the ConfigMaps and Secrets of namespace
// that carry the watch label and are not the children of an opbuilder
// operator (no keys.LabelOwnerUID), and releases each one that no
// Deployment or StatefulSet of the operator consumes any more, as Release
// does. keep lists references the caller is about to consume (the workloads
// it is writing, which the cache and the API server may not show yet); they
// are left alone.
//
// The labels themselves, with the managedFields that say which manager set
// them, are the record of what this Labeler labelled: ReleaseUnused keeps no
// list of its own, so a label left behind by an earlier run of the operator
// (a crash between a workload's write and the release, a reference removed
// by an older version) is found and released too.
//
// In steady state it makes no request: every labelled object is consumed
// (a lookup in the cache), or was found to be labelled by another manager
// too, which the Labeler remembers for as long as the object's
// resourceVersion stays the same. An object that is to be released costs a
// metadata read, two lists of the namespace's workloads in the API server
// and one patch.
func (l *Labeler) ReleaseUnused(ctx context.Context, namespace string, keep []confighash.Ref) error {
	kept := map[objectID]bool{}
	for _, r := range keep {
		kept[objectID{r.Kind, namespace, r.Name}] = true
	}
	var errs []error
	listed := map[objectID]bool{}
	for _, kind := range []confighash.Kind{confighash.KindConfigMap, confighash.KindSecret} {
		objs, err := l.labelled(ctx, namespace, kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, obj := range objs {
			id := objectID{kind, namespace, obj.GetName()}
			listed[id] = true
			if kept[id] || l.isForeign(id, obj.GetResourceVersion()) {
				continue
			}
			r := confighash.Ref{Kind: kind, Name: obj.GetName()}
			used, err := l.consumedInCache(ctx, namespace, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if used {
				continue
			}
			outcome, err := l.release(ctx, namespace, r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if outcome.foreign {
				l.rememberForeign(id, outcome.resourceVersion)
			}
		}
	}
	if len(errs) == 0 {
		l.forgetForeign(namespace, listed)
	}
	return errors.Join(errs...)
}

// labelled lists the objects of kind in namespace that carry the watch label
// and no owner label (indexForeignConfig), from the cache. The list is read
// without copying the cached objects (only their metadata is read, and
// nothing is changed), so a pass does not copy every labelled Secret's data.
func (l *Labeler) labelled(ctx context.Context, namespace string, kind confighash.Kind) ([]metav1.Object, error) {
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingFields{indexForeignConfig: keys.ValueTrue}, client.UnsafeDisableDeepCopy}
	var out []metav1.Object
	switch kind {
	case confighash.KindConfigMap:
		var list corev1.ConfigMapList
		if err := l.cache.List(ctx, &list, opts...); err != nil {
			return nil, fmt.Errorf("cachescope: list labelled ConfigMaps in %s: %w", namespace, err)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	case confighash.KindSecret:
		var list corev1.SecretList
		if err := l.cache.List(ctx, &list, opts...); err != nil {
			return nil, fmt.Errorf("cachescope: list labelled Secrets in %s: %w", namespace, err)
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
	default:
		return nil, fmt.Errorf("cachescope: unsupported kind %q", kind)
	}
	return out, nil
}

// consumedInCache reports whether a Deployment or StatefulSet in the cache,
// in namespace, consumes r.
func (l *Labeler) consumedInCache(ctx context.Context, namespace string, r confighash.Ref) (bool, error) {
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingFields{IndexConfigRefs: RefValue(r.Kind, r.Name)}}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}} {
		if err := l.cache.List(ctx, list, opts...); err != nil {
			return false, fmt.Errorf("cachescope: find consumers of %s %s/%s: %w", r.Kind, namespace, r.Name, err)
		}
		if apimeta.LenList(list) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// consumedInAPI reports whether a Deployment or StatefulSet of the operator
// (by its managed-by label) in namespace consumes r, read from the API
// server. The API server has no index of references, so the workloads are
// listed and their pod templates read.
func (l *Labeler) consumedInAPI(ctx context.Context, namespace string, r confighash.Ref) (bool, error) {
	opts := []client.ListOption{client.InNamespace(namespace), client.MatchingLabels{keys.LabelManagedBy: l.operator}}
	for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}} {
		if err := l.api.List(ctx, list, opts...); err != nil {
			return false, fmt.Errorf("cachescope: find consumers of %s %s/%s: %w", r.Kind, namespace, r.Name, err)
		}
		used := false
		err := apimeta.EachListItem(list, func(obj runtime.Object) error {
			used = used || slices.ContainsFunc(confighash.WorkloadReferences(obj), func(c confighash.Ref) bool {
				return c.Kind == r.Kind && c.Name == r.Name
			})
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("cachescope: find consumers of %s %s/%s: %w", r.Kind, namespace, r.Name, err)
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}

// releaseOutcome says what release found.
type releaseOutcome struct {
	// foreign is true when another manager owns the watch label too, or
	// this Labeler's manager does not own it at all; resourceVersion is the
	// object's then.
	foreign         bool
	resourceVersion string
}

// release removes the watch label from one object if this Labeler's field
// manager owns it, no other manager does, and no workload of the operator in
// the API server consumes the object. The patch carries the resourceVersion
// the ownership was read at, so a concurrent change of ownership makes it
// conflict and start over.
func (l *Labeler) release(ctx context.Context, namespace string, r confighash.Ref) (releaseOutcome, error) {
	var out releaseOutcome
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		out = releaseOutcome{}
		obj := metadataOf(r.Kind, namespace, r.Name)
		if err := l.api.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return client.IgnoreNotFound(err)
		}
		if obj.GetLabels()[keys.LabelWatch] == "" {
			return nil
		}
		if mine, others := l.labelOwners(obj); !mine || others {
			out = releaseOutcome{foreign: true, resourceVersion: obj.GetResourceVersion()}
			return nil
		}
		switch used, err := l.consumedInAPI(ctx, namespace, r); {
		case err != nil:
			return err
		case used:
			return nil
		}
		body := fmt.Sprintf(`{"metadata":{"resourceVersion":%q,"labels":{%q:null}}}`, obj.GetResourceVersion(), keys.LabelWatch)
		return client.IgnoreNotFound(l.client.Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(body)), client.FieldOwner(l.fieldOwner)))
	})
	if err != nil {
		return releaseOutcome{}, fmt.Errorf("cachescope: unlabel %s %s/%s: %w", r.Kind, namespace, r.Name, err)
	}
	return out, nil
}

// objectID names a ConfigMap or Secret.
type objectID struct {
	kind      confighash.Kind
	namespace string
	name      string
}

// isForeign reports whether the object was found labelled by another manager
// at resourceVersion rv.
func (l *Labeler) isForeign(id objectID, rv string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return rv != "" && l.foreign[id] == rv
}

func (l *Labeler) rememberForeign(id objectID, rv string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.foreign[id] = rv
}

// forgetForeign drops what is remembered about the objects of namespace that
// no longer carry the watch label (not in listed), so the memory stays
// bounded by the labelled objects.
func (l *Labeler) forgetForeign(namespace string, listed map[objectID]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.foreign {
		if id.namespace == namespace && !listed[id] {
			delete(l.foreign, id)
		}
	}
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
