// Command demo is `make demo`: it scaffolds a Druid-style operator with
// kubebuilder-opbuilder, starts a local control plane from the test
// binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
// and kwok with fake nodes), runs the operator, and walks through create →
// config change → ordered rollout → node-type removal → deletion, saying in
// plain words what happens and showing what a user would look at.
//
// With a terminal on stdin it pauses between steps and, at the end, keeps
// the control plane up until Enter is pressed. Without one (CI, scripts) it
// runs straight through. It exits 0 when every step behaved as described,
// 1 naming the failing step otherwise, and 130 when stopped early. It
// stops everything it started.
//
// Usage (from the root of the checkout, with KUBEBUILDER_ASSETS set; `make
// demo` does both):
//
//	go run ./test/demo [-dir demo] [-cli bin/kubebuilder-opbuilder] [-nodes 3]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	os.Exit(run())
}

func run() int {
	var cfg config
	flag.StringVar(&cfg.dir, "dir", "demo", "directory to scaffold the operator into; a previous demo there is replaced")
	flag.StringVar(&cfg.cli, "cli", "", "kubebuilder-opbuilder binary to use (default: build it from this checkout)")
	flag.IntVar(&cfg.nodes, "nodes", 3, "number of fake kwok nodes")
	flag.Parse()

	// The control plane's envtest logs through controller-runtime; the demo
	// narrates instead.
	logf.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	d := newDemo(cfg)
	err := d.run(ctx)
	if errors.Is(err, errQuit) || ctx.Err() != nil {
		fmt.Println()
		fmt.Println("Stopping everything the demo started…")
	}
	closeErr := d.close()

	switch {
	case errors.Is(err, errQuit) || (err != nil && ctx.Err() != nil):
		fmt.Println("Stopped before the end; nothing the demo started is left running.")
		return 130
	case err != nil:
		fmt.Fprintf(os.Stderr, "\ndemo: %v\n", err)
		if d.logPath != "" {
			fmt.Fprintf(os.Stderr, "demo: the full output of every command is in %s\n", d.logPath)
		}
		return 1
	case closeErr != nil:
		fmt.Fprintf(os.Stderr, "\ndemo: every step behaved, but stopping failed: %v\n", closeErr)
		return 1
	}
	return 0
}
