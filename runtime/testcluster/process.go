package testcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is one control-plane component the cluster runs as a child.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid once done is closed
}

// run starts a binary from the assets directory with its output in a log
// file under the cluster's work dir.
func (c *Cluster) run(name string, args ...string) (*process, error) {
	bin := filepath.Join(c.AssetsDir, name)
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("testcluster: %s not found in %s (run `%s`): %w", name, c.AssetsDir, buildAssets, err)
	}
	p := &process{name: name, logPath: filepath.Join(c.dir, name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("testcluster: creating %s log: %w", name, err)
	}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = logFile
	p.cmd.Stderr = logFile
	// Own process group, so stop reaches anything the component forks, and a
	// parent-death signal, so a test binary that crashes takes it along.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("testcluster: starting %s: %w", name, err)
	}
	c.procs = append(c.procs, p)
	go func() {
		p.err = p.cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports, without blocking, whether the process has already ended,
// with the end of its log; used to fail fast while waiting for readiness.
func (p *process) exited() error {
	select {
	case <-p.done:
		status := p.err
		if status == nil {
			status = errors.New("exit status 0")
		}
		return fmt.Errorf("testcluster: %s exited early (%w); last output:\n%s", p.name, status, tail(p.logPath, 30))
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	if err := syscall.Kill(pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("testcluster: stopping %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("testcluster: killing %s: %w", p.name, err)
	}
	<-p.done
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	end := len(b)
	for i := len(b) - 1; i >= 0 && n >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n < 0 {
				return string(b[i+1 : end])
			}
		}
	}
	return string(b[:end])
}
