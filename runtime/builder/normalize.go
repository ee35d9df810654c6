package builder

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// serverSetMetadata are metadata fields the API server sets; a desired object
// never sends them.
var serverSetMetadata = []string{
	"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
	"generation", "managedFields", "resourceVersion", "selfLink", "uid",
}

// applyContent returns the unstructured form of the desired object obj that
// is sent in a server-side apply and compared with the live object.
//
// The apimachinery converter writes every field of a typed object that Go
// cannot omit, so its output cannot tell "unset" from "zero" for struct-valued
// fields (an unset Service targetPort becomes 0, an unset resources becomes
// {}). Sent in an apply, such values would claim fields with values the
// server replaces by defaults, and the object would look drifted forever.
// No library strips them (controller-runtime documents the problem for
// ApplyConfigurationFromUnstructured), so pruneOmitEmpty does it by hand: it
// walks the Go value next to its unstructured form and drops fields tagged
// omitempty whose struct value is zero. Nulls, status and server-set metadata
// are dropped too.
func applyContent(obj client.Object, gvk schema.GroupVersionKind) (map[string]any, error) {
	var content map[string]any
	if u, ok := obj.(runtime.Unstructured); ok {
		content = runtime.DeepCopyJSON(u.UnstructuredContent())
	} else {
		c, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, fmt.Errorf("convert to unstructured: %w", err)
		}
		content = c
		pruneOmitEmpty(reflect.ValueOf(obj), content)
	}
	content["apiVersion"] = gvk.GroupVersion().String()
	content["kind"] = gvk.Kind
	delete(content, "status")
	if md, ok := content["metadata"].(map[string]any); ok {
		for _, f := range serverSetMetadata {
			delete(md, f)
		}
	}
	if gvk.Group == "" && gvk.Kind == "Secret" {
		if err := foldStringData(content); err != nil {
			return nil, err
		}
	}
	dropNulls(content)
	return content, nil
}

// foldStringData moves a Secret's stringData into data, as the API server
// does on write; otherwise the live Secret (which never has stringData)
// would always look drifted.
func foldStringData(content map[string]any) error {
	sd, ok := content["stringData"].(map[string]any)
	delete(content, "stringData")
	if !ok || len(sd) == 0 {
		return nil
	}
	data, _ := content["data"].(map[string]any)
	if data == nil {
		data = map[string]any{}
	}
	for k, v := range sd {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("secret stringData key %q is not a string", k)
		}
		data[k] = base64.StdEncoding.EncodeToString([]byte(s))
	}
	content["data"] = data
	return nil
}

// pruneOmitEmpty removes from m the fields of the Go value v that are tagged
// omitempty and hold a zero struct, recursively.
func pruneOmitEmpty(v reflect.Value, m map[string]any) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || m == nil {
		return
	}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			pruneOmitEmpty(fv, m)
			continue
		}
		if name == "" {
			name = f.Name
		}
		mv, ok := m[name]
		if !ok {
			continue
		}
		if hasOpt(opts, "omitempty") && fv.Kind() == reflect.Struct && fv.IsZero() {
			delete(m, name)
			continue
		}
		pruneValue(fv, mv)
	}
}

func pruneValue(fv reflect.Value, mv any) {
	for fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface {
		if fv.IsNil() {
			return
		}
		fv = fv.Elem()
	}
	switch fv.Kind() {
	case reflect.Struct:
		if sub, ok := mv.(map[string]any); ok {
			pruneOmitEmpty(fv, sub)
		}
	case reflect.Slice, reflect.Array:
		items, ok := mv.([]any)
		if !ok || len(items) != fv.Len() {
			return
		}
		for j := range items {
			pruneValue(fv.Index(j), items[j])
		}
	case reflect.Map:
		sub, ok := mv.(map[string]any)
		if !ok || fv.Type().Key().Kind() != reflect.String {
			return
		}
		iter := fv.MapRange()
		for iter.Next() {
			if item, ok := sub[iter.Key().String()]; ok {
				pruneValue(iter.Value(), item)
			}
		}
	}
}

func hasOpt(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// dropNulls removes null values from maps, recursively.
func dropNulls(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil {
				delete(t, k)
				continue
			}
			dropNulls(e)
		}
	case []any:
		for _, e := range t {
			dropNulls(e)
		}
	}
}

// contentHash returns the hash of the desired content, without its own
// applied-hash annotation. encoding/json sorts map keys, so the encoding is
// canonical. content is not modified.
func contentHash(content map[string]any) (string, error) {
	b, err := json.Marshal(withoutAppliedHash(content))
	if err != nil {
		return "", fmt.Errorf("encode desired state: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// withoutAppliedHash returns content without the applied-hash annotation
// (and without annotations at all when that was the only one). Only the maps
// on the annotation's path are copied, and only when it is present: content
// is merely encoded afterwards, so sharing the rest is safe.
func withoutAppliedHash(content map[string]any) map[string]any {
	md, _ := content["metadata"].(map[string]any)
	ann, _ := md["annotations"].(map[string]any)
	if _, ok := ann[appliedHashKey]; !ok {
		return content
	}
	newAnn := maps.Clone(ann)
	delete(newAnn, appliedHashKey)
	newMD := maps.Clone(md)
	if len(newAnn) == 0 {
		delete(newMD, "annotations")
	} else {
		newMD["annotations"] = newAnn
	}
	out := maps.Clone(content)
	out["metadata"] = newMD
	return out
}
