package keys

import "strings"

// ReconcileDisabled reports whether the annotations of a custom resource turn
// reconciling off (AnnotationReconcile set to ValueDisabled).
func ReconcileDisabled(annotations map[string]string) bool {
	return annotations[AnnotationReconcile] == ValueDisabled
}

// RolloutPaused reports whether the annotations of a custom resource pause
// rollouts (AnnotationPauseRollout set to ValueTrue).
func RolloutPaused(annotations map[string]string) bool {
	return annotations[AnnotationPauseRollout] == ValueTrue
}

// ForceRolloutNodeTypes returns the node types listed in AnnotationForceRollout,
// trimmed, without empty entries and duplicates, in the order given.
func ForceRolloutNodeTypes(annotations map[string]string) []string {
	v, ok := annotations[AnnotationForceRollout]
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}
