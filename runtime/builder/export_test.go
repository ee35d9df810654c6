package builder

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CheckedResourceVersion returns the resourceVersion of the live object that
// e remembers a full comparison of, for the object of kind gk named key; ""
// when it remembers none. For tests that must know the next pass skips the
// comparison.
func CheckedResourceVersion(e *Expectations, gk schema.GroupKind, key client.ObjectKey) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checked[expectationKey{group: gk.Group, kind: gk.Kind, namespace: key.Namespace, name: key.Name}].resourceVersion
}
