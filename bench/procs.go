package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// operatorProc is one running operator process and its control API.
type operatorProc struct {
	approach string
	base     string
	logPath  string
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	http     *http.Client
}

// startOperator starts an operator process for approach and waits until its
// cache has synced. namespaces empty means cluster-wide.
func (d *driver) startOperator(ctx context.Context, approach, tag string, namespaces []string, scoped bool) (*operatorProc, error) {
	logPath := d.workDirFile(fmt.Sprintf("operator-%s-%s.log", approach, tag))
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("operator log: %w", err)
	}
	args := []string{"operator",
		"-approach=" + approach,
		"-kubeconfig=" + d.cluster.Kubeconfig,
		"-namespaces=" + strings.Join(namespaces, ","),
		"-scoped=" + strconv.FormatBool(scoped),
	}
	cmd := exec.Command(d.opts.Binary, args...) //nolint:gosec // our own binary with our own arguments
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("operator stdout: %w", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start operator %s: %w", approach, err)
	}
	p := &operatorProc{approach: approach, logPath: logPath, cmd: cmd, done: make(chan struct{}),
		http: &http.Client{Timeout: 10 * time.Minute}}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, ListenPrefix) {
				lines <- strings.TrimPrefix(line, ListenPrefix)
			}
		}
	}()
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	select {
	case p.base = <-lines:
	case <-p.done:
		return nil, fmt.Errorf("operator %s exited early (%w); see %s", approach, p.waitErr, logPath)
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, fmt.Errorf("operator %s did not announce its control API; see %s", approach, logPath)
	}
	ready := poll(ctx, 100*time.Millisecond, 3*time.Minute, func(ctx context.Context) (bool, error) {
		select {
		case <-p.done:
			return false, errors.New("exited")
		default:
		}
		return p.get(ctx, "/ready", nil) == nil, nil
	})
	if !ready {
		p.stop()
		return nil, fmt.Errorf("operator %s did not become ready; see %s", approach, logPath)
	}
	return p, nil
}

// stop ends the process (SIGTERM, then SIGKILL after 10 s).
func (p *operatorProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (d *driver) stopOperators() {
	for name, p := range d.operators {
		p.stop()
		delete(d.operators, name)
	}
}

func (p *operatorProc) get(ctx context.Context, path string, into any) error {
	return p.call(ctx, http.MethodGet, path, into)
}

func (p *operatorProc) call(ctx context.Context, method, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("operator %s %s: %w", p.approach, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("operator %s %s: %w", p.approach, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("operator %s %s: %s: %s", p.approach, path, resp.Status, bytes.TrimSpace(body))
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("operator %s %s: decode: %w", p.approach, path, err)
	}
	return nil
}

func (p *operatorProc) stats(ctx context.Context) (OperatorStats, error) {
	var s OperatorStats
	err := p.get(ctx, "/stats", &s)
	return s, err
}

func (p *operatorProc) reset(ctx context.Context) error {
	return p.call(ctx, http.MethodPost, "/reset", nil)
}

func (p *operatorProc) mem(ctx context.Context) (MemStats, error) {
	var m MemStats
	err := p.get(ctx, "/mem", &m)
	return m, err
}

func (p *operatorProc) noop(ctx context.Context, namespace, name string, n int, profile string) (NoopResult, error) {
	q := url.Values{"namespace": {namespace}, "name": {name}, "n": {strconv.Itoa(n)}}
	if profile != "" {
		q.Set("profile", profile)
	}
	var r NoopResult
	err := p.call(ctx, http.MethodPost, "/noop?"+q.Encode(), &r)
	return r, err
}
