package alpha

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMergeBringsTheScaffoldsChangesAndKeepsTheUsers(t *testing.T) {
	project := committedRepo(t, map[string]string{
		"builder.go": builder("// Build builds.", "/opt/conf"),
		"gone.go":    "package controller\n",
		"mine.go":    "package controller // the user's own file\n",
	})
	oldScaffold := tree(t, map[string]string{
		"builder.go": builder("// Build builds.", "/etc/conf"),
		"gone.go":    "package controller\n",
	})
	newScaffold := tree(t, map[string]string{
		"builder.go": builder("// Build builds the objects.", "/etc/conf"),
		"added.go":   "package controller\n",
	})

	conflicts, err := merge(repo{dir: project}, oldScaffold, newScaffold)
	if err != nil || len(conflicts) > 0 {
		t.Fatalf("merge: %v, conflicts %v", err, conflicts)
	}
	want := map[string]string{
		"builder.go": builder("// Build builds the objects.", "/opt/conf"),
		"added.go":   "package controller\n",
		"mine.go":    "package controller // the user's own file\n",
	}
	if got := files(t, project); !reflect.DeepEqual(got, want) {
		t.Errorf("after the merge the project has %q, want %q", got, want)
	}
	if staged := git(t, project, "diff", "--cached", "--no-renames", "--name-status"); staged !=
		"A\tadded.go\nM\tbuilder.go\nD\tgone.go" {
		t.Errorf("the merge staged\n%s", staged)
	}
}

func TestMergeMarksTheLinesBothChanged(t *testing.T) {
	project := committedRepo(t, map[string]string{"builder.go": "const dir = \"/opt/conf\"\n"})
	oldScaffold := tree(t, map[string]string{"builder.go": "const dir = \"/etc/conf\"\n"})
	newScaffold := tree(t, map[string]string{"builder.go": "const dir = \"/etc/druid\"\n"})

	conflicts, err := merge(repo{dir: project}, oldScaffold, newScaffold)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(conflicts, []string{"builder.go"}) {
		t.Errorf("conflicts %v, want builder.go", conflicts)
	}
	got := files(t, project)["builder.go"]
	for _, want := range []string{"<<<<<<<", "/opt/conf", "=======", "/etc/druid", ">>>>>>>"} {
		if !strings.Contains(got, want) {
			t.Errorf("builder.go has no %q:\n%s", want, got)
		}
	}
}

func TestOpenCleanRepoRefusesUncommittedChanges(t *testing.T) {
	project := committedRepo(t, map[string]string{"a.go": "package a\n"})
	if _, err := openCleanRepo(project); err != nil {
		t.Fatalf("a clean repository: %v", err)
	}
	if err := os.WriteFile(filepath.Join(project, "a.go"), []byte("package b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := openCleanRepo(project)
	if err == nil || !strings.Contains(err.Error(), "uncommitted changes") ||
		!strings.Contains(err.Error(), "a.go") || !strings.Contains(err.Error(), "commit or stash") {
		t.Errorf("with a changed file: %v", err)
	}
}

// builder returns a builder whose function has the comment doc and whose
// configuration directory is dir, lines far enough apart for git to merge
// changes to each.
func builder(doc, dir string) string {
	return "package controller\n\n" + doc + "\nfunc build() {}\n\nfunc other() {}\n\nconst dir = \"" + dir + "\"\n"
}

// committedRepo returns a git repository with files committed.
func committedRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := tree(t, files)
	git(t, dir, "init", "-q")
	git(t, dir, "add", "-A")
	git(t, dir, "-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-qm", "Project")
	return dir
}

// tree returns a directory holding files.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// files returns the files of dir, but .git, by name.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.Name() == gitDir {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
