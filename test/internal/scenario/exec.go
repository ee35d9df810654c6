package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Command is one command line of the scenario, such as a kubebuilder call.
type Command struct {
	// Dir is the working directory.
	Dir string
	// Name is the program, a path or a name looked up in PATH.
	Name string
	// Args are the arguments.
	Args []string
	// Env is added to the Runner's environment.
	Env []string
}

// String renders the command the way a user would type it, with the program
// reduced to its base name, e.g. "kubebuilder-opbuilder init --domain ...".
func (c Command) String() string {
	parts := []string{baseName(c.Name)}
	for _, a := range c.Args {
		if strings.ContainsAny(a, " \t\"'$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// Runner runs commands with a common environment and sends their combined
// output to Log.
type Runner struct {
	// Env is added to the process environment of every command; later
	// entries win.
	Env []string
	// Log receives every command line and its output. Nil discards them.
	Log io.Writer
}

// tailLines is how much of a failed command's output its error quotes.
const tailLines = 40

// Run runs cmd and waits for it. The error names the command and quotes the
// end of its output. Cancelling ctx kills the command and everything it
// started (it runs in its own process group).
func (r Runner) Run(ctx context.Context, cmd Command) error {
	out, err := r.run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("`%s` in %s: %w\n%s", cmd, cmd.Dir, err, lastLines(out, tailLines))
	}
	return nil
}

// Output runs cmd and returns its combined output.
func (r Runner) Output(ctx context.Context, cmd Command) (string, error) {
	out, err := r.run(ctx, cmd)
	if err != nil {
		return out, fmt.Errorf("`%s` in %s: %w\n%s", cmd, cmd.Dir, err, lastLines(out, tailLines))
	}
	return out, nil
}

func (r Runner) run(ctx context.Context, cmd Command) (string, error) {
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	_, _ = fmt.Fprintf(log, "\n$ %s   # in %s\n", cmd, cmd.Dir)
	start := time.Now()

	var buf syncBuffer
	c := exec.CommandContext(ctx, cmd.Name, cmd.Args...)
	c.Dir = cmd.Dir
	c.Env = mergeEnv(os.Environ(), r.Env, cmd.Env)
	c.Stdout = io.MultiWriter(log, &buf)
	c.Stderr = c.Stdout
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.Cancel = func() error { return killGroup(c.Process) }
	c.WaitDelay = 10 * time.Second
	err := c.Run()
	_, _ = fmt.Fprintf(log, "# %s took %s\n", baseName(cmd.Name), time.Since(start).Round(time.Second))
	return buf.String(), err
}

func killGroup(p *os.Process) error {
	if p == nil {
		return nil
	}
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// mergeEnv returns base with the KEY=value entries of the overrides applied
// in order; a later entry for a key replaces an earlier one.
func mergeEnv(base []string, overrides ...[]string) []string {
	index := map[string]int{}
	out := make([]string, 0, len(base))
	add := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			return
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		add(kv)
	}
	for _, o := range overrides {
		for _, kv := range o {
			add(kv)
		}
	}
	return out
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a command's
// stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
