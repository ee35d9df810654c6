package eventclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// maxNote is the size limit of an events.k8s.io/v1 Event note.
const maxNote = 1024

// record emits a Normal event about obj.
func (c *Client) record(ctx context.Context, obj client.Object, action, reason, detail string) {
	c.emit(ctx, obj, corev1.EventTypeNormal, action, reason, detail)
}

// recordFailure emits a Warning event about a failed write of obj, unless
// the failure is one the caller retries (409 Conflict / AlreadyExists) or
// the context ended.
func (c *Client) recordFailure(ctx context.Context, obj client.Object, action, reason string, err error) {
	if isTransient(err) {
		return
	}
	c.emit(ctx, obj, corev1.EventTypeWarning, action, reason, failureDetail(c.gvkOf(obj), err))
}

func isTransient(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code == http.StatusConflict {
		return true
	}
	return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)
}

func (c *Client) emit(ctx context.Context, obj client.Object, eventtype, action, reason, detail string) {
	note := fmt.Sprintf("%s %s", verbPast(reason), describe(c.gvkOf(obj), obj))
	if detail != "" {
		note += ": " + detail
	}
	c.Record(ctx, obj, eventtype, reason, action, note)
}

// Record records an event about the child obj on its owner (WithOwner, else
// obj's controller owner), with obj as the related object. Use it for events
// the wrapper cannot infer, such as a change that was refused. note must not
// contain the contents of ConfigMaps or Secrets; it is cut to the 1 KiB an
// Event allows. Without an owner nothing is recorded.
func (c *Client) Record(ctx context.Context, obj client.Object, eventtype, reason, action, note string) {
	logger := log.FromContext(ctx)
	gvk := c.gvkOf(obj)
	regarding := c.regarding(obj)
	if regarding == nil {
		logger.V(1).Info("no owner to record an event on", "kind", gvk.Kind, "namespace", obj.GetNamespace(), "name", obj.GetName(), "reason", reason)
		return
	}
	related := &corev1.ObjectReference{
		APIVersion:      gvk.GroupVersion().String(),
		Kind:            gvk.Kind,
		Namespace:       obj.GetNamespace(),
		Name:            obj.GetName(),
		UID:             obj.GetUID(),
		ResourceVersion: obj.GetResourceVersion(),
	}
	if len(note) > maxNote {
		note = note[:maxNote-3] + "..."
	}
	c.recorder.Eventf(regarding, related, eventtype, reason, action, "%s", note)
	logger.V(1).Info("recorded event", "reason", reason, "action", action, "kind", gvk.Kind, "namespace", obj.GetNamespace(), "name", obj.GetName())
}

// regarding returns a reference to the custom resource an event about obj
// belongs to: the WithOwner object, else obj's controller owner.
func (c *Client) regarding(obj client.Object) *corev1.ObjectReference {
	if c.owner != nil {
		gvk := c.gvkOf(c.owner)
		return &corev1.ObjectReference{
			APIVersion: gvk.GroupVersion().String(),
			Kind:       gvk.Kind,
			Namespace:  c.owner.GetNamespace(),
			Name:       c.owner.GetName(),
			UID:        c.owner.GetUID(),
		}
	}
	ref := metav1.GetControllerOf(obj)
	if ref == nil {
		return nil
	}
	ns := obj.GetNamespace()
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil && !c.namespaced(gv.WithKind(ref.Kind)) {
		ns = ""
	}
	return &corev1.ObjectReference{
		APIVersion: ref.APIVersion,
		Kind:       ref.Kind,
		Namespace:  ns,
		Name:       ref.Name,
		UID:        ref.UID,
	}
}

// namespaced reports whether gvk is a namespaced kind; it assumes so when the
// REST mapper cannot tell, because owner references of namespaced children
// normally point to objects in their own namespace.
func (c *Client) namespaced(gvk schema.GroupVersionKind) bool {
	rm := c.RESTMapper()
	if rm == nil {
		return true
	}
	m, err := rm.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return true
	}
	return m.Scope.Name() == meta.RESTScopeNameNamespace
}

func (c *Client) gvkOf(obj runtime.Object) schema.GroupVersionKind {
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" {
		return gvk
	}
	if s := c.Scheme(); s != nil {
		if gvk, err := apiutil.GVKForObject(obj, s); err == nil {
			return gvk
		}
	}
	return schema.GroupVersionKind{Kind: fmt.Sprintf("%T", obj)}
}

// emptyLike returns an empty object of the kind of like: a typed object when
// the scheme knows the kind, so reads are served by the manager's cache.
func (c *Client) emptyLike(like runtime.Object) (client.Object, error) {
	gvk := c.gvkOf(like)
	if gvk.Version == "" {
		return nil, fmt.Errorf("unknown kind of %T", like)
	}
	if s := c.Scheme(); s != nil && s.Recognizes(gvk) {
		o, err := s.New(gvk)
		if err == nil {
			if co, ok := o.(client.Object); ok {
				return co, nil
			}
		}
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// applyTarget describes the object an apply configuration names (its kind,
// namespace, name, owner references and, after the apply, its
// resourceVersion) as an unstructured object.
func applyTarget(cfg runtime.ApplyConfiguration) (client.Object, error) {
	if cfg == nil {
		return nil, errors.New("nil apply configuration")
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cfg)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	if u.GetKind() == "" || u.GetAPIVersion() == "" || u.GetName() == "" {
		return nil, errors.New("apply configuration without apiVersion, kind or name")
	}
	return u, nil
}

func describe(gvk schema.GroupVersionKind, obj client.Object) string {
	if obj.GetNamespace() == "" {
		return fmt.Sprintf("%s %s", gvk.Kind, obj.GetName())
	}
	return fmt.Sprintf("%s %s/%s", gvk.Kind, obj.GetNamespace(), obj.GetName())
}

// failureDetail says why a write failed without quoting the contents of
// ConfigMaps and Secrets: for those kinds only the API status reason and code
// are given, because validation messages can quote keys and values.
func failureDetail(gvk schema.GroupVersionKind, err error) string {
	if gvk.Group == "" && (gvk.Kind == "ConfigMap" || gvk.Kind == "Secret") {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			s := status.Status()
			return fmt.Sprintf("%s (%d)", s.Reason, s.Code)
		}
		return "request failed"
	}
	return err.Error()
}

func verbPast(reason string) string {
	switch reason {
	case ReasonCreateFailed:
		return "Failed to create"
	case ReasonUpdateFailed:
		return "Failed to update"
	case ReasonDeleteFailed:
		return "Failed to delete"
	case ReasonPruneFailed:
		return "Failed to prune"
	case ReasonRecreated:
		return "Deleted to recreate"
	case ReasonRolloutTriggered:
		return "Triggered a rollout of"
	default:
		return reason
	}
}
