package keys

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// StandardLabels returns the app.kubernetes.io labels every child carries.
// Empty arguments are left out, so a child that belongs to no node type simply
// has no component label. Use ValidateLabels to check the result.
func StandardLabels(app, instance, component, managedBy string) map[string]string {
	l := SelectorLabels(app, instance, component)
	if managedBy != "" {
		l[LabelManagedBy] = managedBy
	}
	return l
}

// SelectorLabels returns the labels a workload's pod selector matches on: the
// application, the instance and the component. They never include
// LabelManagedBy or LabelOwnerUID, so renaming the operator or re-creating the
// custom resource does not change an (immutable) selector.
func SelectorLabels(app, instance, component string) map[string]string {
	l := make(map[string]string, 4)
	if app != "" {
		l[LabelName] = app
	}
	if instance != "" {
		l[LabelInstance] = instance
	}
	if component != "" {
		l[LabelComponent] = component
	}
	return l
}

// OwnerLabels returns the label that ties a child to the custom resource with
// the given UID.
func OwnerLabels(uid types.UID) map[string]string {
	return map[string]string{LabelOwnerUID: string(uid)}
}

// Merge returns a new map holding all the given label (or annotation) sets;
// later sets win on equal keys. Nil sets are skipped.
func Merge(sets ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}

// ValidateLabels checks every key and value with the apimachinery label
// validation rules and returns all problems joined into one error, or nil.
func ValidateLabels(labels map[string]string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label key %q: %s", k, strings.Join(msgs, "; ")))
		}
		if msgs := validation.IsValidLabelValue(labels[k]); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label %q value %q: %s", k, labels[k], strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

// ValidateAnnotationKeys checks that every key of annotations is a valid
// qualified name. Values are not checked: annotation values are free text.
func ValidateAnnotationKeys(annotations map[string]string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(annotations)) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("annotation key %q: %s", k, strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}
