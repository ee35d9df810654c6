package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The edit a user makes to a node type's builder in these tests.
const (
	builderPath   = "internal/controller/druid_broker.go"
	scaffoldedDir = `druidBrokerConfigDir = "/etc/druid/broker"`
	editedDir     = `druidBrokerConfigDir = "/opt/druid/conf/broker"`
)

// TestAlphaGenerateScaffoldsTheSameProject scaffolds a project with a helm
// chart, commits it, edits a node type's builder and commits that too, then
// runs alpha generate: git status must show the edited builder, back to the
// scaffold, and nothing else.
func TestAlphaGenerateScaffoldsTheSameProject(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("scaffolds a project twice")
	}
	cli := buildCLI(t)
	project := scaffoldProject(t, cli)
	if out, err := runCLI(t, project, cli, "edit", "--plugins", "helm/v2-alpha"); err != nil {
		t.Fatalf("edit --plugins helm/v2-alpha: %v\n%s", err, out)
	}
	gitIn(t, project, "add", "-A")
	gitIn(t, project, "commit", "-qm", "Add a helm chart")
	if _, err := os.Stat(filepath.Join(project, "dist", "chart", "Chart.yaml")); err != nil {
		t.Fatalf("edit --plugins helm/v2-alpha made no chart: %v", err)
	}
	editBuilder(t, project)
	gitIn(t, project, "commit", "-qam", "Configure the broker")

	out, err := runCLI(t, project, cli, "alpha", "generate")
	if err != nil {
		t.Fatalf("alpha generate: %v\n%s", err, out)
	}
	if status := gitIn(t, project, "status", "--porcelain"); status != "M "+builderPath {
		t.Errorf("after alpha generate, git status is\n%s\nwant only the edited %s", status, builderPath)
	}
	if b := string(readFile(t, filepath.Join(project, builderPath))); !strings.Contains(b, scaffoldedDir) {
		t.Errorf("alpha generate did not scaffold %s again", builderPath)
	}
	expectNoLeftovers(t, project)
}

// TestAlphaGenerateChangesNothingWhenItFails runs alpha generate on
// projects it cannot re-scaffold: each run names the problem, and the
// project and its directory are as they were.
func TestAlphaGenerateChangesNothingWhenItFails(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the CLI and runs init")
	}
	cli := buildCLI(t)
	runtime := filepath.Join(repoRoot(t), "runtime")
	for _, tc := range []struct {
		name    string
		project string
		args    []string
		want    []string
	}{
		{"no PROJECT", "", nil, []string{"has no PROJECT file", "--input-dir"}},
		{"not an opbuilder project", strings.Replace(druidProject, "- opbuilder/v1\n", "", 1), nil,
			[]string{"does not use opbuilder/v1", "init --plugins go/v4,opbuilder/v1"}},
		{"no runtime recorded", strings.Replace(druidProject, "    runtime:\n      module: github.com/opbuilder/opbuilder/runtime\n      path: ../runtime\n", "", 1), nil,
			[]string{"PROJECT has no runtime under plugins.opbuilder/v1", "add `runtime: {module: github.com/opbuilder/opbuilder/runtime"}},
		{"existing output directory", druidProject, []string{"--output-dir", "."},
			[]string{"--output-dir . exists", "name a directory that does not"}},
		// init and create api succeed, in the directory next to the project.
		{"a command fails half way", strings.Replace(druidProject, "workload: deployment", "workload: daemonset", 1), nil,
			[]string{"unknown --workload \"daemonset\"", "`kubebuilder-opbuilder create nodetype", "--workload daemonset",
				"failed", "the project is unchanged"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			if err := os.Symlink(runtime, filepath.Join(tmp, "runtime")); err != nil {
				t.Fatal(err)
			}
			project := filepath.Join(tmp, "druid-operator")
			writeFiles(t, project, map[string]string{
				"PROJECT": tc.project, "cmd/main.go": "package main\n", ".git/HEAD": "ref: refs/heads/main\n",
			})
			before := readTree(t, project)

			out, err := runCLI(t, project, cli, append([]string{"alpha", "generate"}, tc.args...)...)
			if err == nil {
				t.Fatalf("alpha generate succeeded:\n%s", out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("the output does not say %q:\n%s", want, out)
				}
			}
			if after := readTree(t, project); !reflect.DeepEqual(before, after) {
				t.Errorf("alpha generate changed the project: before %v, after %v", keys(before), keys(after))
			}
			expectNoLeftovers(t, project)
		})
	}
}

// TestAlphaUpdateKeepsTheUsersEditOfABuilder scaffolds a project with a
// binary whose builder template differs from this checkout's, edits a node
// type's builder and runs alpha update with this checkout's binary: the
// builder gets the new template's text and keeps the edit.
func TestAlphaUpdateKeepsTheUsersEditOfABuilder(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds two CLIs and scaffolds a project three times")
	}
	const (
		newComment = "// side by side within a ChangeBudget)."
		oldComment = "// side by side when a ChangeBudget allows it)."
	)
	cli := buildCLI(t)
	old := buildChangedCLI(t, "scaffolds/internal/templates/controller/nodetype.go", newComment, oldComment)
	project := scaffoldProject(t, old)
	editBuilder(t, project)

	// Bad input changes nothing: the edit is not committed yet.
	for _, args := range [][]string{
		{"alpha", "update"},
		{"alpha", "update", "--from-binary", old},
	} {
		out, err := runCLI(t, project, cli, args...)
		if err == nil || !strings.Contains(out, "alpha update: ") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	if status := gitIn(t, project, "status", "--porcelain"); status != "M "+builderPath {
		t.Fatalf("a refused alpha update changed the project:\n%s", status)
	}
	gitIn(t, project, "commit", "-qam", "Configure the broker")

	out, err := runCLI(t, project, cli, "alpha", "update", "--from-binary", old)
	if err != nil {
		t.Fatalf("alpha update: %v\n%s", err, out)
	}
	builder := string(readFile(t, filepath.Join(project, builderPath)))
	for _, want := range []string{editedDir, newComment} {
		if !strings.Contains(builder, want) {
			t.Errorf("after alpha update, %s does not have %q", builderPath, want)
		}
	}
	if strings.Contains(builder, oldComment) || strings.Contains(builder, "<<<<<<<") {
		t.Errorf("after alpha update, %s still has the old template's text or a conflict", builderPath)
	}
	// Both node types' builders changed with the template, and nothing else.
	staged := gitIn(t, project, "diff", "--cached", "--name-only")
	if staged != "internal/controller/druid_broker.go\ninternal/controller/druid_historical.go" {
		t.Errorf("alpha update staged\n%s", staged)
	}
	expectNoLeftovers(t, project)
}

// druidProject is the PROJECT of a Druid operator with one node type,
// whose runtime is at ../runtime.
const druidProject = `domain: example.com
layout:
- go.kubebuilder.io/v4
- opbuilder/v1
plugins:
  opbuilder/v1:
    resources:
    - domain: example.com
      group: data
      kind: Druid
      nodeTypes:
      - name: broker
        port: 8082
        replicas: 2
        workload: deployment
      version: v1alpha1
    runtime:
      module: github.com/opbuilder/opbuilder/runtime
      path: ../runtime
projectName: druid-operator
repo: example.com/druid-operator
resources:
- api:
    crdVersion: v1
    namespaced: true
  controller: true
  domain: example.com
  group: data
  kind: Druid
  path: example.com/druid-operator/api/v1alpha1
  version: v1alpha1
version: "3"
`

// scaffoldProject scaffolds a Druid operator with two node types with the
// CLI bin, next to a link to this checkout's runtime, and commits it.
func scaffoldProject(t *testing.T, bin string) string {
	t.Helper()
	tmp := t.TempDir()
	if err := os.Symlink(filepath.Join(repoRoot(t), "runtime"), filepath.Join(tmp, "runtime")); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join(tmp, "druid-operator")
	if err := os.Mkdir(project, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"init", "--plugins", "go/v4,opbuilder/v1", "--domain", "example.com", "--repo", "example.com/druid-operator",
			"--owner", "The Druid Operator Authors", "--runtime-path", "../runtime"},
		{"create", "api", "--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--resource", "--controller",
			"--image", "apache/druid:34.0.0"},
		{"create", "nodetype", "--kind", "Druid", "--name", "historical", "--workload", "statefulset", "--port", "8083",
			"--storage", "10Gi", "--groups", "hot,cold"},
		{"create", "nodetype", "--kind", "Druid", "--name", "broker", "--workload", "deployment", "--port", "8082",
			"--replicas", "2"},
	} {
		if out, err := runCLI(t, project, bin, args...); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	gitIn(t, project, "init", "-q")
	gitIn(t, project, "add", "-A")
	gitIn(t, project, "commit", "-qm", "Scaffold")
	return project
}

// editBuilder makes the edit a user makes to the broker's builder.
func editBuilder(t *testing.T, project string) {
	t.Helper()
	path := filepath.Join(project, builderPath)
	b := string(readFile(t, path))
	if !strings.Contains(b, scaffoldedDir) {
		t.Fatalf("%s has no %s", builderPath, scaffoldedDir)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(b, scaffoldedDir, editedDir, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// buildChangedCLI builds the CLI from a copy of this checkout's sources in
// which the text from in file is replaced with to: the CLI of a previous
// version of a template.
func buildChangedCLI(t *testing.T, file, from, to string) string {
	t.Helper()
	repo, src := repoRoot(t), t.TempDir()
	for _, name := range []string{"go.mod", "go.sum", "cmd", "plugin", "scaffolds"} {
		if out, err := exec.Command("cp", "-R", filepath.Join(repo, name), src).CombinedOutput(); err != nil {
			t.Fatalf("copying %s: %v\n%s", name, err, out)
		}
	}
	if err := os.Symlink(filepath.Join(repo, "runtime"), filepath.Join(src, "runtime")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(src, file)
	b := string(readFile(t, path))
	if !strings.Contains(b, from) {
		t.Fatalf("%s has no %q", file, from)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(b, from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "kubebuilder-opbuilder")
	runEnv(t, src, nil, "go", "build", "-o", bin, "./cmd/kubebuilder-opbuilder")
	return bin
}

// runCLI runs the CLI bin in dir, with the project's tools in the shared
// tools directory, and returns its combined output.
func runCLI(t *testing.T, dir, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "LOCALBIN="+toolsDir(t))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// gitIn runs git in dir as a test user and returns its trimmed output.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Test", "-c", "user.email=test@example.com"},
		args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// expectNoLeftovers fails the test when the directory holding project has
// anything but the project and the runtime link: a scaffold or a backup
// left behind.
func expectNoLeftovers(t *testing.T, project string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(project))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(project) && e.Name() != "runtime" {
			t.Errorf("%s was left next to the project", e.Name())
		}
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if content == "" {
			continue
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
