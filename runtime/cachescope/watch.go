package cachescope

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/opbuilder/opbuilder/runtime/confighash"
)

// WatchReferencedConfig makes the controller that b builds reconcile an owner
// whenever a ConfigMap or Secret that one of the owner's workloads consumes
// is created, deleted or has its content changed, whether the operator owns
// that object or not. owner is the owner type, for example &v1.Druid{}.
//
//	b := ctrl.NewControllerManagedBy(mgr).For(&v1.Druid{}).Owns(&appsv1.StatefulSet{})
//	if err := cachescope.WatchReferencedConfig(b, mgr, &v1.Druid{}); err != nil {
//		return err
//	}
//	return b.Complete(r)
//
// It needs SetupIndexes on the same manager, and sees only the ConfigMaps and
// Secrets in the cache, that is, those that carry keys.LabelWatch (see
// Labeler).
func WatchReferencedConfig(b *builder.Builder, mgr manager.Manager, owner client.Object) error {
	if b == nil || mgr == nil {
		return errors.New("cachescope: WatchReferencedConfig: a controller builder and a manager are required")
	}
	h, err := ConfigEventHandler(mgr.GetClient(), mgr.GetScheme(), owner)
	if err != nil {
		return err
	}
	contentChanged := builder.WithPredicates(ContentChanged())
	b.Watches(&corev1.ConfigMap{}, h, contentChanged)
	b.Watches(&corev1.Secret{}, h, contentChanged)
	return nil
}

// ConfigEventHandler returns the event handler of WatchReferencedConfig, for
// controllers that set up their watches by hand. It maps an event on a
// ConfigMap or Secret to the workloads (Deployments and StatefulSets) in its
// namespace that consume it, found through the IndexConfigRefs field index
// of reader (normally the manager's client, so the cache), and from each
// workload to its controller owner when that is of the owner type.
func ConfigEventHandler(reader client.Reader, scheme *runtime.Scheme, owner client.Object) (handler.EventHandler, error) {
	if reader == nil || scheme == nil || owner == nil {
		return nil, errors.New("cachescope: ConfigEventHandler: a reader, a scheme and the owner type are required")
	}
	gvk, err := apiutil.GVKForObject(owner, scheme)
	if err != nil {
		return nil, fmt.Errorf("cachescope: owner type %T: %w", owner, err)
	}
	m := &ownerMapper{reader: reader, owner: gvk.GroupKind()}
	return handler.EnqueueRequestsFromMapFunc(m.requests), nil
}

type ownerMapper struct {
	reader client.Reader
	owner  schema.GroupKind
}

func (m *ownerMapper) requests(ctx context.Context, obj client.Object) []reconcile.Request {
	var kind confighash.Kind
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = confighash.KindConfigMap
	case *corev1.Secret:
		kind = confighash.KindSecret
	default:
		return nil
	}
	value := RefValue(kind, obj.GetName())
	seen := map[types.NamespacedName]bool{}
	var out []reconcile.Request
	add := func(w metav1.Object) {
		ref := metav1.GetControllerOfNoCopy(w)
		if ref == nil || ref.Kind != m.owner.Kind {
			return
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != m.owner.Group {
			return
		}
		nn := types.NamespacedName{Namespace: w.GetNamespace(), Name: ref.Name}
		if !seen[nn] {
			seen[nn] = true
			out = append(out, reconcile.Request{NamespacedName: nn})
		}
	}
	opts := []client.ListOption{client.InNamespace(obj.GetNamespace()), client.MatchingFields{IndexConfigRefs: value}}

	var deployments appsv1.DeploymentList
	if err := m.reader.List(ctx, &deployments, opts...); err != nil {
		log.FromContext(ctx).Error(err, "cachescope: list Deployments that consume a changed object", "object", value, "namespace", obj.GetNamespace())
	}
	for i := range deployments.Items {
		add(&deployments.Items[i])
	}
	var sets appsv1.StatefulSetList
	if err := m.reader.List(ctx, &sets, opts...); err != nil {
		log.FromContext(ctx).Error(err, "cachescope: list StatefulSets that consume a changed object", "object", value, "namespace", obj.GetNamespace())
	}
	for i := range sets.Items {
		add(&sets.Items[i])
	}
	return out
}

// ContentChanged is a predicate that passes creates and deletes of
// ConfigMaps and Secrets, and updates only when what a pod can consume
// changed: data, binaryData and, for a Secret, type. Label, annotation and
// status-only updates (including the watch label itself) are filtered out.
func ContentChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			switch o := e.ObjectOld.(type) {
			case *corev1.ConfigMap:
				n, ok := e.ObjectNew.(*corev1.ConfigMap)
				return !ok || !equality.Semantic.DeepEqual(o.Data, n.Data) || !equality.Semantic.DeepEqual(o.BinaryData, n.BinaryData)
			case *corev1.Secret:
				n, ok := e.ObjectNew.(*corev1.Secret)
				return !ok || o.Type != n.Type || !equality.Semantic.DeepEqual(o.Data, n.Data)
			default:
				return true
			}
		},
	}
}
