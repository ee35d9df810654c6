package alpha

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/opbuilder/opbuilder/plugin"
)

// NewGenerateCommand returns alpha generate, which scaffolds an opbuilder
// project again with the running binary. commandName is the CLI's name.
func NewGenerateCommand(commandName string) *cobra.Command {
	var inputDir, outputDir string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Re-scaffold an opbuilder project from its PROJECT file",
		Long: `Re-scaffold an opbuilder project from its PROJECT file with this binary.

It runs again the init, create api and create nodetype commands PROJECT records,
with the options they were given (the runtime's version or path, each node type's
workload, port, replicas, storage and groups), then edit --plugins helm/v2-alpha when
PROJECT records a helm chart, keeping the project's license header.
On a project nothing was changed in, the result is the project: git status is clean.

The new scaffold is made in a directory next to the project. Only when every command
succeeded does it replace the project's files (all but .git); a failure leaves the
project as it was. Files git ignores, such as bin/, are replaced too.

It replays the commands of ` + plugin.Key + ` projects only: PROJECT must have ` + plugin.Key + `
in its layout and its record (written by this binary; stock kubebuilder running the
external plugin cannot write it), and no webhooks, external APIs, named controllers or
configuration of plugins other than helm/v2-alpha.`,
		Example: fmt.Sprintf(`  # Re-scaffold the project in the current directory, then see what changed
  %[1]s alpha generate && git status

  # Re-scaffold ./druid-operator into ./druid-operator-new, leaving it alone
  %[1]s alpha generate --input-dir druid-operator --output-dir druid-operator-new
`, commandName),
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := generate(inputDir, outputDir, cmd); err != nil {
				return fmt.Errorf("alpha generate: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&inputDir, "input-dir", ".", "Directory of the project to re-scaffold")
	cmd.Flags().StringVar(&outputDir, "output-dir", "",
		"Directory, which must not exist, to write the new scaffold to instead of replacing the project's files")
	return cmd
}

// generate re-scaffolds the project in inputDir into outputDir, or in
// place when outputDir is empty.
func generate(inputDir, outputDir string, cmd *cobra.Command) error {
	r, err := loadReplay(inputDir, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary to run the commands with: %w", err)
	}
	if outputDir != "" {
		return generateInto(r, exe, outputDir)
	}
	fresh, err := r.scaffold(exe, filepath.Dir(r.dir), "")
	if err != nil {
		return fmt.Errorf("%w; the project is unchanged", err)
	}
	defer func() { _ = os.RemoveAll(fresh) }()
	if err := replaceTree(r.dir, fresh); err != nil {
		return err
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "Re-scaffolded %s; see what changed with git status\n", r.dir)
	return err
}

// generateInto re-scaffolds the project of r into dir, which must not
// exist yet.
func generateInto(r *replay, exe, dir string) error {
	out, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("resolving --output-dir %s: %w", dir, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("--output-dir %s exists: name a directory that does not, or leave the flag out "+
			"to re-scaffold the project in place", dir)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("checking --output-dir %s: %w", dir, err)
	}
	parent := filepath.Dir(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", parent, err)
	}
	fresh, err := r.scaffold(exe, parent, "")
	if err != nil {
		return err
	}
	if err := os.Rename(fresh, out); err != nil {
		_ = os.RemoveAll(fresh)
		return fmt.Errorf("moving the new scaffold to %s: %w", out, err)
	}
	return nil
}
