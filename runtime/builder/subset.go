package builder

import (
	"math/big"
)

// listKeys are the fields that identify an element of a list of objects, in
// the order they are tried. The Kubernetes API merges such lists by key (for
// example containers and volumes by name, volumeMounts by mountPath), so an
// element others add to the list is not a difference: an apply would not
// remove it. Lists whose elements carry none of these keys are compared by
// position and length, as an apply replaces them as a whole.
var listKeys = []string{"name", "mountPath", "devicePath", "containerPort", "uid"}

// isSubset reports whether every field set in desired has the same value in
// live. It is the drift check: it ignores fields only live has (server
// defaults, other managers' fields).
func isSubset(desired, live any) bool {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, dv := range d {
			lv, ok := l[k]
			if !ok || !isSubset(dv, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return false
		}
		if key := listKey(d); key != "" {
			return keyedSubset(key, d, l)
		}
		if len(d) != len(l) {
			return false
		}
		for i := range d {
			if !isSubset(d[i], l[i]) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(desired, live)
	}
}

// listKey returns the key that identifies every element of the list, or ""
// when the elements are not objects that all carry one of listKeys with
// distinct values.
func listKey(items []any) string {
	if len(items) == 0 {
		return ""
	}
	for _, key := range listKeys {
		seen := make(map[any]bool, len(items))
		ok := true
		for _, it := range items {
			m, isMap := it.(map[string]any)
			if !isMap {
				return ""
			}
			v, has := m[key]
			if !has || seen[keyOf(v)] {
				ok = false
				break
			}
			seen[keyOf(v)] = true
		}
		if ok {
			return key
		}
	}
	return ""
}

func keyedSubset(key string, desired, live []any) bool {
	index := make(map[any]any, len(live))
	for _, it := range live {
		if m, ok := it.(map[string]any); ok {
			if v, has := m[key]; has {
				index[keyOf(v)] = it
			}
		}
	}
	for _, it := range desired {
		k := keyOf(it.(map[string]any)[key])
		lv, ok := index[k]
		if !ok || !isSubset(it, lv) {
			return false
		}
	}
	return true
}

// keyOf makes numbers of different Go types comparable as map keys.
func keyOf(v any) any {
	if r, ok := toRat(v); ok {
		return r.RatString()
	}
	return v
}

func scalarEqual(a, b any) bool {
	if ra, ok := toRat(a); ok {
		rb, ok := toRat(b)
		return ok && ra.Cmp(rb) == 0
	}
	return a == b
}

func toRat(v any) (*big.Rat, bool) {
	switch n := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(n), true
	case int:
		return new(big.Rat).SetInt64(int64(n)), true
	case int32:
		return new(big.Rat).SetInt64(int64(n)), true
	case float64:
		r := new(big.Rat)
		if r.SetFloat64(n) == nil {
			return nil, false
		}
		return r, true
	}
	return nil, false
}
