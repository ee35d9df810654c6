// Package v1 is a small custom resource, Cluster in group test.opbuilder.io,
// that owns the children every approach of the benchmark reconciles. It
// mirrors what a scaffolded data-system CR looks like: shared settings, a
// deployment order, node types with groups, and a status that embeds the
// runtime's ClusterStatus.
//
// It is the benchmark's copy of the runtime's test resource
// (runtime/internal/testapi, which Go's internal rule keeps from other
// modules): the benchmark can change its model without touching the
// runtime's test fixtures, and the runtime exports no fixture for it.
package v1
