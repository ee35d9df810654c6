package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// rootModule is the module path of the opbuilder checkout's root go.mod.
const rootModule = "github.com/opbuilder/opbuilder"

// Repo is the opbuilder checkout the scenario runs from.
type Repo struct {
	// Root is the directory holding the root go.mod.
	Root string
	// Versions holds hack/versions.env, the one place versions are pinned.
	Versions map[string]string
}

// FindRepo finds the checkout that contains dir (walking up to the root
// go.mod of module github.com/opbuilder/opbuilder) and reads its versions.
func FindRepo(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", dir, err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && modulePath(b) == rootModule {
			r := &Repo{Root: d}
			if r.Versions, err = readVersions(filepath.Join(d, "hack", "versions.env")); err != nil {
				return nil, err
			}
			return r, nil
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("no opbuilder checkout (go.mod of %s) at or above %s", rootModule, abs)
		}
	}
}

// Version returns a pinned version from hack/versions.env, e.g.
// Version("KUBEBUILDER_VERSION").
func (r *Repo) Version(key string) (string, error) {
	v, ok := r.Versions[key]
	if !ok || v == "" {
		return "", fmt.Errorf("%s is not set in hack/versions.env", key)
	}
	return v, nil
}

// RuntimeDir is the local checkout of the runtime module, which scaffolded
// projects are pointed at with a replace directive.
func (r *Repo) RuntimeDir() string { return filepath.Join(r.Root, "runtime") }

func modulePath(gomod []byte) string {
	for line := range bytes.SplitSeq(gomod, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) == 2 && f[0] == "module" {
			return f[1]
		}
	}
	return ""
}

// readVersions parses the KEY=value lines of versions.env.
func readVersions(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading versions: %w", err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: not a KEY=value line: %q", path, line)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, errors.New(path + " has no versions")
	}
	return out, nil
}
