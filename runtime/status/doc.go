// Package status holds the status types that a custom resource managed by the
// opbuilder runtime embeds, and the interface such a resource implements.
//
// A CR embeds ClusterStatus inline in its status:
//
//	type DruidStatus struct {
//		status.ClusterStatus `json:",inline"`
//	}
//
// and implements Object by returning a pointer to it. The runtime then keeps
// the top-level conditions, the per-node-type status and the inventory of
// children up to date; the CR's own code never writes them.
package status
