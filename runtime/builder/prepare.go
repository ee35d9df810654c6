package builder

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/opbuilder/opbuilder/runtime/confighash"
	"github.com/opbuilder/opbuilder/runtime/internal/kinds"
	"github.com/opbuilder/opbuilder/runtime/keys"
)

const (
	appliedHashKey = keys.AnnotationAppliedHash
	configHashKey  = keys.AnnotationConfigHash
)

// validateOwner refuses owners children cannot be tied to.
func validateOwner(owner client.Object) error {
	if owner.GetName() == "" {
		return errors.New("owner has no name")
	}
	if owner.GetNamespace() == "" {
		return fmt.Errorf("owner %q is cluster-scoped (or has no namespace): children must live in their owner's namespace", owner.GetName())
	}
	if owner.GetUID() == "" {
		return fmt.Errorf("owner %s/%s has no UID: pass the object as read from the API server", owner.GetNamespace(), owner.GetName())
	}
	return nil
}

// baseLabels are the labels the Builder forces on every child.
func (b *Builder) baseLabels() map[string]string {
	return keys.Merge(
		keys.StandardLabels(b.cfg.app, b.cfg.owner.GetName(), "", b.cfg.fieldOwner),
		keys.OwnerLabels(b.cfg.owner.GetUID()),
	)
}

func (b *Builder) validateLabels() error {
	l := keys.Merge(b.cfg.labels, b.baseLabels())
	if b.cfg.component != "" {
		l[keys.LabelComponent] = b.cfg.component
	}
	if b.cfg.group != "" {
		l[keys.LabelGroup] = b.cfg.group
	}
	return keys.ValidateLabels(l)
}

// childLabels returns the labels of a child whose own labels are own.
func (b *Builder) childLabels(own map[string]string) map[string]string {
	l := keys.Merge(b.cfg.labels, own, b.baseLabels())
	if _, ok := own[keys.LabelComponent]; !ok && b.cfg.component != "" {
		l[keys.LabelComponent] = b.cfg.component
	}
	if _, ok := own[keys.LabelGroup]; !ok && b.cfg.group != "" {
		l[keys.LabelGroup] = b.cfg.group
	}
	return l
}

// gvkOf returns the kind of obj, from its TypeMeta or the scheme.
func (b *Builder) gvkOf(obj runtime.Object) (schema.GroupVersionKind, error) {
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" && gvk.Version != "" {
		return gvk, nil
	}
	gvk, err := apiutil.GVKForObject(obj, b.scheme)
	if err != nil {
		return schema.GroupVersionKind{}, fmt.Errorf("resolve kind of %T: %w", obj, err)
	}
	return gvk, nil
}

// prepared is a desired object ready to be applied.
type prepared struct {
	gvk schema.GroupVersionKind
	// obj is a copy of the desired object with namespace, labels, owner
	// reference and config hash set.
	obj client.Object
	// content is obj's apply content, with the applied-hash annotation; nil
	// until ensureContent when hash was known without it (see checked).
	content map[string]any
	// configHash is the pod template's config hash ("" for other kinds or
	// when the pods consume no ConfigMap or Secret).
	configHash string
	// hash is the applied-hash of content.
	hash string
	// missing are the ConfigMaps and Secrets the pod template needs (not
	// optionally) that do not exist, and taken those whose names belong to
	// objects the Builder refused to write; see the missing-config rule.
	missing, taken []confighash.Ref
}

// key identifies p's object in Expectations.
func (p *prepared) key() expectationKey {
	return expectationKey{group: p.gvk.Group, kind: p.gvk.Kind, namespace: p.obj.GetNamespace(), name: p.obj.GetName()}
}

// prepare copies obj and sets what every child gets (namespace, labels,
// owner reference) plus, for workloads, the config hash.
func (b *Builder) prepare(ctx context.Context, obj client.Object) (*prepared, error) {
	if obj == nil || reflect.ValueOf(obj).IsNil() {
		return nil, errors.New("nil object")
	}
	gvk, err := b.gvkOf(obj)
	if err != nil {
		return nil, err
	}
	if obj.GetName() == "" {
		return nil, fmt.Errorf("%s without a name (generateName is not supported)", gvk.Kind)
	}
	c, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return nil, fmt.Errorf("%s %s: copy is not a client.Object", gvk.Kind, obj.GetName())
	}
	if err := b.placeInOwnerNamespace(c, gvk); err != nil {
		return nil, err
	}
	labels := b.childLabels(c.GetLabels())
	if isConfig(gvk) {
		// The label-scoped cache of runtime/cachescope holds only the
		// ConfigMaps and Secrets that carry the watch label; without it the
		// Builder's own reads and the store's prune would never see them.
		labels[keys.LabelWatch] = keys.ValueTrue
	}
	c.SetLabels(labels)
	if err := controllerutil.SetControllerReference(b.cfg.owner, c, b.scheme); err != nil {
		return nil, fmt.Errorf("%s %s: set owner reference: %w", gvk.Kind, c.GetName(), err)
	}
	p := &prepared{gvk: gvk, obj: c}
	if err := b.stampWorkload(ctx, p); err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", gvk.Kind, c.GetNamespace(), c.GetName(), err)
	}
	if h, ok := b.cfg.expectations.desiredHash(p.key(), c); ok {
		// The same desired object as in an earlier pass: its apply
		// content is built only if a comparison or an apply needs it.
		p.hash = h
		return p, nil
	}
	content, err := applyContent(p.obj, gvk)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", gvk.Kind, c.GetNamespace(), c.GetName(), err)
	}
	h, err := contentHash(content)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s: %w", gvk.Kind, c.GetNamespace(), c.GetName(), err)
	}
	p.hash = h
	p.content = withAppliedHash(content, h)
	b.cfg.expectations.rememberDesired(p.key(), c, h)
	return p, nil
}

// ensureContent builds p's apply content when prepare found its hash without
// it.
func (p *prepared) ensureContent() error {
	if p.content != nil {
		return nil
	}
	content, err := applyContent(p.obj, p.gvk)
	if err != nil {
		return err
	}
	p.content = withAppliedHash(content, p.hash)
	return nil
}

// withAppliedHash sets the applied-hash annotation of content to h.
func withAppliedHash(content map[string]any, h string) map[string]any {
	u := &unstructured.Unstructured{Object: content}
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[appliedHashKey] = h
	u.SetAnnotations(ann)
	return content
}

func (b *Builder) placeInOwnerNamespace(c client.Object, gvk schema.GroupVersionKind) error {
	namespaced, err := b.isNamespaced(c, gvk)
	if err != nil {
		return fmt.Errorf("%s %s: find out whether the kind is namespaced: %w", gvk.Kind, c.GetName(), err)
	}
	if !namespaced {
		return fmt.Errorf("%s %s is cluster-scoped: a namespaced owner cannot own it", gvk.Kind, c.GetName())
	}
	ns := b.cfg.owner.GetNamespace()
	switch c.GetNamespace() {
	case "":
		c.SetNamespace(ns)
	case ns:
	default:
		return fmt.Errorf("%s %s/%s is not in the owner's namespace %q: cross-namespace children are not allowed",
			gvk.Kind, c.GetNamespace(), c.GetName(), ns)
	}
	return nil
}

// isNamespaced reports whether objects of kind gvk are namespaced. The
// client's REST mapper is asked once per kind and Builder, or once per kind
// for all the Builders sharing Expectations: a pass prepares many children of
// few kinds, and a REST-mapper lookup costs more than the rest of placing a
// child.
func (b *Builder) isNamespaced(c client.Object, gvk schema.GroupVersionKind) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.namespaced[gvk]; ok {
		return v, nil
	}
	v, ok := b.cfg.expectations.isNamespaced(gvk)
	if !ok {
		var err error
		if v, err = b.cfg.client.IsObjectNamespaced(c); err != nil {
			return false, err
		}
		b.cfg.expectations.rememberNamespaced(gvk, v)
	}
	if b.namespaced == nil {
		b.namespaced = map[schema.GroupVersionKind]bool{}
	}
	b.namespaced[gvk] = v
	return v, nil
}

// stampWorkload adds the standard labels and the config hash to the pod
// template of a Deployment or StatefulSet.
func (b *Builder) stampWorkload(ctx context.Context, p *prepared) error {
	if !isWorkload(p.gvk) {
		return nil
	}
	// Unstructured workloads are converted to typed ones for the pod
	// template, and back.
	typed := p.obj
	if u, ok := p.obj.(*unstructured.Unstructured); ok {
		o, err := b.scheme.New(p.gvk)
		if err != nil {
			return fmt.Errorf("new %s: %w", p.gvk, err)
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, o); err != nil {
			return fmt.Errorf("convert: %w", err)
		}
		typed = o.(client.Object)
	}
	tmpl := confighash.PodTemplateOf(typed)
	if tmpl == nil {
		return nil
	}
	tmpl.Labels = keys.Merge(tmpl.Labels, b.baseLabels())
	if c, ok := p.obj.GetLabels()[keys.LabelComponent]; ok {
		tmpl.Labels[keys.LabelComponent] = c
	}
	sum, err := confighash.Compute(ctx, b.configGetter(), p.obj.GetNamespace(), &tmpl.Spec)
	if err != nil {
		return err
	}
	p.missing = requiredMissing(sum)
	p.taken = b.refusedAmong(sum.Refs)
	if len(sum.Refs) > 0 {
		if tmpl.Annotations == nil {
			tmpl.Annotations = map[string]string{}
		}
		tmpl.Annotations[configHashKey] = sum.Value
		p.configHash = sum.Value
	}
	if u, ok := p.obj.(*unstructured.Unstructured); ok {
		if err := setNested(u, tmpl.Labels, "spec", "template", "metadata", "labels"); err != nil {
			return err
		}
		if p.configHash != "" {
			if err := setNested(u, tmpl.Annotations, "spec", "template", "metadata", "annotations"); err != nil {
				return err
			}
		}
	}
	return nil
}

func setNested(u *unstructured.Unstructured, m map[string]string, fields ...string) error {
	if err := unstructured.SetNestedStringMap(u.Object, m, fields...); err != nil {
		return fmt.Errorf("set %v: %w", fields, err)
	}
	return nil
}

// configGetter serves ConfigMaps and Secrets desired in this pass (given with
// WithObjects or reconciled through this Builder) from the desired objects,
// and others through the client, then, when the client does not have them,
// the API reader. A label-scoped cache holds an external object only once
// it carries the watch label, so a newly referenced Secret, or one deleted
// and created again without the label, is not in it yet: hashed as absent,
// it would roll the workload once now and once more when the cache sees it.
func (b *Builder) configGetter() confighash.Getter {
	getters := []confighash.Getter{confighash.FromObjects(b.desiredConfig()...), b.cfg.client}
	if b.cfg.apiReader != nil {
		getters = append(getters, b.cfg.apiReader)
	}
	return confighash.Chain(getters...)
}

// desiredConfig returns the ConfigMaps and Secrets desired in this pass, with
// their namespace defaulted to the owner's: those reconciled so far first
// (they are what was applied), then those given with WithObjects. The latter
// are found once per Builder.
func (b *Builder) desiredConfig() []client.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.givenConfig == nil {
		b.givenConfig = []client.Object{}
		for _, o := range b.cfg.objects {
			gvk, err := b.gvkOf(o)
			if err != nil || !isConfig(gvk) {
				continue
			}
			if o.GetNamespace() == "" {
				c := o.DeepCopyObject().(client.Object)
				c.SetNamespace(b.cfg.owner.GetNamespace())
				o = c
			}
			b.givenConfig = append(b.givenConfig, o)
		}
	}
	return append(slices.Clip(b.reconciledConfig), b.givenConfig...)
}

// isWorkload reports whether gvk is a Deployment or a StatefulSet: a kind
// whose pod template the Builder stamps and whose replicas and selector it
// handles with care.
func isWorkload(gvk schema.GroupVersionKind) bool { return kinds.Rolled(gvk.GroupKind()) }

// isConfig reports whether gvk is a ConfigMap or a Secret.
func isConfig(gvk schema.GroupVersionKind) bool {
	return gvk.Group == "" && (gvk.Kind == "ConfigMap" || gvk.Kind == "Secret")
}
