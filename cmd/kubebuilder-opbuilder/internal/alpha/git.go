package alpha

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// scaffoldIdentity returns the environment that makes this binary the
// author of the commits update makes of the scaffolds it merges. They are
// never on a branch; naming this binary keeps them from depending on the
// user's git configuration.
func scaffoldIdentity() []string {
	return []string{
		"GIT_AUTHOR_NAME=kubebuilder-opbuilder", "GIT_AUTHOR_EMAIL=kubebuilder-opbuilder@localhost",
		"GIT_COMMITTER_NAME=kubebuilder-opbuilder", "GIT_COMMITTER_EMAIL=kubebuilder-opbuilder@localhost",
	}
}

// repo runs git in the repository of a project.
type repo struct {
	// dir is the repository's top level, the project's directory.
	dir string
}

// git runs git with args in the repository's directory; env is added to
// the environment. It returns the trimmed standard output.
func (r repo) git(env []string, args ...string) (string, error) {
	return gitIn(r.dir, env, args...)
}

// gitIn is git run in the directory dir.
func gitIn(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := strings.TrimSpace(stdout.String())
	if err != nil {
		return out, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// commitTree records the files of the directory tree, as git add -A would
// take them (its .gitignore applies), as a commit with the given parents,
// and returns the commit. The repository's index and working tree are not
// touched.
func (r repo) commitTree(tree, message string, parents ...string) (string, error) {
	tmp, err := os.MkdirTemp("", "opbuilder-index-")
	if err != nil {
		return "", fmt.Errorf("creating a temporary index: %w", err)
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	gitDir, err := r.git(nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		return "", err
	}
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}
	if _, err := gitIn(tree, env, "--git-dir", gitDir, "--work-tree", tree, "add", "-A", "."); err != nil {
		return "", err
	}
	oid, err := gitIn(tree, env, "--git-dir", gitDir, "write-tree")
	if err != nil {
		return "", err
	}
	return r.commit(oid, message, parents...)
}

// commit makes a commit of the tree object oid with the given parents.
func (r repo) commit(oid, message string, parents ...string) (string, error) {
	args := []string{"commit-tree", oid, "-m", message}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	return r.git(scaffoldIdentity(), args...)
}

// mergeTrees merges the commits ours and theirs as git merge would, without
// touching the index or the working tree, and returns the merged tree and
// the files with conflicts, which the tree holds with conflict markers.
func (r repo) mergeTrees(ours, theirs string) (string, []string, error) {
	out, err := r.git(nil, "merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs)
	lines := strings.Split(out, "\n")
	var exit *exec.ExitError
	switch {
	case err == nil:
		return lines[0], nil, nil
	case errors.As(err, &exit) && exit.ExitCode() == 1 && len(lines) > 1:
		return lines[0], lines[1:], nil
	default:
		return "", nil, err
	}
}

// checkout makes the index and the working tree hold the tree oid,
// starting from HEAD; the working tree must be clean.
func (r repo) checkout(oid string) error {
	_, err := r.git(nil, "read-tree", "-m", "-u", "HEAD", oid)
	return err
}
