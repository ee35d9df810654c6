// Command opbench runs opbuilder's benchmarks: it starts a real control
// plane, runs every approach's operator against it and writes the results
// as Markdown (BENCHMARKS.md). `make bench` is the usual way to run it.
//
//	opbench [-quick] [-out BENCHMARKS.md] [-approaches a,b] [-skip phase,...]
//
// With the first argument "operator" it runs one approach's operator
// instead; the benchmark starts itself that way for each approach.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/opbuilder/opbuilder/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "opbench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "operator" {
		return runOperator(ctx, os.Args[2:])
	}
	return runBench(ctx, os.Args[1:])
}

func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("opbench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "small sizes, for checking the benchmark itself")
	out := fs.String("out", "", "write the Markdown report to this file (e.g. BENCHMARKS.md)")
	jsonOut := fs.String("json", "", "also write the raw results as JSON to this file")
	approaches := fs.String("approaches", "", "comma-separated approaches to run (default: all)")
	skip := fs.String("skip", "", "comma-separated phases to skip: memory, steady, edits, cpu, drift, scale")
	workDir := fs.String("workdir", "", "where operator logs and profiles go (default: a new temporary directory)")
	command := fs.String("command", "", "the command that reproduces this run, for the report (default: the invocation)")
	render := fs.String("render", "", "do not run: render the report from results saved earlier with -json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *render != "" {
		b, err := os.ReadFile(*render)
		if err != nil {
			return fmt.Errorf("read results: %w", err)
		}
		var report bench.Report
		if err := json.Unmarshal(b, &report); err != nil {
			return fmt.Errorf("decode results %s: %w", *render, err)
		}
		return output(&report, *out, "")
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	if *command == "" {
		*command = "opbench " + strings.Join(args, " ")
	}
	report, err := bench.Run(ctx, bench.Options{
		Quick:      *quick,
		Approaches: splitList(*approaches),
		Skip:       splitList(*skip),
		Binary:     self,
		WorkDir:    *workDir,
		Command:    *command,
		Log:        os.Stderr,
	})
	if err != nil {
		return err
	}
	return output(report, *out, *jsonOut)
}

// output prints the report, writes it to out, and the raw results to
// jsonOut, each when set.
func output(report *bench.Report, out, jsonOut string) error {
	md := bench.Markdown(report)
	fmt.Println(md)
	var errs []error
	if out != "" {
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil { //nolint:gosec // a document meant to be read
			errs = append(errs, fmt.Errorf("write report: %w", err))
		}
	}
	if jsonOut != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err == nil {
			err = os.WriteFile(jsonOut, b, 0o644) //nolint:gosec // a document meant to be read
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("write JSON results: %w", err))
		}
	}
	return errors.Join(errs...)
}

func runOperator(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("opbench operator", flag.ContinueOnError)
	var opts bench.OperatorOptions
	fs.StringVar(&opts.Approach, "approach", "", "approach to run")
	fs.StringVar(&opts.Kubeconfig, "kubeconfig", "", "kubeconfig path")
	namespaces := fs.String("namespaces", "", "comma-separated namespaces to cache (default: all)")
	fs.BoolVar(&opts.Scoped, "scoped", false, "use the runtime's label-scoped cache options")
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:0", "control API address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts.Namespaces = splitList(*namespaces)
	return bench.RunOperator(ctx, opts, os.Stdout)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
