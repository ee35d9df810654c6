package orchestrate

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/confighash"
)

// externalRefs returns the ConfigMaps and Secrets the workload's pods consume
// that are not among the desired objects of the pass: objects the operator
// does not own, such as a user-supplied TLS Secret. They must carry the
// watch label (cachescope.Labeler) to be in a cachescope-scoped cache, so
// that their content is hashed and their changes reconcile the owner.
func externalRefs(workload client.Object, desired map[refKey]bool) []confighash.Ref {
	var out []confighash.Ref
	for _, r := range confighash.WorkloadReferences(workload) {
		if !desired[refKey{r.Kind, r.Name}] {
			out = append(out, r)
		}
	}
	return out
}

type refKey struct {
	kind confighash.Kind
	name string
}

// desiredConfig returns the ConfigMaps and Secrets among the desired objects.
func desiredConfig(objs []client.Object) map[refKey]bool {
	out := map[refKey]bool{}
	for _, obj := range objs {
		switch obj.(type) {
		case *corev1.ConfigMap:
			out[refKey{confighash.KindConfigMap, obj.GetName()}] = true
		case *corev1.Secret:
			out[refKey{confighash.KindSecret, obj.GetName()}] = true
		}
	}
	return out
}

// watchExternal labels the external objects the desired workloads consume
// and returns those that do not exist.
//
// Objects that are neither in the cache nor in the API server are left out
// before the Labeler is called: it finds out that an object is missing from
// its label patch failing, and a patch is a write request, which a
// steady-state pass must not make (an optional reference to a Secret that
// does not exist would otherwise cost one failed patch per pass). The check
// is a metadata-only read.
func (o *Orchestrator[T]) watchExternal(ctx context.Context, namespace string, refs []confighash.Ref) ([]confighash.Ref, error) {
	var existing, missing []confighash.Ref
	for _, r := range refs {
		key := client.ObjectKey{Namespace: namespace, Name: r.Name}
		// The cache is read with the typed kind it already holds (a
		// metadata-only read through the cache would start a second
		// informer); the API server with a metadata-only request.
		var cached client.Object = &corev1.ConfigMap{}
		if r.Kind == confighash.KindSecret {
			cached = &corev1.Secret{}
		}
		err := o.client.Get(ctx, key, cached)
		if apierrors.IsNotFound(err) {
			meta := &metav1.PartialObjectMetadata{}
			meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(string(r.Kind)))
			err = o.apiReader.Get(ctx, key, meta)
		}
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, r)
		case err != nil:
			return nil, fmt.Errorf("orchestrate: read %s %s: %w", r.Kind, r.Name, err)
		default:
			existing = append(existing, r)
		}
	}
	if len(existing) == 0 {
		return missing, nil
	}
	gone, err := o.labeler.Watch(ctx, namespace, existing)
	if err != nil {
		return nil, fmt.Errorf("orchestrate: watch consumed ConfigMaps and Secrets: %w", err)
	}
	return append(missing, gone...), nil
}

// releaseExternal gives up the watch label of the external ConfigMaps and
// Secrets in namespace that no workload of the operator consumes any more,
// such as a user's TLS Secret that a node type stopped mounting, or whose
// node type was removed. keep are the external references of the pass's
// desired workloads, which stay labelled whatever the cache says.
//
// Which objects the operator labelled is read off the objects themselves:
// the watch label, owned according to managedFields by the Labeler's field
// manager alone (cachescope.Labeler.ReleaseUnused). The pass keeps no list,
// and the CR's status none either, so nothing is lost when the operator
// restarts between a workload's write and the release, and a label another
// CR's pass left behind in the namespace is released too.
//
// A label is released only once no workload of the operator in the
// namespace consumes the object, in the cache and then in the API server, so
// only after the workload that stopped referencing it was written: a
// workload held by the rollout order or a pause still references the old
// object and keeps it labelled, a removed node type's workload keeps it
// until it is deleted, and another CR's workload keeps it as long as it
// mounts it. The release runs before the pass writes any child, so the pass
// that writes the workload still finds it consuming the object; the watch
// event of that write brings the pass that releases it. The object thus
// never leaves the cache while a workload consumes it, and is released with
// one write, not a release and a re-label.
//
// In steady state this makes no request (see ReleaseUnused). A failure fails
// the pass, as a failure to label does, so it is retried with backoff.
func (o *Orchestrator[T]) releaseExternal(ctx context.Context, namespace string, keep []confighash.Ref) error {
	if err := o.labeler.ReleaseUnused(ctx, namespace, keep); err != nil {
		return fmt.Errorf("orchestrate: release ConfigMaps and Secrets no workload consumes any more: %w", err)
	}
	return nil
}
