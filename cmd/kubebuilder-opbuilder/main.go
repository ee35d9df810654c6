// Command kubebuilder-opbuilder is kubebuilder with the opbuilder/v1 plugin:
// it scaffolds operators for multi-node-type data systems that run on the
// opbuilder runtime.
//
// It is built on kubebuilder's pkg/cli and bundles the plugins kubebuilder's
// own CLI does (go/v4, deploy-image, grafana, helm, autoupdate) with
// opbuilder/v1, so every kubebuilder command and plugin works, plus `create
// nodetype`:
//
//	kubebuilder-opbuilder init --plugins go/v4,opbuilder/v1 --domain example.com --repo example.com/druid-operator
//	kubebuilder-opbuilder create api --group data --version v1alpha1 --kind Druid --resource --controller
//	kubebuilder-opbuilder create nodetype --kind Druid --name historical --workload statefulset --port 8083 --storage 10Gi
//
// Its alpha generate and alpha update replace kubebuilder's: they replay the
// commands PROJECT records with a kubebuilder-opbuilder binary, so that an
// opbuilder project can be scaffolded again and moved onto a newer scaffold.
//
// The same binary is also the opbuilder/v1 external plugin of stock
// kubebuilder: `kubebuilder-opbuilder install-plugin` copies it to where
// kubebuilder looks, and when it is started with no arguments and a plugin
// request on stdin, it answers that request.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/opbuilder/opbuilder/plugin/external"
)

func main() {
	if len(os.Args) == 1 {
		if in, ok := pluginRequest(os.Stdin); ok {
			if err := external.Serve(in, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			return
		}
	}

	c, err := newCLI()
	if err != nil {
		slog.Error("Failed to create the CLI", "error", err)
		os.Exit(1)
	}
	if err := c.Run(); err != nil {
		slog.Error("The command failed", "error", err)
		os.Exit(1)
	}
}

// pluginRequest reports whether stdin carries a plugin request, as it does
// when kubebuilder runs this binary as an external plugin: stdin is not a
// terminal and is not empty. The returned reader replays what was peeked.
func pluginRequest(stdin *os.File) (io.Reader, bool) {
	info, err := stdin.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice != 0 {
		return nil, false
	}
	r := bufio.NewReader(stdin)
	if _, err := r.Peek(1); err != nil {
		return nil, false
	}
	return r, true
}
