package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// goldenProject is the committed golden project, relative to the checkout.
const goldenProject = "testdata/project-v4-opbuilder"

// copyrightYear matches the year the license header gets when a project is
// scaffolded; it is the one thing that legitimately changes between runs.
var copyrightYear = regexp.MustCompile(`Copyright \d{4} `)

// TestGoldenProjectIsUpToDate regenerates the golden project with
// hack/generate-testdata.sh into a temporary directory and fails on any
// difference from the committed tree: a change to the scaffolds must come
// with `make generate-testdata` and a reviewed diff of testdata/.
func TestGoldenProjectIsUpToDate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("regenerating the golden project runs the CLI, go mod tidy and controller-gen")
	}
	repo := repoRoot(t)

	// The golden project's go.mod replaces the runtime with ../../runtime;
	// give the regenerated one the same layout.
	tmp := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "runtime"), filepath.Join(tmp, "runtime")); err != nil {
		t.Fatal(err)
	}
	regenerated := filepath.Join(tmp, goldenProject)
	run(t, repo, filepath.Join(repo, "hack", "generate-testdata.sh"), regenerated)

	want := readTree(t, filepath.Join(repo, goldenProject))
	got := readTree(t, regenerated)
	for _, path := range union(want, got) {
		w, inWant := want[path]
		g, inGot := got[path]
		switch {
		case !inGot:
			t.Errorf("%s is committed but no longer generated", path)
		case !inWant:
			t.Errorf("%s is generated but not committed", path)
		case w != g:
			t.Errorf("%s differs from what the generator writes:\n%s", path, firstDifference(w, g))
		}
	}
	if t.Failed() {
		t.Log("run `make generate-testdata` and review the diff of " + goldenProject)
	}
}

// TestGoldenProjectCompiles builds and vets the committed golden project
// against this checkout's runtime, which its go.mod replaces the runtime
// module with.
func TestGoldenProjectCompiles(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("compiling the golden project builds controller-runtime and the runtime")
	}
	dir := filepath.Join(repoRoot(t), goldenProject)
	run(t, dir, "go", "build", "./...")
	run(t, dir, "go", "vet", "./...")
}

// repoRoot returns the root of the checkout: this package is
// cmd/kubebuilder-opbuilder.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "hack", "generate-testdata.sh")); err != nil {
		t.Fatalf("cannot find the checkout's root from %s: %v", root, err)
	}
	return root
}

// run runs name with args in dir, outside any go.work, and fails the test
// with the output when it fails.
func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	runEnv(t, dir, nil, name, args...)
}

// readTree returns the files under root, by slash-separated relative path,
// with the copyright year normalized. Build output the generator removes is
// skipped, so that a golden project someone built in place still compares.
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "cover.out" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[rel] = copyrightYear.ReplaceAllString(string(b), "Copyright YEAR ")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func union(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// firstDifference shows the first line where want and got differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  committed: %s\n  generated: %s", i+1, wl, gl)
		}
	}
	return "(only line endings differ)"
}
