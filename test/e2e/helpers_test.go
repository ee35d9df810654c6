package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/mod/modfile"

	"github.com/opbuilder/opbuilder/test/internal/scenario"
)

// runtimeModule is the module path of the opbuilder runtime.
const runtimeModule = "github.com/opbuilder/opbuilder/runtime"

// runtimeReplacement returns the absolute directory that the project's
// go.mod replaces the runtime module with, or an error when there is none.
func runtimeReplacement(projectDir string) (string, error) {
	path := filepath.Join(projectDir, "go.mod")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := modfile.Parse(path, b, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Replace {
		if r.Old.Path != runtimeModule {
			continue
		}
		if r.New.Version != "" {
			return "", fmt.Errorf("%s replaces %s with the module %s@%s, not a directory", path, runtimeModule, r.New.Path, r.New.Version)
		}
		dir := r.New.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(projectDir, dir)
		}
		return filepath.Clean(dir), nil
	}
	return "", fmt.Errorf("%s has no replace directive for %s", path, runtimeModule)
}

// sameTree returns nil when a and b (files or directories) hold the same
// files with the same contents, and otherwise an error listing every
// difference.
func sameTree(a, b string) error {
	filesA, err := listFiles(a)
	if err != nil {
		return err
	}
	filesB, err := listFiles(b)
	if err != nil {
		return err
	}
	var diffs []string
	for rel := range filesA {
		if _, ok := filesB[rel]; !ok {
			diffs = append(diffs, "only in the first: "+rel)
		}
	}
	for rel := range filesB {
		if _, ok := filesA[rel]; !ok {
			diffs = append(diffs, "only in the second: "+rel)
		}
	}
	for rel, ca := range filesA {
		if cb, ok := filesB[rel]; ok && !bytes.Equal(ca, cb) {
			diffs = append(diffs, "differs: "+rel)
		}
	}
	if len(diffs) > 0 {
		return errors.New(strings.Join(diffs, "\n"))
	}
	return nil
}

func listFiles(root string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = b
		return nil
	})
	return out, err
}

// startScenario sets up a scenario of op, working in workDir, and registers
// its teardown, which attaches the operator's whole log to the report of a
// failed spec (or of every spec with OPBUILDER_E2E_VERBOSE set).
func startScenario(ctx context.Context, op scenario.Operator, workDir string, o scenario.Options) *scenario.Scenario {
	GinkgoHelper()
	Expect(os.MkdirAll(workDir, 0o755)).To(Succeed())
	o.WorkDir = workDir
	s, err := scenario.Setup(ctx, op, o)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() || os.Getenv("OPBUILDER_E2E_VERBOSE") != "" {
			if log, err := os.ReadFile(s.OperatorLog()); err == nil {
				AddReportEntry("operator log", string(log))
			}
		}
		Expect(s.Close()).To(Succeed())
	})
	return s
}

// attachLogTail attaches the end of the operator's log to the report of a
// failed spec, in an AfterEach.
func attachLogTail(s *scenario.Scenario) {
	if CurrentSpecReport().Failed() && s != nil && s.Process != nil {
		AddReportEntry("operator log (end)", s.Process.LogTail(80))
	}
}
