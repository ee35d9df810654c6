// Package testcluster starts a real Kubernetes control plane for tests: etcd
// and kube-apiserver through controller-runtime's envtest, and on request
// kube-controller-manager (ReplicaSets, ControllerRevisions, garbage
// collection), kube-scheduler and kwok with fake nodes (pods get scheduled
// and become Running and Ready).
//
// The binaries are found through KUBEBUILDER_ASSETS. The runtime's
// opbuilder-testbin command builds them from the Go module proxy, and
//
//	export $(go run github.com/opbuilder/opbuilder/runtime/cmd/opbuilder-testbin | tail -1)
//
// sets the variable (in this repository, `make test-binaries` runs it).
// Every process the cluster starts listens on a port the kernel picks or on
// none, and Stop ends all of them; the processes also die with the test
// binary (Pdeathsig), so a crashed test leaves no orphans.
//
// The package is exported so that operators scaffolded by opbuilder can use
// the same control plane in their own tests.
package testcluster
