package keys

// Prefix is the domain that prefixes every opbuilder label and annotation key.
const Prefix = "opbuilder.io"

// Standard Kubernetes labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/)
// that the runtime sets on every child object.
const (
	// LabelName is the name of the application, for example "druid".
	LabelName = "app.kubernetes.io/name"
	// LabelInstance is the name of the owning custom resource.
	LabelInstance = "app.kubernetes.io/instance"
	// LabelComponent is the node type the child belongs to, for example "broker".
	LabelComponent = "app.kubernetes.io/component"
	// LabelManagedBy is the operator's field owner name.
	LabelManagedBy = "app.kubernetes.io/managed-by"
)

// Labels owned by opbuilder.
const (
	// LabelOwnerUID carries the UID of the owning custom resource. It ties every
	// child to its owner; the label-scoped cache and the pruner select on it.
	LabelOwnerUID = Prefix + "/owner-uid"
	// LabelGroup carries the node-type group, for example "hot" or "cold".
	LabelGroup = Prefix + "/group"
	// LabelWatch, set to ValueTrue, puts a ConfigMap or Secret into the
	// label-scoped cache of package cachescope. Builders set it on the
	// ConfigMaps and Secrets they create; cachescope sets it, with its own
	// field owner, on the external ConfigMaps and Secrets that a workload
	// references (for example a user-supplied TLS Secret), so that changing
	// them rolls the workload.
	LabelWatch = Prefix + "/watch"
	// LabelCanary, set to ValueTrue, marks the canary Deployment of a node
	// type whose first group is a Deployment, and its pods: it is added to
	// that Deployment's selector, so the canary's pods and ReplicaSets are
	// never the main Deployment's, and the runtime tells the canary from
	// the group's workload by it.
	LabelCanary = Prefix + "/canary"
)

// Field indexes that cachescope.SetupIndexes registers in a manager's cache.
const (
	// IndexOwnerUID indexes a child by its LabelOwnerUID label, so that the
	// children of one CR are looked up in the cache rather than found by
	// matching the label of every object of their kind in the namespace,
	// which grows with the number of CRs there.
	IndexOwnerUID = Prefix + "/owner-uid"
)

// Annotations on child objects.
const (
	// AnnotationConfigHash is set on the pod template of Deployments and
	// StatefulSets. Its value is the hash of the ConfigMaps and Secrets the pod
	// template consumes, so a change of a consumed value rolls the workload.
	AnnotationConfigHash = Prefix + "/config-hash"
	// AnnotationAppliedHash is set on every child. Its value is the hash of the
	// desired state last applied; together with a subset comparison against the
	// live object it decides whether an apply is needed at all.
	AnnotationAppliedHash = Prefix + "/applied-hash"
	// AnnotationAdopt is set by a human on an object the operator did not
	// create, to the name of the custom resource that may take it over. The
	// operator never writes an existing object that is not its own without
	// it: this is the way to hand an object made by hand, or by an earlier
	// operator, over to an opbuilder operator.
	AnnotationAdopt = Prefix + "/adopt"
	// AnnotationRestarted is set on a workload, and on its pod template, to
	// the value of the owner's AnnotationRestart it was last restarted for,
	// and AnnotationRestartedNodeType to that of the owner's annotation for
	// its node type alone. The workload's are the record; the template's
	// change is what restarts the pods.
	AnnotationRestarted = Prefix + "/restarted"
	// AnnotationReload is set on a ConfigMap or Secret (by the node type that
	// builds it, or by its owner) to the keys the application reloads by
	// itself, comma-separated, or to "*" for all of them. Those keys are
	// left out of the config hash: changing one updates the object and the
	// files in the pods' volumes, and restarts no pod.
	AnnotationReload            = Prefix + "/reload"
	AnnotationRestartedNodeType = Prefix + "/restarted-nodetype"
	// AnnotationCanaryRevision is set on the Deployment of a node type with
	// a canary, and on its canary Deployment and that one's pod template, to
	// the revision of the pod template it was written with: a hash of the
	// template the build function returned and of its config hash. A
	// rollout is due when the desired revision differs from the main
	// Deployment's; the canary's pods carry the revision they run.
	AnnotationCanaryRevision = Prefix + "/canary-revision"
)

// Annotations on the owning custom resource.
const (
	// AnnotationPauseRollout, set to ValueTrue, pauses ordered rollouts.
	AnnotationPauseRollout = Prefix + "/pause-rollout"
	// AnnotationReconcile, set to ValueDisabled, makes the operator skip the
	// custom resource entirely.
	AnnotationReconcile = Prefix + "/reconcile"
	// AnnotationForceRollout lists node types ("<node type>[,<node type>]")
	// whose workload changes are applied even while an earlier node type in
	// the deployment order is not rolled out: the escape hatch for a cluster
	// whose earlier node type cannot become healthy.
	AnnotationForceRollout = Prefix + "/force-rollout"
	// AnnotationRestart asks for a rolling restart of every node type, in the
	// deployment order: each new value (any token, a timestamp say)
	// restarts them once. AnnotationRestart + "." + <node type> does the
	// same for one node type.
	AnnotationRestart = Prefix + "/restart"
	// AnnotationApproveRollout + "." + <node type>, set to the revision a
	// node type's canary runs (a StatefulSet's update revision, or a
	// Deployment's AnnotationCanaryRevision; the node type's RolloutBlocked
	// condition names it), lets that rollout go on past its canary. A later
	// revision needs an approval of its own.
	AnnotationApproveRollout = Prefix + "/approve-rollout"
)

// Annotation values.
const (
	// ValueTrue is the value that switches a boolean annotation on.
	ValueTrue = "true"
	// ValueDisabled is the value of AnnotationReconcile that disables reconciling.
	ValueDisabled = "disabled"
)
