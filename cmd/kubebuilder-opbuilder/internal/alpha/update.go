package alpha

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// NewUpdateCommand returns alpha update, which moves an opbuilder project
// onto the scaffold of the running binary and keeps the user's changes.
// commandName is the CLI's name.
func NewUpdateCommand(commandName string) *cobra.Command {
	var fromBinary, runtimeVersion string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Move an opbuilder project onto this binary's scaffold, keeping your changes",
		Long: `Move an opbuilder project onto the scaffold this binary writes, keeping your changes.

It scaffolds the project twice from its PROJECT file, as alpha generate does: with the
kubebuilder-opbuilder binary the project was made with (--from-binary), and with this one.
What changed between the two is merged into your project with git's three-way merge:
your edits, such as the objects a node type's builder makes, stay; what the new scaffold
changed in files you did not edit comes in; where both changed the same lines, the file
gets conflict markers.

The project must be the top level of a git repository with nothing uncommitted. The
result is left in the working tree and the index, not committed: review it with
git diff --cached, resolve any conflict markers, and commit. Nothing changes when a
scaffold fails.

Both scaffolds require the runtime version or path PROJECT records; --runtime-version
moves the new one, and so the project, to another version of the runtime.

Unlike stock kubebuilder's alpha update it downloads nothing and makes no branches.`,
		Example: fmt.Sprintf(`  # Build the version the project was made with, in a checkout of it, then update
  (cd ../opbuilder-old && GOBIN=/tmp/old go install ./cmd/kubebuilder-opbuilder)
  %[1]s alpha update --from-binary /tmp/old/kubebuilder-opbuilder
  git diff --cached
`, commandName),
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := update(fromBinary, runtimeVersion, cmd); err != nil {
				return fmt.Errorf("alpha update: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&fromBinary, "from-binary", "",
		"The kubebuilder-opbuilder binary the project was scaffolded with (required)")
	cmd.Flags().StringVar(&runtimeVersion, "runtime-version", "",
		"Version of the runtime module the new scaffold requires (default: the one PROJECT records)")
	return cmd
}

// update merges into the project in the working directory what changed
// between the scaffold of fromBinary and that of the running binary, which
// requires runtimeVersion of the runtime when it is not empty.
func update(fromBinary, runtimeVersion string, cmd *cobra.Command) error {
	from, err := checkBinary(fromBinary)
	if err != nil {
		return err
	}
	r, err := loadReplay(".", cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	repo, err := openCleanRepo(r.dir)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary to run the commands with: %w", err)
	}

	parent := filepath.Dir(r.dir)
	oldScaffold, err := r.scaffold(from, parent, "")
	if err != nil {
		return fmt.Errorf("scaffolding with --from-binary: %w; the project is unchanged", err)
	}
	defer func() { _ = os.RemoveAll(oldScaffold) }()
	newScaffold, err := r.scaffold(exe, parent, runtimeVersion)
	if err != nil {
		return fmt.Errorf("scaffolding with this binary: %w; the project is unchanged", err)
	}
	defer func() { _ = os.RemoveAll(newScaffold) }()

	conflicts, err := merge(repo, oldScaffold, newScaffold)
	if err != nil {
		return err
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("merged the new scaffold, but these files have conflict markers: %s; resolve them, "+
			"git add them and commit", strings.Join(conflicts, ", "))
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), "Merged the new scaffold into the working tree and the index; "+
		"review it with git diff --cached and commit")
	return err
}

// merge brings what changed from the scaffold in oldScaffold to the one in
// newScaffold into the project at HEAD, as git merge would bring a branch
// that made the change, and returns the files with conflicts. HEAD's tree
// stands on the old scaffold, so that git's merge base is that scaffold.
func merge(g repo, oldScaffold, newScaffold string) ([]string, error) {
	base, err := g.commitTree(oldScaffold, "The scaffold the project was made with")
	if err != nil {
		return nil, fmt.Errorf("recording the old scaffold: %w", err)
	}
	theirs, err := g.commitTree(newScaffold, "The scaffold of this binary", base)
	if err != nil {
		return nil, fmt.Errorf("recording the new scaffold: %w", err)
	}
	ours, err := g.commit("HEAD^{tree}", "The project", base)
	if err != nil {
		return nil, fmt.Errorf("recording the project: %w", err)
	}
	merged, conflicts, err := g.mergeTrees(ours, theirs)
	if err != nil {
		return nil, fmt.Errorf("merging: %w", err)
	}
	if err := g.checkout(merged); err != nil {
		return nil, fmt.Errorf("writing the merge to the working tree: %w", err)
	}
	return conflicts, nil
}

// checkBinary returns the absolute path of the --from-binary path, or an
// error unless it names an executable file.
func checkBinary(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("--from-binary is required: the kubebuilder-opbuilder binary the project " +
			"was scaffolded with, e.g. one built in a checkout of that version with " +
			"GOBIN=/tmp/old go install ./cmd/kubebuilder-opbuilder")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolving --from-binary %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("--from-binary %s is not an executable file: pass the path of the "+
			"kubebuilder-opbuilder binary the project was scaffolded with", path)
	}
	return abs, nil
}

// openCleanRepo returns the git repository whose top level is dir, or an
// error unless there is one and it has a commit and nothing uncommitted.
func openCleanRepo(dir string) (repo, error) {
	r := repo{dir: dir}
	top, err := r.git(nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return repo{}, fmt.Errorf("%s is not in a git repository: alpha update merges with git; run git init, "+
			"git add and git commit first", dir)
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return repo{}, fmt.Errorf("resolving %s: %w", dir, err)
	}
	if top != resolved {
		return repo{}, fmt.Errorf("%s is inside the git repository %s: alpha update needs the project at "+
			"the top level of its repository", dir, top)
	}
	if _, err := r.git(nil, "rev-parse", "--verify", "HEAD"); err != nil {
		return repo{}, fmt.Errorf("the repository %s has no commit: commit the project first", dir)
	}
	status, err := r.git(nil, "status", "--porcelain")
	if err != nil {
		return repo{}, err
	}
	if status != "" {
		return repo{}, fmt.Errorf("the repository has uncommitted changes, which a merge could not be undone "+
			"from:\n%s\ncommit or stash them first", status)
	}
	return r, nil
}
