package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"golang.org/x/mod/modfile"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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

// hookedNodeType is the node type the e2e gives hooks (giveHooks), and the
// annotations on the CR that its hooks answer by: a pod named in
// unhealthyAnnotation is not healthy, one named in keepAnnotation may not go.
const (
	hookedNodeType      = "historical"
	unhealthyAnnotation = "e2e.opbuilder.io/unhealthy"
	keepAnnotation      = "e2e.opbuilder.io/keep"
)

// hooksFile is what a user writes to give a node type hooks: the hooks
// themselves, and the RBAC marker that lets the operator list the pods to
// ask about. %s is the project's module path.
const hooksFile = `package controller

import (
	"context"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/opbuilder/opbuilder/runtime/orchestrate"

	datav1alpha1 "%s/api/v1alpha1"
)

// +kubebuilder:rbac:groups=core,resources=pods,verbs=list

// e2eHooks are the historicals' hooks: a pod the Druid's annotation names
// is not healthy, or may not go.
func e2eHooks() orchestrate.Hooks[*datav1alpha1.Druid] {
	return orchestrate.Hooks[*datav1alpha1.Druid]{
		Healthy:      namedIn("` + unhealthyAnnotation + `", "the e2e says it is not healthy"),
		BeforeRemove: namedIn("` + keepAnnotation + `", "the e2e keeps it"),
		Recheck:      time.Second,
	}
}

func namedIn(annotation, reason string) orchestrate.PodHook[*datav1alpha1.Druid] {
	return func(_ context.Context, d *datav1alpha1.Druid, pod *corev1.Pod) (orchestrate.Verdict, error) {
		if slices.Contains(strings.Split(d.Annotations[annotation], ","), pod.Name) {
			return orchestrate.Verdict{Reason: reason}, nil
		}
		return orchestrate.Verdict{OK: true}, nil
	}
}
`

// giveHooks edits the scaffolded project in dir as a user would to give
// hookedNodeType a health gate and a drain hook: a file of hooks, and the
// registration's empty Hooks replaced by them.
func giveHooks(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	module := modfile.ModulePath(b)
	controller := filepath.Join(dir, "internal", "controller")
	if err := os.WriteFile(filepath.Join(controller, "e2e_hooks.go"), fmt.Appendf(nil, hooksFile, module), 0o644); err != nil {
		return err
	}
	registration := filepath.Join(controller, "druid_"+hookedNodeType+".go")
	src, err := os.ReadFile(registration)
	if err != nil {
		return err
	}
	const empty = "Hooks: orchestrate.Hooks[*datav1alpha1.Druid]{},"
	if !bytes.Contains(src, []byte(empty)) {
		return fmt.Errorf("%s has no %q to replace", registration, empty)
	}
	return os.WriteFile(registration, bytes.Replace(src, []byte(empty), []byte("Hooks: e2eHooks(),"), 1), 0o644)
}

// removeGroup is the edit that removes group from nodeType's list in the
// CR's spec.
func removeGroup(op scenario.Operator, nodeType, group string) scenario.Edit {
	return func(u *unstructured.Unstructured) error {
		n, ok := op.NodeType(nodeType)
		if !ok {
			return fmt.Errorf("unknown node type %q", nodeType)
		}
		list, _, err := unstructured.NestedSlice(u.Object, "spec", n.FieldName())
		if err != nil {
			return err
		}
		kept := slices.DeleteFunc(list, func(g any) bool {
			m, _ := g.(map[string]any)
			return m["name"] == group
		})
		return unstructured.SetNestedSlice(u.Object, kept, "spec", n.FieldName())
	}
}
