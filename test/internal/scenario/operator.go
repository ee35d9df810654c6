package scenario

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// OperatorProcess is the scaffolded operator's manager binary, running
// against the cluster as a child process.
type OperatorProcess struct {
	// LogPath is the file its output goes to; restarts append to it.
	LogPath string
	// MetricsURL is its Prometheus metrics endpoint (plain HTTP on
	// loopback).
	MetricsURL string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartOperator starts the manager binary with the given kubeconfig. Its
// metrics are served on a free loopback port without TLS, so that the
// scenario can read how many reconciles it ran; health probes are off, so
// that several operators may run on one machine. flags are passed after
// those, such as --watch-namespaces for an operator that serves some
// namespaces only.
func StartOperator(binary, kubeconfig, logPath string, flags ...string) (*OperatorProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the operator log: %w", err)
	}
	_, _ = fmt.Fprintf(logFile, "\n==== operator started at %s ====\n", time.Now().Format(time.RFC3339))

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	p := &OperatorProcess{
		LogPath:    logPath,
		MetricsURL: "http://" + addr + "/metrics",
		done:       make(chan struct{}),
	}
	args := append([]string{
		"--metrics-bind-address=" + addr,
		"--metrics-secure=false",
		"--health-probe-bind-address=0",
		"--leader-elect=false",
	}, flags...)
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = mergeEnv(os.Environ(), []string{"KUBECONFIG=" + kubeconfig})
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("starting the operator: %w", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Exited returns an error saying so when the operator has exited, nil while
// it runs.
func (p *OperatorProcess) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("the operator exited (%w); its log ends:\n%s", exitErr(p.err), p.LogTail(30))
	default:
		return nil
	}
}

// Stop asks the operator to shut down (SIGTERM), as a Pod's termination
// would, and kills it after grace. It is safe to call more than once.
func (p *OperatorProcess) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping the operator: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing the operator: %w", err)
	}
	<-p.done
	return nil
}

// LogTail returns the last n lines of the operator's log.
func (p *OperatorProcess) LogTail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("<reading the operator log: %v>", err)
	}
	return lastLines(string(b), n)
}

// Reconciles returns controller_runtime_reconcile_total summed over results
// (success, error, requeue): how many reconciles the operator has finished
// since it started. An error means the metrics endpoint is not serving (yet).
func (p *OperatorProcess) Reconciles(ctx context.Context) (float64, error) {
	families, err := p.metrics(ctx)
	if err != nil {
		return 0, err
	}
	fam, ok := families["controller_runtime_reconcile_total"]
	if !ok {
		return 0, errors.New("the operator's metrics have no controller_runtime_reconcile_total yet")
	}
	total := 0.0
	for _, m := range fam.GetMetric() {
		total += m.GetCounter().GetValue()
	}
	return total, nil
}

// NodeTypeStates returns, from the runtime's opbuilder_node_type_state
// metric, the state each node type of the CR name is in, by node type.
func (p *OperatorProcess) NodeTypeStates(ctx context.Context, name string) (map[string]string, error) {
	families, err := p.metrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range families["opbuilder_node_type_state"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["name"] == name && m.GetGauge().GetValue() == 1 {
			out[labels["node_type"]] = labels["state"]
		}
	}
	return out, nil
}

// metrics reads and parses the operator's metrics endpoint.
func (p *OperatorProcess) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	if err := p.Exited(); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.MetricsURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the operator's metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the operator's metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing the operator's metrics: %w", err)
	}
	return families, nil
}

// exitErr describes a clean exit, which carries no error, as one.
func exitErr(err error) error {
	if err == nil {
		return errors.New("exit status 0")
	}
	return err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
