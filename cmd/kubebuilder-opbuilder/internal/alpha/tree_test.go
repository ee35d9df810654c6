package alpha

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestReplaceTreeSwapsEverythingButGit(t *testing.T) {
	parent := t.TempDir()
	dir, fresh := filepath.Join(parent, "project"), filepath.Join(parent, "fresh")
	for path, content := range map[string]string{
		"project/.git/HEAD":   "ref: refs/heads/main\n",
		"project/main.go":     "package old\n",
		"project/old/file.go": "package old\n",
		"fresh/main.go":       "package fresh\n",
		"fresh/new/file.go":   "package fresh\n",
	} {
		write(t, filepath.Join(parent, path), content)
	}

	if err := replaceTree(dir, fresh); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".git/HEAD":   "ref: refs/heads/main\n",
		"main.go":     "package fresh\n",
		"new/file.go": "package fresh\n",
	}
	if got := walk(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("the project holds %q, want %q", got, want)
	}
	// Only the project and the emptied fresh directory, which the caller
	// removes, remain: no backup.
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Errorf("left next to the project: %v", entries)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// walk returns the files under dir by slash-separated relative path.
func walk(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
