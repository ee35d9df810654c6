package cachescope

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/runtime/keys"
)

// Option configures Options.
type Option func(*config)

type config struct {
	managedBy          string
	namespaces         []string
	stripManagedFields bool
	fullyCached        []client.Object
}

// WithManagedBy narrows the children in the cache to those whose
// app.kubernetes.io/managed-by label is fieldOwner, the operator's field
// owner. Without it the cache holds the children of every opbuilder-based
// operator in the cluster, which is correct but wasteful when several run.
func WithManagedBy(fieldOwner string) Option {
	return func(c *config) { c.managedBy = fieldOwner }
}

// WithNamespaces restricts the cache, the owner type included, to the given
// namespaces. Without it the cache watches all namespaces.
func WithNamespaces(namespaces ...string) Option {
	return func(c *config) { c.namespaces = append(c.namespaces, namespaces...) }
}

// WithStripManagedFields drops metadata.managedFields from every cached
// object, which typically halves the memory of the cache. Only use it when
// nothing reads managedFields from the cache.
func WithStripManagedFields() Option {
	return func(c *config) { c.stripManagedFields = true }
}

// WithFullyCached caches every object of the given types, like the owner
// type, instead of only labelled ones. Use it for other types the controller
// watches that carry no opbuilder label, such as Nodes.
func WithFullyCached(objs ...client.Object) Option {
	return func(c *config) { c.fullyCached = append(c.fullyCached, objs...) }
}

// Options returns manager cache options (for ctrl.Options.Cache) that keep
// the cache small:
//
//   - the owner type (for example &v1.Druid{}) and the WithFullyCached types
//     are cached in full;
//   - ConfigMaps and Secrets are cached only when they carry keys.LabelWatch,
//     which builders set on the ones they create and Labeler sets on the
//     external ones a workload references;
//   - every other type is cached only when it carries keys.LabelOwnerUID
//     (and, with WithManagedBy, the operator's managed-by label).
//
// The memory of the cache therefore grows with the operator's own children
// and the configuration they reference, not with the number of unrelated
// objects in the cluster. Note that the owner-label default applies to every
// type the manager's cache sees, Pods included: a controller that reads the
// pods of its workloads from the cache relies on the pod templates carrying
// the owner label.
func Options(owner client.Object, opts ...Option) (cache.Options, error) {
	if owner == nil {
		return cache.Options{}, errors.New("cachescope: owner type is required, for example &v1.Druid{}")
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}

	children, err := childSelector(cfg.managedBy)
	if err != nil {
		return cache.Options{}, err
	}
	watched, err := labels.NewRequirement(keys.LabelWatch, selection.Equals, []string{keys.ValueTrue})
	if err != nil {
		return cache.Options{}, fmt.Errorf("cachescope: watch label selector: %w", err)
	}
	configSelector := labels.NewSelector().Add(*watched)

	out := cache.Options{
		DefaultLabelSelector: children,
		ByObject: map[client.Object]cache.ByObject{
			owner:               {Label: labels.Everything()},
			&corev1.ConfigMap{}: {Label: configSelector},
			&corev1.Secret{}:    {Label: configSelector},
		},
	}
	for _, o := range cfg.fullyCached {
		if o == nil {
			return cache.Options{}, errors.New("cachescope: WithFullyCached: nil object")
		}
		out.ByObject[o] = cache.ByObject{Label: labels.Everything()}
	}
	if len(cfg.namespaces) > 0 {
		out.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range cfg.namespaces {
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return cache.Options{}, fmt.Errorf("cachescope: WithNamespaces: %q: %v", ns, errs)
			}
			out.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	if cfg.stripManagedFields {
		out.DefaultTransform = cache.TransformStripManagedFields()
	}
	return out, nil
}

// childSelector selects objects that carry the owner label, and the
// managed-by label when managedBy is set.
func childSelector(managedBy string) (labels.Selector, error) {
	owned, err := labels.NewRequirement(keys.LabelOwnerUID, selection.Exists, nil)
	if err != nil {
		return nil, fmt.Errorf("cachescope: owner label selector: %w", err)
	}
	sel := labels.NewSelector().Add(*owned)
	if managedBy != "" {
		by, err := labels.NewRequirement(keys.LabelManagedBy, selection.Equals, []string{managedBy})
		if err != nil {
			return nil, fmt.Errorf("cachescope: WithManagedBy(%q): %w", managedBy, err)
		}
		sel = sel.Add(*by)
	}
	return sel, nil
}
