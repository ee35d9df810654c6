package store

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// ID identifies one child of an owner: its group, version and kind, its
// namespace and its name. Its String form is the compact entry kept in the
// owner's status inventory.
//
// Two IDs that differ only in Version name the same object served under two
// API versions; the store compares identities with Key, which leaves the
// version out, so that an object is never pruned because the operator moved
// to a newer API version of its kind.
type ID struct {
	Group     string
	Version   string
	Kind      string
	Namespace string
	Name      string
}

// Key is the version-free identity of a child: two IDs with the same Key are
// the same object in the API server.
type Key struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// IDOf returns the ID of obj. The kind comes from obj's TypeMeta when it is
// set, otherwise from scheme.
func IDOf(obj client.Object, scheme *runtime.Scheme) (ID, error) {
	gvk, err := gvkOf(obj, scheme)
	if err != nil {
		return ID{}, err
	}
	return ID{
		Group:     gvk.Group,
		Version:   gvk.Version,
		Kind:      gvk.Kind,
		Namespace: obj.GetNamespace(),
		Name:      obj.GetName(),
	}, nil
}

func gvkOf(obj client.Object, scheme *runtime.Scheme) (schema.GroupVersionKind, error) {
	if obj == nil {
		return schema.GroupVersionKind{}, fmt.Errorf("store: nil object")
	}
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" && gvk.Version != "" {
		return gvk, nil
	}
	if scheme == nil {
		return schema.GroupVersionKind{}, fmt.Errorf("store: %T has no apiVersion/kind and no scheme was given to resolve it", obj)
	}
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("store: resolve kind of %T %q: %w", obj, obj.GetName(), err)
	}
	return gvk, nil
}

// GroupVersionKind returns the ID's group, version and kind.
func (id ID) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: id.Group, Version: id.Version, Kind: id.Kind}
}

// GroupKind returns the ID's group and kind.
func (id ID) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: id.Group, Kind: id.Kind}
}

// Key returns the version-free identity of the object id names.
func (id ID) Key() Key {
	return Key{Group: id.Group, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

// String returns the compact inventory form of id, modelled on kubectl's
// fully qualified resource notation:
//
//	Kind.version[.group]/namespace/name
//
// for example "Deployment.v1.apps/prod/druid-broker" or
// "ConfigMap.v1/prod/druid-common". Kinds and versions contain no dots and no
// names or namespaces contain a slash, so ParseID reverses it exactly.
func (id ID) String() string {
	var b strings.Builder
	b.Grow(len(id.Kind) + len(id.Version) + len(id.Group) + len(id.Namespace) + len(id.Name) + 4)
	b.WriteString(id.Kind)
	b.WriteByte('.')
	b.WriteString(id.Version)
	if id.Group != "" {
		b.WriteByte('.')
		b.WriteString(id.Group)
	}
	b.WriteByte('/')
	b.WriteString(id.Namespace)
	b.WriteByte('/')
	b.WriteString(id.Name)
	return b.String()
}

// ParseID parses the String form of an ID. It rejects entries that are not
// well formed, so a hand-edited inventory cannot make the store act on an
// object it did not record.
func ParseID(s string) (ID, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return ID{}, fmt.Errorf("store: inventory entry %q: want Kind.version[.group]/namespace/name", s)
	}
	typ, ns, name := parts[0], parts[1], parts[2]
	kvg := strings.SplitN(typ, ".", 3)
	if len(kvg) < 2 || kvg[0] == "" || kvg[1] == "" {
		return ID{}, fmt.Errorf("store: inventory entry %q: want Kind.version[.group] before the first slash", s)
	}
	id := ID{Kind: kvg[0], Version: kvg[1], Namespace: ns, Name: name}
	if len(kvg) == 3 {
		id.Group = kvg[2]
		if errs := validation.IsDNS1123Subdomain(id.Group); len(errs) > 0 {
			return ID{}, fmt.Errorf("store: inventory entry %q: group: %s", s, strings.Join(errs, "; "))
		}
	}
	if name == "" {
		return ID{}, fmt.Errorf("store: inventory entry %q: empty name", s)
	}
	if ns != "" {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return ID{}, fmt.Errorf("store: inventory entry %q: namespace: %s", s, strings.Join(errs, "; "))
		}
	}
	return id, nil
}
