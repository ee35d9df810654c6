package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// errQuit is returned when the user asks to stop at a pause.
var errQuit = errors.New("stopped at the user's request")

// ui narrates the demo on stdout and, with a terminal on stdin, pauses
// between steps.
type ui struct {
	out         io.Writer
	interactive bool // stdin is a terminal: pause between steps
	live        bool // stdout is a terminal: redraw progress in place
	lines       chan string
	steps       int
	total       int
}

func newUI(total int) *ui {
	u := &ui{
		out:         os.Stdout,
		interactive: term.IsTerminal(int(os.Stdin.Fd())),
		live:        term.IsTerminal(int(os.Stdout.Fd())),
		total:       total,
	}
	if u.interactive {
		u.lines = make(chan string)
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				u.lines <- sc.Text()
			}
			close(u.lines)
		}()
	}
	return u
}

// printf writes to the terminal. A failed write (stdout closed) has no one
// left to be reported to, so it is ignored here, in one place.
func (u *ui) printf(format string, args ...any) {
	_, _ = fmt.Fprintf(u.out, format, args...)
}

func (u *ui) bold(s string) string {
	if !u.live {
		return s
	}
	return "\033[1m" + s + "\033[0m"
}

func (u *ui) dim(s string) string {
	if !u.live {
		return s
	}
	return "\033[2m" + s + "\033[0m"
}

// step starts a numbered step with its title and a plain-words explanation.
func (u *ui) step(title, explanation string) {
	u.steps++
	u.printf("\n%s\n", u.bold(fmt.Sprintf("Step %d of %d: %s", u.steps, u.total, title)))
	u.say(explanation)
}

// say prints a paragraph, wrapped at 78 columns and indented.
func (u *ui) say(text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		u.printf("%s\n", wrap(strings.Join(strings.Fields(para), " "), 76, "  "))
	}
}

// command shows a command line the demo runs.
func (u *ui) command(c string) { u.printf("  %s %s\n", u.dim("$"), c) }

// show prints a command's output, indented.
func (u *ui) show(output string) {
	for _, l := range strings.Split(strings.TrimRight(output, "\n"), "\n") {
		u.printf("    %s\n", l)
	}
}

// ok reports a step's check as passed.
func (u *ui) ok(what string) { u.printf("  ✓ %s\n", what) }

// pause waits for Enter at a terminal; "q" stops the demo. Without a
// terminal it returns at once.
func (u *ui) pause(ctx context.Context) error {
	return u.prompt(ctx, "Press Enter to continue, or q and Enter (or Ctrl-C) to stop everything. ")
}

// prompt shows text and waits for a line at a terminal; "q" returns
// errQuit. Without a terminal it returns at once.
func (u *ui) prompt(ctx context.Context, text string) error {
	if !u.interactive {
		return nil
	}
	u.printf("%s", u.dim("\n  "+text))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case l, ok := <-u.lines:
		if !ok || strings.EqualFold(strings.TrimSpace(l), "q") {
			return errQuit
		}
		return nil
	}
}

// waitUntil polls check every second until it returns nil, showing what
// it is still waiting for, and fails after timeout or on a permanent error.
func (u *ui) waitUntil(ctx context.Context, what string, timeout time.Duration, check func(context.Context) error) error {
	start := time.Now()
	deadline := start.Add(timeout)
	spinner := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	lastPrinted := time.Time{}
	for i := 0; ; i++ {
		err := check(ctx)
		elapsed := time.Since(start).Round(time.Second)
		if err == nil {
			u.clearLine()
			u.ok(fmt.Sprintf("%s (%s)", what, elapsed))
			return nil
		}
		if scenario.IsPermanent(err) || time.Now().After(deadline) {
			u.clearLine()
			return fmt.Errorf("%s: %w", what, err)
		}
		status := firstLines(err.Error(), 1)
		switch {
		case u.live:
			u.printf("\r\033[K  %c %s (%s): %s", spinner[i%len(spinner)], what, elapsed, truncate(status, 90))
		case time.Since(lastPrinted) >= 10*time.Second:
			u.printf("  … %s (%s): %s\n", what, elapsed, status)
			lastPrinted = time.Now()
		}
		select {
		case <-ctx.Done():
			u.clearLine()
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// during runs fn, showing a spinner and the elapsed time while it runs.
func (u *ui) during(ctx context.Context, what string, fn func(context.Context) error) error {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	spinner := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	lastPrinted := start
	for i := 0; ; i++ {
		select {
		case err := <-done:
			u.clearLine()
			if err == nil {
				u.ok(fmt.Sprintf("done (%s)", time.Since(start).Round(time.Second)))
			}
			return err
		case <-tick.C:
			elapsed := time.Since(start).Round(time.Second)
			switch {
			case u.live:
				u.printf("\r\033[K  %c %s (%s)", spinner[i%len(spinner)], what, elapsed)
			case time.Since(lastPrinted) >= 30*time.Second:
				u.printf("  … still %s (%s)\n", what, elapsed)
				lastPrinted = time.Now()
			}
		}
	}
}

func (u *ui) clearLine() {
	if u.live {
		u.printf("%s", "\r\033[K")
	}
}

func firstLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.TrimSuffix(strings.Join(lines, " "), ":")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrap breaks text into lines of at most width runes, each with prefix.
func wrap(text string, width int, prefix string) string {
	var b strings.Builder
	line := 0
	for _, w := range strings.Fields(text) {
		if line > 0 && line+1+len([]rune(w)) > width {
			b.WriteString("\n")
			line = 0
		}
		if line == 0 {
			b.WriteString(prefix)
		} else {
			b.WriteString(" ")
			line++
		}
		b.WriteString(w)
		line += len([]rune(w))
	}
	return b.String()
}
