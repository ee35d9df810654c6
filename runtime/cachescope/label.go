package cachescope

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
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
// The label is written with a metadata-only server-side apply by its own
// field manager (fieldOwner + WatchFieldOwnerSuffix) that carries the
// object's resourceVersion: the API server refuses to create an object from
// an apply that names a resourceVersion, so a reference to an object that
// does not exist can never create it.
type Labeler struct {
	client     client.Client
	cache      client.Reader
	api        client.Reader
	fieldOwner string
}

// NewLabeler returns a Labeler that reads through c (normally mgr.GetClient(),
// the cache) and apiReader (mgr.GetAPIReader(): objects not yet labelled are
// not in the cache) and writes through c. fieldOwner is the operator's field
// owner.
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
// steady state Watch makes no request at all. Otherwise its metadata (not
// its data) is read from the API server and, if unlabelled, it is labelled.
// References to objects that do not exist are returned in missing; call
// Watch again on a later reconcile to label them once they exist.
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
	return l.apply(ctx, namespace, r, true)
}

// Release removes the watch label that Watch added from every object in
// refs, in namespace, that no Deployment or StatefulSet in the cache still
// consumes (looked up through IndexConfigRefs, so it needs SetupIndexes).
// Only the label this Labeler's field manager owns goes: a label that a
// builder set on its own ConfigMap, or that another operator also applied,
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
		if _, err := l.apply(ctx, namespace, r, false); err != nil {
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

// apply sets (label true) or releases (label false) the watch label with a
// metadata-only apply guarded by the object's current resourceVersion. It
// reports whether the object exists.
func (l *Labeler) apply(ctx context.Context, namespace string, r confighash.Ref, label bool) (bool, error) {
	found := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		meta := &metav1.PartialObjectMetadata{}
		meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(string(r.Kind)))
		if err := l.api.Get(ctx, client.ObjectKey{Namespace: namespace, Name: r.Name}, meta); err != nil {
			if apierrors.IsNotFound(err) {
				found = false
				return nil
			}
			return err
		}
		has := meta.GetLabels()[keys.LabelWatch] == keys.ValueTrue
		if label && has {
			return nil
		}
		if !label && !l.ownsLabel(meta) {
			return nil
		}
		cfg, err := watchApplyConfig(r.Kind, namespace, r.Name, meta.GetResourceVersion(), label)
		if err != nil {
			return err
		}
		return l.client.Apply(ctx, cfg, client.FieldOwner(l.fieldOwner))
	})
	if err != nil {
		verb := "label"
		if !label {
			verb = "unlabel"
		}
		return found, fmt.Errorf("cachescope: %s %s %s/%s: %w", verb, r.Kind, namespace, r.Name, err)
	}
	return found, nil
}

// ownsLabel reports whether this Labeler's field manager has an entry on
// obj, that is, whether there is anything for Release to give up.
func (l *Labeler) ownsLabel(obj metav1.Object) bool {
	for _, mf := range obj.GetManagedFields() {
		if mf.Manager == l.fieldOwner && mf.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

func watchApplyConfig(kind confighash.Kind, namespace, name, resourceVersion string, label bool) (runtime.ApplyConfiguration, error) {
	var labels map[string]string
	if label {
		labels = map[string]string{keys.LabelWatch: keys.ValueTrue}
	}
	switch kind {
	case confighash.KindConfigMap:
		c := corev1ac.ConfigMap(name, namespace).WithResourceVersion(resourceVersion)
		if labels != nil {
			c.WithLabels(labels)
		}
		return c, nil
	case confighash.KindSecret:
		c := corev1ac.Secret(name, namespace).WithResourceVersion(resourceVersion)
		if labels != nil {
			c.WithLabels(labels)
		}
		return c, nil
	default:
		return nil, fmt.Errorf("cachescope: unsupported kind %q", kind)
	}
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
