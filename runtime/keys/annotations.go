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

// RestartTokens returns the annotations a workload of nodeType must carry for
// the restarts the annotations of its custom resource ask for:
// AnnotationRestarted with AnnotationRestart's value, and
// AnnotationRestartedNodeType with that of AnnotationRestart + "." +
// nodeType, each only when set. A workload that lacks one of them, or has
// another value, is due for a restart; one that has both is not, whatever
// else it carries, so removing a request restarts nothing.
func RestartTokens(annotations map[string]string, nodeType string) map[string]string {
	out := map[string]string{}
	if t := annotations[AnnotationRestart]; t != "" {
		out[AnnotationRestarted] = t
	}
	if t := annotations[AnnotationRestart+"."+nodeType]; t != "" {
		out[AnnotationRestartedNodeType] = t
	}
	return out
}
