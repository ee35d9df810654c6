package podtemplate

import (
	"encoding/json"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// Merge returns built with override merged over it by strategic merge patch
// (see the package documentation). selector holds the labels the operator
// selects the pods by: they keep their values whatever the override sets. A
// nil override returns built unchanged. built and override are not
// modified.
func Merge(built corev1.PodTemplateSpec, override *corev1.PodTemplateSpec, selector map[string]string) (corev1.PodTemplateSpec, error) {
	if override == nil {
		return built, nil
	}
	original, err := json.Marshal(built)
	if err != nil {
		return built, fmt.Errorf("podtemplate: encoding the built pod template: %w", err)
	}
	schema, err := strategicpatch.NewPatchMetaFromStruct(corev1.PodTemplateSpec{})
	if err != nil {
		return built, fmt.Errorf("podtemplate: %w", err)
	}
	patch, err := patchOf(built, override, schema)
	if err != nil {
		return built, err
	}
	merged, err := strategicpatch.StrategicMergePatchUsingLookupPatchMeta(original, patch, schema)
	if err != nil {
		return built, fmt.Errorf("podtemplate: merging the pod template override: %w", err)
	}
	var out corev1.PodTemplateSpec
	if err := json.Unmarshal(merged, &out); err != nil {
		return built, fmt.Errorf("podtemplate: decoding the merged pod template: %w", err)
	}
	if len(selector) > 0 && out.Labels == nil {
		out.Labels = make(map[string]string, len(selector))
	}
	for k, v := range selector {
		out.Labels[k] = v
	}
	return out, nil
}

// patchOf encodes override as a strategic merge patch over built. A Go value
// encodes the fields it leaves unset as JSON null (a PodSpec's containers, a
// creationTimestamp), and null in a strategic merge patch deletes the
// field; those nulls are dropped, so that only what the user set is merged.
// The patch also keeps the built order of merged lists (see keepOrder).
func patchOf(built corev1.PodTemplateSpec, override *corev1.PodTemplateSpec, schema strategicpatch.LookupPatchMeta) ([]byte, error) {
	doc, err := toMap(override)
	if err != nil {
		return nil, fmt.Errorf("podtemplate: encoding the pod template override: %w", err)
	}
	dropNulls(doc)
	original, err := toMap(built)
	if err != nil {
		return nil, fmt.Errorf("podtemplate: encoding the built pod template: %w", err)
	}
	keepOrder(doc, original, schema)
	return json.Marshal(doc)
}

func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	err = json.Unmarshal(raw, &doc)
	return doc, err
}

// keepOrder adds to patch, for every merged list it sets, the
// $setElementOrder directive that lists the built items first, in their
// order, followed by the items the override adds. Without it a strategic
// merge puts the patch's items first, so a sidecar would become the pod's
// first container: the one kubectl logs and exec pick by default.
func keepOrder(patch, original map[string]any, schema strategicpatch.LookupPatchMeta) {
	for field, value := range patch {
		switch v := value.(type) {
		case map[string]any:
			sub, _, err := schema.LookupPatchMetadataForStruct(field)
			if err != nil {
				// A map of strings, such as labels: nothing to order.
				continue
			}
			orig, _ := original[field].(map[string]any)
			keepOrder(v, orig, sub)
		case []any:
			sub, meta, err := schema.LookupPatchMetadataForSlice(field)
			if err != nil || meta.GetPatchMergeKey() == "" || !slices.Contains(meta.GetPatchStrategies(), "merge") {
				// Replaced as a whole: its order is the override's.
				continue
			}
			orig, _ := original[field].([]any)
			patch["$setElementOrder/"+field] = mergedOrder(v, orig, meta.GetPatchMergeKey())
			for _, item := range v {
				if m, ok := item.(map[string]any); ok {
					keepOrder(m, itemWithKey(orig, meta.GetPatchMergeKey(), m[meta.GetPatchMergeKey()]), sub)
				}
			}
		}
	}
}

// mergedOrder lists the merge keys of the built items, then of the items
// only the patch has.
func mergedOrder(patch, original []any, key string) []any {
	order := make([]any, 0, len(original)+len(patch))
	for _, items := range [][]any{original, patch} {
		for _, item := range items {
			m, ok := item.(map[string]any)
			if !ok || m[key] == nil || itemWithKey(order, key, m[key]) != nil {
				continue
			}
			order = append(order, map[string]any{key: m[key]})
		}
	}
	return order
}

// itemWithKey returns the item of items whose merge key has value, or nil.
func itemWithKey(items []any, key string, value any) map[string]any {
	for _, item := range items {
		if m, ok := item.(map[string]any); ok && m[key] == value {
			return m
		}
	}
	return nil
}

// dropNulls removes, in place, every null value from the maps in v, at any
// depth.
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if child == nil {
				delete(t, k)
				continue
			}
			dropNulls(child)
		}
	case []any:
		for _, child := range t {
			dropNulls(child)
		}
	}
}
