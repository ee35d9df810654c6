// Command opbuilder-testbin builds the control-plane binaries that envtest
// and runtime/testcluster run against, from the Go module proxy only: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok,
// plus the kwok stage definitions that make fake nodes Ready and move pods
// through their lifecycle.
//
// setup-envtest downloads prebuilt binaries from a bucket that is not
// reachable from every machine (and not at all offline); this command
// compiles them instead, so a machine with Go and a module proxy is enough.
//
// The binaries land in
//
//	${OPBUILDER_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/opbuilder}/assets/k8s-<v>_etcd-<v>_kwok-<v>
//
// A binary whose --version already matches is not rebuilt, so a second run
// takes seconds. Runs at once (parallel test jobs) serialise on a flock of
// ${cache_root}/.lock. The last line printed on stdout is
// KUBEBUILDER_ASSETS=<dir>, for
//
//	export $(go run github.com/opbuilder/opbuilder/runtime/cmd/opbuilder-testbin | tail -1)
//
// Versions come from flags, whose defaults are the K8S_VERSION,
// K8S_LIB_VERSION, ETCD_VERSION and KWOK_VERSION environment variables when
// set and this repository's hack/versions.env otherwise.
//
// The command uses the standard library only, so requiring the runtime
// module for it adds nothing to a project's build.
package main
