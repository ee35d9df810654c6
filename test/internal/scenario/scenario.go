package scenario

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Scenario is a scaffolded operator running against a local control plane,
// with one CR of its kind.
type Scenario struct {
	// Operator describes the scaffolded operator.
	Operator Operator
	// ProjectDir is the scaffolded project; its manager binary is
	// bin/manager and its CRDs are in config/crd/bases.
	ProjectDir string
	// WorkDir holds the operator's kubeconfig and log.
	WorkDir string
	// Cluster is the control plane.
	Cluster *Cluster
	// Identity is who the operator runs as.
	Identity *Identity
	// Process is the running operator; nil while it is stopped.
	Process *OperatorProcess
	// Instance is the CR.
	Instance *Instance
	// UID is the CR's UID once it was created.
	UID types.UID
	// Recorder watches the CR's workloads once it was created.
	Recorder *Recorder
	// WatchNamespace is the one namespace the operator serves, or empty
	// when it serves them all.
	WatchNamespace string
}

// Options configures Setup.
type Options struct {
	// ProjectDir is a scaffolded project on which `make build manifests`
	// has run. Required.
	ProjectDir string
	// AssetsDir holds the control-plane binaries (KUBEBUILDER_ASSETS).
	// Required.
	AssetsDir string
	// WorkDir receives the operator's kubeconfig and log. Required.
	WorkDir string
	// Nodes is the number of kwok nodes; default 3.
	Nodes int
	// Namespace is where the CR lives; default WatchNamespace, or
	// "default" when that is empty.
	Namespace string
	// WatchNamespace, when set, runs the operator namespace-scoped: it is
	// started with --watch-namespaces=<WatchNamespace>, and role.yaml's
	// rules are granted to it as Roles with RoleBindings in that namespace
	// only (CreateNamespacedOperatorIdentity), with no cluster-wide
	// binding at all. Empty runs it cluster-wide, bound to the ClusterRoles.
	WatchNamespace string
}

// OperatorNamespace and OperatorServiceAccount are where and as whom
// kubebuilder's config/default deploys a project named druid-operator; the
// scenario runs the operator under the same identity.
const (
	OperatorNamespace      = "druid-operator-system"
	OperatorServiceAccount = "druid-operator-controller-manager"
)

// Setup starts a control plane with the project's CRDs, makes the
// PersistentVolumes the node types with storage claim (kwok nodes have no
// storage provisioner), creates the operator's identity from the project's
// RBAC (cluster-wide, or in Options.WatchNamespace only), and starts the
// operator. Close undoes all of it.
func Setup(ctx context.Context, op Operator, o Options) (s *Scenario, err error) {
	if o.ProjectDir == "" || o.AssetsDir == "" || o.WorkDir == "" {
		return nil, errors.New("scenario: ProjectDir, AssetsDir and WorkDir are required")
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Namespace == "" {
		o.Namespace = cmp.Or(o.WatchNamespace, "default")
	}
	s = &Scenario{Operator: op, ProjectDir: o.ProjectDir, WorkDir: o.WorkDir, WatchNamespace: o.WatchNamespace}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()

	if s.Cluster, err = StartCluster(ctx, o.AssetsDir, o.Nodes, filepath.Join(o.ProjectDir, "config", "crd", "bases")); err != nil {
		return s, err
	}
	if err = s.Cluster.CreateVolumes(ctx, op); err != nil {
		return s, err
	}
	kubeconfig := filepath.Join(o.WorkDir, "operator.kubeconfig")
	if o.WatchNamespace != "" {
		s.Identity, err = s.Cluster.CreateNamespacedOperatorIdentity(ctx, o.ProjectDir, OperatorNamespace, OperatorServiceAccount,
			kubeconfig, o.WatchNamespace)
	} else {
		s.Identity, err = s.Cluster.CreateOperatorIdentity(ctx, o.ProjectDir, OperatorNamespace, OperatorServiceAccount, kubeconfig)
	}
	if err != nil {
		return s, err
	}
	s.Instance = &Instance{Cluster: s.Cluster, Operator: op, Namespace: o.Namespace}
	return s, s.StartOperator(ctx)
}

// ManagerBinary is the operator binary `make build` produced.
func (s *Scenario) ManagerBinary() string { return filepath.Join(s.ProjectDir, "bin", "manager") }

// OperatorLog is the file the operator's output goes to.
func (s *Scenario) OperatorLog() string { return filepath.Join(s.WorkDir, "operator.log") }

// StartOperator starts the operator, limited to WatchNamespace when it is
// set, and waits until its metrics endpoint serves, which happens once its
// manager has started.
func (s *Scenario) StartOperator(ctx context.Context) error {
	if s.Process != nil {
		return errors.New("scenario: the operator is already running")
	}
	var flags []string
	if s.WatchNamespace != "" {
		flags = append(flags, "--watch-namespaces="+s.WatchNamespace)
	}
	p, err := StartOperator(s.ManagerBinary(), s.Identity.Kubeconfig, s.OperatorLog(), flags...)
	if err != nil {
		return err
	}
	s.Process = p
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := p.Reconciles(ctx)
		if err == nil {
			return nil
		}
		if exited := p.Exited(); exited != nil {
			s.Process = nil
			return exited
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the operator did not start serving metrics within 2 minutes: %w; its log ends:\n%s", err, p.LogTail(30))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// StopOperator stops the operator as a Pod's termination would.
func (s *Scenario) StopOperator() error {
	if s.Process == nil {
		return nil
	}
	err := s.Process.Stop(30 * time.Second)
	s.Process = nil
	return err
}

// Close stops the recorder, the operator and the control plane.
func (s *Scenario) Close() error {
	var errs []error
	if s.Recorder != nil {
		s.Recorder.Stop()
		s.Recorder = nil
	}
	errs = append(errs, s.StopOperator())
	if s.Cluster != nil {
		errs = append(errs, s.Cluster.Stop())
		s.Cluster = nil
	}
	return errors.Join(errs...)
}

// volumesPerNodeType is how many PersistentVolumes CreateVolumes makes per
// node type with storage: enough for every group of the sample and a few
// replicas more.
const volumesPerNodeType = 6

// CreateVolumes makes PersistentVolumes for the node types with storage, as
// a cluster administrator would where no provisioner exists: the claims of
// their StatefulSets bind to them, so that the scheduler places the pods.
func (c *Cluster) CreateVolumes(ctx context.Context, op Operator) error {
	for _, n := range op.NodeTypes {
		if n.Storage == "" {
			continue
		}
		size, err := resource.ParseQuantity(n.Storage)
		if err != nil {
			return fmt.Errorf("node type %s: storage %q: %w", n.Name, n.Storage, err)
		}
		for i := range volumesPerNodeType {
			pv := &corev1.PersistentVolume{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-data-%d", n.Name, i)},
				Spec: corev1.PersistentVolumeSpec{
					Capacity:    corev1.ResourceList{corev1.ResourceStorage: size},
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					PersistentVolumeSource: corev1.PersistentVolumeSource{
						HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/" + n.Name + "/" + fmt.Sprint(i)},
					},
					PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
				},
			}
			if _, err := c.Kube.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating PersistentVolume %s: %w", pv.Name, err)
			}
		}
	}
	return nil
}
