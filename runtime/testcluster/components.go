package testcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// startupTimeout bounds how long a component may take to become usable; on a
// loaded 2-core machine the controller manager needs tens of seconds.
const startupTimeout = 3 * time.Minute

// KwokNodeAnnotation marks the nodes that the cluster's kwok manages.
const KwokNodeAnnotation = "kwok.x-k8s.io/node"

func (c *Cluster) startControllerManager(ctx context.Context, extra []string) error {
	args := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
		"--use-service-account-credentials=false",
		// Fast garbage collection and workload controllers for tests.
		"--concurrent-gc-syncs=5",
		"--controllers=*",
	}
	p, err := c.run("kube-controller-manager", append(args, extra...)...)
	if err != nil {
		return err
	}
	// The ServiceAccount controller creating "default" is a cheap, visible
	// sign that the controller manager is running its controllers.
	return c.waitFor(ctx, p, "the default ServiceAccount", func(ctx context.Context) (bool, error) {
		err := c.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "default"}, &corev1.ServiceAccount{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
}

func (c *Cluster) startScheduler() error {
	_, err := c.run("kube-scheduler",
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig,
		"--authorization-kubeconfig="+c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	)
	return err
}

// DefaultKwokStages returns the stage files of kwok's default set from the
// assets directory, so a test can pass them with extra stages of its own.
func DefaultKwokStages(assetsDir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(assetsDir, "kwok-stages", "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("testcluster: listing kwok stages: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("testcluster: no kwok stages in %s/kwok-stages (run `%s`)", assetsDir, buildAssets)
	}
	return files, nil
}

func (c *Cluster) startKwok(ctx context.Context, stages []string, nodes int) error {
	if len(stages) == 0 {
		var err error
		if stages, err = DefaultKwokStages(c.AssetsDir); err != nil {
			return err
		}
	}
	args := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + KwokNodeAnnotation + "=fake",
		"--node-lease-duration-seconds=0",
		"--cidr=10.244.0.0/16",
		"--node-ip=10.0.0.1",
		"--server-address=127.0.0.1:0",
	}
	// kwok reads ~/.kwok/kwok.yaml unless told otherwise; an empty config
	// file first keeps the user's settings out of tests.
	empty := filepath.Join(c.dir, "kwok.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return fmt.Errorf("testcluster: writing kwok config: %w", err)
	}
	args = append(args, "--config="+empty)
	for _, s := range stages {
		args = append(args, "--config="+s)
	}
	p, err := c.run("kwok", args...)
	if err != nil {
		return err
	}
	for i := range nodes {
		if err := c.Client.Create(ctx, kwokNode(fmt.Sprintf("kwok-node-%d", i))); err != nil {
			return fmt.Errorf("testcluster: creating kwok node: %w", err)
		}
	}
	return c.waitFor(ctx, p, fmt.Sprintf("%d Ready kwok nodes", nodes), func(ctx context.Context) (bool, error) {
		var list corev1.NodeList
		if err := c.Client.List(ctx, &list); err != nil {
			return false, err
		}
		ready := 0
		for _, n := range list.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= nodes, nil
	})
}

// kwokNode is a fake node with room for plenty of pods and no taints, so
// ordinary workloads schedule onto it.
func kwokNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{KwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"type": "kwok", corev1.LabelHostname: name},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

// waitFor polls cond until it holds, failing fast if p exits first.
func (c *Cluster) waitFor(ctx context.Context, p *process, what string, cond wait.ConditionWithContextFunc) error {
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, startupTimeout, true, func(ctx context.Context) (bool, error) {
		if err := p.exited(); err != nil {
			return false, err
		}
		ok, err := cond(ctx)
		if err != nil {
			return false, nil //nolint:nilerr // transient while the component starts; keep polling
		}
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("testcluster: waiting for %s: %w; %s output:\n%s", what, err, p.name, tail(p.logPath, 30))
	}
	return nil
}
