// Package v1 is a small custom resource, Cluster in group test.opbuilder.io,
// that the runtime's own tests use as the owner of the children they
// reconcile. It mirrors what a scaffolded data-system CR looks like: shared
// settings, a deployment order, node types with groups, and a status that
// embeds the runtime's ClusterStatus.
package v1
