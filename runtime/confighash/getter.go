package confighash

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Getter reads one object by key. Every client.Reader is a Getter; so are
// FromObjects and Chain. A missing object is reported with a NotFound API
// error (apierrors.IsNotFound).
type Getter interface {
	Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error
}

// FromObjects returns a Getter that serves ConfigMaps and Secrets from objs,
// typed or unstructured, matched by kind, namespace and name; objs must have
// their namespace set. Anything else is NotFound. The objects are copied, never
// handed out.
func FromObjects(objs ...client.Object) Getter {
	return objectsGetter(objs)
}

type objectsGetter []client.Object

func (g objectsGetter) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	want, ok := kindOf(obj)
	if !ok {
		return fmt.Errorf("confighash: objects getter serves ConfigMaps and Secrets, not %T", obj)
	}
	for _, o := range g {
		if o == nil || o.GetName() != key.Name || o.GetNamespace() != key.Namespace {
			continue
		}
		if k, ok := kindOf(o); !ok || k != want {
			continue
		}
		return copyInto(o, obj)
	}
	return apierrors.NewNotFound(corev1.Resource(resourceOf(want)), key.Name)
}

// Chain returns a Getter that asks each getter in turn and returns the first
// answer that is not NotFound.
func Chain(getters ...Getter) Getter {
	return chain(getters)
}

type chain []Getter

func (c chain) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	var last error = apierrors.NewNotFound(corev1.Resource("objects"), key.Name)
	for _, g := range c {
		if g == nil {
			continue
		}
		err := g.Get(ctx, key, obj, opts...)
		if err == nil || !apierrors.IsNotFound(err) {
			return err
		}
		last = err
	}
	return last
}

func kindOf(o runtime.Object) (Kind, bool) {
	switch o.(type) {
	case *corev1.ConfigMap:
		return KindConfigMap, true
	case *corev1.Secret:
		return KindSecret, true
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	if gvk.Group == "" && gvk.Version == "v1" {
		switch gvk.Kind {
		case string(KindConfigMap):
			return KindConfigMap, true
		case string(KindSecret):
			return KindSecret, true
		}
	}
	return "", false
}

func resourceOf(k Kind) string {
	if k == KindSecret {
		return "secrets"
	}
	return "configmaps"
}

// copyInto copies src into dst, converting between typed and unstructured
// forms as needed.
func copyInto(src, dst client.Object) error {
	switch s := src.(type) {
	case *corev1.ConfigMap:
		if d, ok := dst.(*corev1.ConfigMap); ok {
			s.DeepCopyInto(d)
			return nil
		}
	case *corev1.Secret:
		if d, ok := dst.(*corev1.Secret); ok {
			s.DeepCopyInto(d)
			return nil
		}
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(src)
	if err != nil {
		return fmt.Errorf("confighash: convert %s: %w", src.GetName(), err)
	}
	if u, ok := dst.(runtime.Unstructured); ok {
		u.SetUnstructuredContent(runtime.DeepCopyJSON(content))
		return nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(content, dst); err != nil {
		return fmt.Errorf("confighash: convert %s: %w", src.GetName(), err)
	}
	return nil
}
