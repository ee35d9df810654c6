// Package podtemplate merges a user's pod template override over the pod
// template an operator builds, so that users of a data-system CR can add
// sidecars, init containers, volumes, affinity, tolerations, security
// contexts and the like without the operator's code knowing each field.
//
// The merge is Kubernetes' strategic merge patch, the semantics of
// `kubectl patch --type strategic`: lists with a merge key (containers,
// initContainers, volumes, env, volumeMounts, a container's ports by
// containerPort, imagePullSecrets, topologySpreadConstraints…) are merged
// item by item, maps are merged key by key, and every other field the
// override sets replaces the built one. Labels the operator selects pods by
// always keep their built values, so an override cannot detach pods from
// their workload, Services or PodDisruptionBudget.
//
// ConfigMaps and Secrets the override mounts or reads become part of the
// merged template like any others, so runtime/builder hashes, watches and
// rolls them exactly as it does the operator's own.
package podtemplate
