package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// releasedRuntime is the version the local module proxy serves the runtime
// at: one of its own for every run, because the module cache keeps what it
// once extracted for a version, and a fixed one would build the project
// against the runtime of an earlier run.
var releasedRuntime = fmt.Sprintf("v0.1.%d", time.Now().UnixNano())

// A project scaffolded with --runtime-version requires the runtime at that
// version from the module proxy and needs no checkout of it: its go.mod has
// no replace, and it generates and builds with nothing but the proxy. A local proxy
// directory serves this checkout's runtime as a release would.
func TestRuntimeVersionNeedsNoCheckout(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("scaffolds a project and builds it")
	}
	cli := buildCLI(t)
	proxy := serveRuntime(t, filepath.Join(repoRoot(t), "runtime"), releasedRuntime)
	env := []string{
		"GOPROXY=file://" + proxy + "," + goEnv(t, "GOPROXY"),
		// The checksum database has never seen this release.
		"GONOSUMDB=github.com/opbuilder/opbuilder",
		"LOCALBIN=" + toolsDir(t),
	}

	project := filepath.Join(t.TempDir(), "druid-operator")
	if err := os.Mkdir(project, 0o755); err != nil {
		t.Fatal(err)
	}
	runEnv(t, project, env, cli, "init", "--plugins", "go/v4,opbuilder/v1", "--domain", "example.com",
		"--repo", "example.com/druid-operator", "--runtime-version", releasedRuntime)
	runEnv(t, project, env, cli, "create", "api", "--group", "data", "--version", "v1alpha1", "--kind", "Druid",
		"--resource", "--controller", "--make=false")
	runEnv(t, project, env, cli, "create", "nodetype", "--kind", "Druid", "--name", "broker",
		"--workload", "deployment", "--port", "8082", "--make=false")

	gomod := filepath.Join(project, "go.mod")
	f, err := modfile.Parse(gomod, readFile(t, gomod), nil)
	if err != nil {
		t.Fatal(err)
	}
	var required string
	for _, r := range f.Require {
		if r.Mod.Path == runtimeModule {
			required = r.Mod.Version
		}
	}
	if required != releasedRuntime {
		t.Errorf("go.mod requires %s at %q, want %s", runtimeModule, required, releasedRuntime)
	}
	for _, r := range f.Replace {
		t.Errorf("go.mod replaces %s with %s: a released runtime needs no checkout", r.Old.Path, r.New.Path)
	}
	runEnv(t, project, env, "make", "generate")
	runEnv(t, project, env, "go", "build", "./...")
}

const runtimeModule = "github.com/opbuilder/opbuilder/runtime"

// serveRuntime writes a module proxy directory (the GOPROXY file:// layout)
// serving the module in dir at version, and returns the directory.
func serveRuntime(t *testing.T, dir, version string) string {
	t.Helper()
	proxy := t.TempDir()
	at := filepath.Join(proxy, runtimeModule, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	info, err := json.Marshal(map[string]any{"Version": version, "Time": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  readFile(t, filepath.Join(dir, "go.mod")),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(at, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	z, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = z.Close() }()
	if err := zip.CreateFromDir(z, module.Version{Path: runtimeModule, Version: version}, dir); err != nil {
		t.Fatalf("zipping the runtime module: %v", err)
	}
	return proxy
}

// goEnv returns go env's value of key.
func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
