// Package bench measures what reconciling the children of a custom resource
// costs the API server and the operator, for opbuilder's runtime and for the
// usual alternatives, side by side in one run against a real control plane
// (runtime/testcluster with kube-controller-manager, kube-scheduler and kwok
// nodes).
//
// Every approach reconciles the same node types of the test CRD
// (internal/testapi, a copy of the runtime's): per node type a ConfigMap, a
// Deployment, a Service and a PodDisruptionBudget. The approaches are
//
//   - cou-full: controllerutil.CreateOrUpdate whose mutate function assigns
//     the whole desired spec, the way most kubebuilder operators are written;
//   - cou-careful: controllerutil.CreateOrUpdate setting only the fields the
//     operator owns;
//   - ssa-always: a server-side apply of every child on every reconcile;
//   - seed: the pattern of the library opbuilder started from (a hash of the
//     desired object in an annotation deciding a full PUT, a fresh in-memory
//     store per reconcile with a list per kind for pruning, children not
//     watched, RequeueAfter 10s);
//   - opbuilder: runtime/builder with runtime/store and the label-scoped cache
//     of runtime/cachescope;
//   - orchestrate: runtime/orchestrate, when it is available.
//
// Each approach runs as a real controller-runtime manager in its own
// process (the opbench binary started again with the "operator" command),
// so that its requests, reconciles, CPU time and memory are its own. The
// driver talks to it over a small HTTP control API on the loopback interface.
//
// This is a benchmark, not a test: nothing fails on a time. The command
// `make bench` runs it and writes BENCHMARKS.md at the repository root.
package bench
