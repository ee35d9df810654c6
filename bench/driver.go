package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/opbuilder/opbuilder/bench/internal/testapi/crd"
	testapiv1 "github.com/opbuilder/opbuilder/bench/internal/testapi/v1"
	"github.com/opbuilder/opbuilder/runtime/testcluster"
)

// Options configure a benchmark run.
type Options struct {
	// Quick uses small sizes for a fast check of the whole pipeline.
	Quick bool
	// Approaches limits the run to these approaches; empty means all.
	Approaches []string
	// Skip names phases not to run: memory, steady, edits, cpu, drift, scale.
	Skip []string
	// Binary is the opbench executable, started again for each operator.
	Binary string
	// WorkDir keeps operator logs and profiles; a temporary one is made
	// (and kept, for inspection) when empty.
	WorkDir string
	// Command is the command that reproduces the run, for the report.
	Command string
	// Log receives progress lines.
	Log io.Writer
}

// Sizes are the sizes of one run.
type Sizes struct {
	NodeTypes         []int         `json:"nodeTypes"`
	Edits             int           `json:"edits"`
	EditInterval      time.Duration `json:"editInterval"`
	Idle              time.Duration `json:"idle"`
	NoopIterations    int           `json:"noopIterations"`
	ProfileIterations int           `json:"profileIterations"`
	// ManyReplicas is the replicas of every workload of one more Cluster
	// of ManyReplicasNodeTypes node types, which the config changes are
	// also measured on: status writes must not grow with replicas.
	ManyReplicas          int32 `json:"manyReplicas"`
	ManyReplicasNodeTypes int   `json:"manyReplicasNodeTypes"`
	ScaleCRs              int   `json:"scaleCRs"`
	ScaleNodeTypes        int   `json:"scaleNodeTypes"`
	// LargeScaleCRs Clusters are created, after ScaleCRs, by the
	// LargeScaleApproaches only: the reference and what scaffolded
	// operators run.
	LargeScaleCRs        int           `json:"largeScaleCRs"`
	LargeScaleApproaches []string      `json:"largeScaleApproaches"`
	LargeScaleTimeout    time.Duration `json:"largeScaleTimeout"`
	MemObjects           int           `json:"memObjects"`
	MemObjectBytes       int           `json:"memObjectBytes"`
	ScaleTimeout         time.Duration `json:"scaleTimeout"`
	DriftTimeout         time.Duration `json:"driftTimeout"`
	PruneTimeout         time.Duration `json:"pruneTimeout"`
	// DriftSamples is how many times each hand edit is made and reverted,
	// for a median latency; an approach that does not revert one is not
	// asked again.
	DriftSamples int `json:"driftSamples"`
}

// FullSizes are the sizes the issue asks for.
func FullSizes() Sizes {
	return Sizes{
		NodeTypes: []int{1, 4, 16}, Edits: 10, EditInterval: 2500 * time.Millisecond,
		Idle: 60 * time.Second, NoopIterations: 100, ProfileIterations: 1500,
		ManyReplicas: 10, ManyReplicasNodeTypes: 4,
		ScaleCRs: 200, ScaleNodeTypes: 4, ScaleTimeout: 150 * time.Second, MemObjects: 10000, MemObjectBytes: 10 * 1024,
		LargeScaleCRs: 1000, LargeScaleApproaches: []string{largeScaleReference, "orchestrate"}, LargeScaleTimeout: 10 * time.Minute,
		DriftTimeout: 13 * time.Second, PruneTimeout: 13 * time.Second, DriftSamples: 7,
	}
}

// QuickSizes are small sizes for iterating on the benchmark itself.
func QuickSizes() Sizes {
	return Sizes{
		NodeTypes: []int{1, 4, 16}, Edits: 3, EditInterval: 2 * time.Second,
		Idle: 10 * time.Second, NoopIterations: 30, ProfileIterations: 200,
		ManyReplicas: 10, ManyReplicasNodeTypes: 4,
		ScaleCRs: 20, ScaleNodeTypes: 4, ScaleTimeout: time.Minute, MemObjects: 1000, MemObjectBytes: 10 * 1024,
		LargeScaleCRs: 100, LargeScaleApproaches: []string{largeScaleReference, "orchestrate"}, LargeScaleTimeout: 3 * time.Minute,
		DriftTimeout: 13 * time.Second, PruneTimeout: 13 * time.Second, DriftSamples: 3,
	}
}

// driver runs the phases against one control plane.
type driver struct {
	opts       Options
	sizes      Sizes
	approaches []Approach
	cluster    *testcluster.Cluster
	client     client.Client
	kube       *kubernetes.Clientset
	counter    *testcluster.RequestCounter // the driver's own requests
	workDir    string
	report     *Report
	operators  map[string]*operatorProc
}

// Run starts a control plane, runs every phase and returns the report.
// Phases that fail are recorded in the report's notes; only a failure to
// set up the run at all is returned as an error.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Binary == "" {
		return nil, errors.New("bench: Options.Binary (the opbench executable) is required")
	}
	sizes := FullSizes()
	if opts.Quick {
		sizes = QuickSizes()
	}
	approaches, err := selectApproaches(opts.Approaches)
	if err != nil {
		return nil, err
	}
	workDir := opts.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "opbench-"); err != nil {
			return nil, fmt.Errorf("bench: work dir: %w", err)
		}
	}
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: work dir: %w", err)
	}
	d := &driver{
		opts: opts, sizes: sizes, approaches: approaches, workDir: workDir,
		counter: testcluster.NewRequestCounter(), operators: map[string]*operatorProc{},
		report: newReport(opts, sizes, approaches),
	}
	d.logf("work dir %s", workDir)
	if err := d.startCluster(ctx); err != nil {
		return nil, err
	}
	defer func() {
		d.stopOperators()
		if err := d.cluster.Stop(); err != nil {
			d.logf("stopping the control plane: %v", err)
		}
	}()
	started := time.Now()
	d.runPhase(ctx, "memory", d.memoryPhase)
	d.runPhase(ctx, "steady", d.steadyPhase)
	for _, a := range d.approaches {
		d.runPhase(ctx, "edits", func(ctx context.Context) error { return d.editPhase(ctx, a) })
		d.runPhase(ctx, "cpu", func(ctx context.Context) error { return d.cpuPhase(ctx, a) })
	}
	d.runPhase(ctx, "drift", d.driftPhase)
	d.runPhase(ctx, "scale", d.scalePhase)
	d.stopOperators()
	if err := d.crossCheck(); err != nil {
		d.note("cross-check against the audit log: %v", err)
	}
	d.report.Duration = time.Since(started)
	return d.report, nil
}

func selectApproaches(names []string) ([]Approach, error) {
	all := Approaches()
	if len(names) == 0 {
		return all, nil
	}
	var out []Approach
	for _, n := range names {
		a, err := ApproachByName(n)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (d *driver) runPhase(ctx context.Context, name string, phase func(context.Context) error) {
	if slices.Contains(d.opts.Skip, name) || ctx.Err() != nil {
		return
	}
	t0 := time.Now()
	if err := phase(ctx); err != nil {
		d.note("phase %s: %v", name, err)
	}
	d.logf("phase %s done in %s", name, time.Since(t0).Round(100*time.Millisecond))
}

func (d *driver) logf(format string, args ...any) {
	_, _ = fmt.Fprintf(d.opts.Log, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// note records a problem of the run in the report and the log.
func (d *driver) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.report.Notes = append(d.report.Notes, msg)
	d.logf("NOTE: %s", msg)
}

func (d *driver) startCluster(ctx context.Context) error {
	scheme, err := NewScheme()
	if err != nil {
		return err
	}
	d.logf("starting the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)")
	t0 := time.Now()
	c, err := testcluster.Start(ctx,
		testcluster.WithKwokNodes(2),
		testcluster.WithCRDs(crd.Dir()),
		testcluster.WithScheme(scheme),
		testcluster.WithAuditLog(),
		// Six approaches × (21 + 800) Services do not fit envtest's /24.
		testcluster.WithServiceIPRange("10.96.0.0/16"),
		// kube-controller-manager's default 20 requests per second would make
		// its own rate limit, not the operators, the figure of the scale phase.
		testcluster.WithControllerManagerFlags("--kube-api-qps=500", "--kube-api-burst=1000"),
	)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	d.cluster = c
	d.logf("control plane up in %s", time.Since(t0).Round(100*time.Millisecond))
	cfg := d.counter.Wrap(c.Config)
	cfg.QPS = -1
	cfg.UserAgent = "opbench-driver"
	if d.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("bench: driver client: %w", err)
	}
	if d.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return fmt.Errorf("bench: driver clientset: %w", err)
	}
	if v, err := d.kube.Discovery().ServerVersion(); err == nil {
		d.report.Machine.Kubernetes = v.GitVersion
	}
	return nil
}

// ensureNamespace creates a namespace if it does not exist.
func (d *driver) ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := d.client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// updateCluster reads a Cluster, changes it with mutate and writes it back,
// retrying on conflicts. It returns the time just before the successful
// write was sent.
func (d *driver) updateCluster(ctx context.Context, namespace, name string, mutate func(*testapiv1.Cluster)) (time.Time, error) {
	var sent time.Time
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cr := &testapiv1.Cluster{}
		if err := d.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, cr); err != nil {
			return err
		}
		mutate(cr)
		sent = time.Now()
		return d.client.Update(ctx, cr)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("update cluster %s/%s: %w", namespace, name, err)
	}
	return sent, nil
}

// setConfig sets the "edit" config value of a node type of a Cluster.
func (d *driver) setConfig(ctx context.Context, namespace, name, nodeType, value string) (time.Time, error) {
	return d.updateCluster(ctx, namespace, name, func(cr *testapiv1.Cluster) {
		for i := range cr.Spec.NodeTypes {
			if cr.Spec.NodeTypes[i].Name == nodeType {
				cr.Spec.NodeTypes[i].Config["edit"] = value
			}
		}
	})
}

// poll calls cond every interval until it is true or timeout passes; it
// reports whether cond became true. Errors from cond count as false.
func poll(ctx context.Context, interval, timeout time.Duration, cond func(context.Context) (bool, error)) bool {
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			return false, nil //nolint:nilerr // transient read errors: keep polling
		}
		return ok, nil
	})
	return err == nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// workDirFile is a path in the run's work dir.
func (d *driver) workDirFile(name string) string { return filepath.Join(d.workDir, name) }
