package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// adminUser is the user every component and test client acts as. Membership
// of system:masters bypasses RBAC, which the components' own roles would
// otherwise need bootstrapping for.
// buildAssets is the command that builds the binaries a Cluster runs, named in
// errors about missing ones.
const buildAssets = "go run github.com/opbuilder/opbuilder/runtime/cmd/opbuilder-testbin"

var adminUser = envtest.User{Name: "opbuilder-admin", Groups: []string{"system:masters"}}

// Cluster is a running control plane. Create it with Start and always Stop it.
type Cluster struct {
	// Config is an admin (system:masters) REST config for the API server.
	Config *rest.Config
	// Client is an uncached client on Config.
	Client client.Client
	// Kubeconfig is the path of an admin kubeconfig file for Config; kubectl
	// and the started components use it.
	Kubeconfig string
	// AssetsDir is the directory the binaries were taken from.
	AssetsDir string
	// AuditLogPath is the kube-apiserver audit log when WithAuditLog was
	// given, otherwise "". Read it with AuditEvents.
	AuditLogPath string

	env   *envtest.Environment
	dir   string
	procs []*process
	// stopProvisioner stops the volume provisioner; nil when none runs.
	stopProvisioner func()
}

// Start starts a control plane as the options ask and waits until it is
// usable: the API server serves, the CRDs are established, the controller
// manager has created the default ServiceAccount, and every kwok node is
// Ready. If any part fails to start, everything already started is stopped.
func Start(ctx context.Context, opts ...Option) (*Cluster, error) {
	o := options{assetsDir: os.Getenv("KUBEBUILDER_ASSETS")}
	for _, opt := range opts {
		opt(&o)
	}
	if o.assetsDir == "" {
		return nil, errors.New("testcluster: KUBEBUILDER_ASSETS is not set; run `export $(" + buildAssets + " | tail -1)` first")
	}
	if o.scheme == nil {
		o.scheme = scheme.Scheme
	}

	dir, err := os.MkdirTemp("", "opbuilder-testcluster-")
	if err != nil {
		return nil, fmt.Errorf("testcluster: creating work dir: %w", err)
	}
	c := &Cluster{AssetsDir: o.assetsDir, dir: dir}
	if err := c.start(ctx, &o); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, o *options) error {
	c.env = &envtest.Environment{
		BinaryAssetsDirectory: o.assetsDir,
		CRDDirectoryPaths:     o.crdPaths,
		ErrorIfCRDPathMissing: true,
		Scheme:                o.scheme,
	}
	if o.auditLog {
		if err := c.configureAuditLog(); err != nil {
			return err
		}
	}
	if o.serviceIPRange != "" {
		c.env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", o.serviceIPRange)
	}
	if _, err := c.env.Start(); err != nil {
		c.env = nil
		return fmt.Errorf("testcluster: starting etcd and kube-apiserver: %w", err)
	}
	user, err := c.env.AddUser(adminUser, nil)
	if err != nil {
		return fmt.Errorf("testcluster: adding admin user: %w", err)
	}
	c.Config = user.Config()
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("testcluster: rendering kubeconfig: %w", err)
	}
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("testcluster: writing kubeconfig: %w", err)
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: o.scheme}); err != nil {
		return fmt.Errorf("testcluster: creating client: %w", err)
	}

	if o.controllerManager {
		if err := c.startControllerManager(ctx, o.kcmFlags); err != nil {
			return err
		}
	}
	if o.scheduler {
		if err := c.startScheduler(); err != nil {
			return err
		}
	}
	if o.kwokNodes > 0 {
		if err := c.startKwok(ctx, o.kwokStages, o.kwokNodes); err != nil {
			return err
		}
	}
	if o.volumeProvisioner {
		c.startVolumeProvisioner()
	}
	return nil
}

// Stop stops every process the cluster started, newest first, and removes
// its work directory. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	if c.stopProvisioner != nil {
		c.stopProvisioner()
		c.stopProvisioner = nil
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		if err := c.procs[i].stop(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	c.procs = nil
	if c.env != nil {
		if err := c.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("testcluster: stopping etcd and kube-apiserver: %w", err))
		}
		c.env = nil
	}
	if c.dir != "" {
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("testcluster: removing work dir: %w", err))
		}
		c.dir = ""
	}
	return errors.Join(errs...)
}

// Logs returns the combined output of a component started by the cluster
// ("kube-controller-manager", "kube-scheduler" or "kwok"), for failure
// messages. It returns "" for a component that was not started.
func (c *Cluster) Logs(component string) string {
	for _, p := range c.procs {
		if p.name == component {
			b, err := os.ReadFile(p.logPath)
			if err != nil {
				return fmt.Sprintf("<reading %s log: %v>", component, err)
			}
			return string(b)
		}
	}
	return ""
}
