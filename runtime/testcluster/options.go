package testcluster

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// Option configures Start.
type Option func(*options)

type options struct {
	controllerManager bool
	scheduler         bool
	kwokNodes         int
	kwokStages        []string
	crdPaths          []string
	scheme            *runtime.Scheme
	assetsDir         string
	auditLog          bool
	serviceIPRange    string
	kcmFlags          []string
	volumeProvisioner bool
}

// WithControllerManager runs kube-controller-manager, so Deployments create
// ReplicaSets, StatefulSets create ControllerRevisions and owner-reference
// garbage collection runs.
func WithControllerManager() Option {
	return func(o *options) { o.controllerManager = true }
}

// WithKwokNodes runs kube-scheduler and kwok with n fake nodes, so pods are
// scheduled and become Running and Ready. It implies WithControllerManager,
// because pods only exist when a controller makes them.
func WithKwokNodes(n int) Option {
	return func(o *options) {
		o.kwokNodes = n
		o.scheduler = true
		o.controllerManager = true
	}
}

// WithKwokStages replaces kwok's default stage set (node-initialize,
// node-heartbeat, pod-ready, pod-complete, pod-delete) with the given Stage
// YAML files. Use DefaultKwokStages to extend rather than replace the set, for
// example with a stage that keeps some pods unready.
func WithKwokStages(files ...string) Option {
	return func(o *options) { o.kwokStages = append(o.kwokStages, files...) }
}

// WithCRDs installs the CustomResourceDefinitions found in the given files or
// directories before Start returns.
func WithCRDs(paths ...string) Option {
	return func(o *options) { o.crdPaths = append(o.crdPaths, paths...) }
}

// WithScheme sets the scheme of Cluster.Client; the default is client-go's
// scheme.
func WithScheme(s *runtime.Scheme) Option {
	return func(o *options) { o.scheme = s }
}

// WithAssetsDir sets where the control-plane binaries are; the default is
// $KUBEBUILDER_ASSETS.
func WithAssetsDir(dir string) Option {
	return func(o *options) { o.assetsDir = dir }
}

// WithAuditLog makes kube-apiserver write an audit log: one JSON line per
// finished request, at metadata level (who, which verb, which object, the
// response code; never a request or response body). Read it with
// Cluster.AuditEvents, for example to count the write requests one client
// made. The apiserver_request_total metric cannot tell clients apart; the
// audit log can.
func WithAuditLog() Option {
	return func(o *options) { o.auditLog = true }
}

// WithServiceIPRange sets kube-apiserver's --service-cluster-ip-range, for
// tests that create more Services than envtest's default range
// (10.0.0.0/24, about 250 Services) holds; for example "10.96.0.0/16".
func WithServiceIPRange(cidr string) Option {
	return func(o *options) { o.serviceIPRange = cidr }
}

// WithControllerManagerFlags appends flags to kube-controller-manager's
// command line, for example "--kube-api-qps=500" when a test creates
// hundreds of workloads and the default client rate limit (20 requests per
// second) would dominate what it measures. It implies
// WithControllerManager.
func WithControllerManagerFlags(flags ...string) Option {
	return func(o *options) {
		o.controllerManager = true
		o.kcmFlags = append(o.kcmFlags, flags...)
	}
}

// WithVolumeProvisioner makes a PersistentVolume for every claim that waits
// for one, as a cluster's storage provisioner would, so that StatefulSets
// with volumeClaimTemplates get their pods scheduled on kwok nodes, which
// have no storage of their own. It implies WithControllerManager, whose
// volume binder binds each claim to its volume.
func WithVolumeProvisioner() Option {
	return func(o *options) {
		o.volumeProvisioner = true
		o.controllerManager = true
	}
}
