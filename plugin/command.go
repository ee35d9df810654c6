package plugin

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"sigs.k8s.io/kubebuilder/v4/pkg/config/store"
	yamlstore "sigs.k8s.io/kubebuilder/v4/pkg/config/store/yaml"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
)

// CommandOption configures the commands NewCreateNodeTypeCommand and
// NewDeleteCommand build.
type CommandOption func(*nodeTypeCommand)

// WithFilesystem makes the command work on fsys instead of the working
// directory; tests use an in-memory filesystem.
func WithFilesystem(fsys machinery.Filesystem) CommandOption {
	return func(c *nodeTypeCommand) { c.fs = fsys }
}

// nodeTypeCommand runs one of the node type subcommands against a project.
type nodeTypeCommand struct {
	fs machinery.Filesystem
	// name is the command as the user types it, e.g. "create nodetype".
	name string
}

// projectSubcommand is a subcommand with the hooks kubebuilder runs for
// create api.
type projectSubcommand interface {
	kbplugin.UpdatesMetadata
	kbplugin.HasFlags
	kbplugin.RequiresConfig
	kbplugin.HasPreScaffold
	kbplugin.Subcommand
	kbplugin.HasPostScaffold
}

// newNodeTypeCommand returns the cobra command that runs sub's hooks.
func newNodeTypeCommand(commandName, name, short string, sub projectSubcommand,
	opts []CommandOption) *cobra.Command {
	c := &nodeTypeCommand{fs: machinery.Filesystem{FS: afero.NewOsFs()}, name: name}
	for _, o := range opts {
		o(c)
	}
	meta := kbplugin.SubcommandMetadata{}
	sub.UpdateMetadata(kbplugin.CLIMetadata{CommandName: commandName}, &meta)

	cmd := &cobra.Command{
		Use:          "nodetype",
		Short:        short,
		Long:         meta.Description,
		Example:      meta.Examples,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
	}
	sub.BindFlags(cmd.Flags())
	cmd.RunE = func(*cobra.Command, []string) error { return c.run(commandName, sub) }
	return cmd
}

// NewCreateNodeTypeCommand returns the `create nodetype` command. A CLI built
// with kubebuilder's pkg/cli adds it under its `create` command after
// cli.New; it leaves PersistentPreRunE unset, so that the CLI's own checks of
// the command line run before it. commandName is the CLI's name, used in
// help and messages.
//
// It runs the same hooks, in the same order, as kubebuilder runs for create
// api: load PROJECT, validate (nothing is written if that fails), scaffold,
// save PROJECT, then run make.
func NewCreateNodeTypeCommand(commandName string, opts ...CommandOption) *cobra.Command {
	return newNodeTypeCommand(commandName, "create nodetype", "Add a node type to a kind created with opbuilder",
		&nodeTypeSubcommand{}, opts)
}

// NewDeleteCommand returns a `delete` command with `delete nodetype` under
// it, for cli.WithExtraCommands: kubebuilder v4.16's CLI has no delete
// command. delete nodetype runs the same hooks as create nodetype.
func NewDeleteCommand(commandName string, opts ...CommandOption) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "Remove what a create command added",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newNodeTypeCommand(commandName, "delete nodetype",
		"Remove a node type from a kind created with opbuilder", &deleteNodeTypeSubcommand{}, opts))
	return cmd
}

// run executes the hooks of sub against the project.
func (c *nodeTypeCommand) run(commandName string, sub projectSubcommand) error {
	cfgStore := yamlstore.New(c.fs)
	if err := c.loadProject(cfgStore, commandName); err != nil {
		return err
	}
	if err := sub.InjectConfig(cfgStore.Config()); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := sub.PreScaffold(c.fs); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := sub.Scaffold(c.fs); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if err := cfgStore.Save(); err != nil {
		return fmt.Errorf("%s: saving PROJECT: %w", c.name, err)
	}
	if err := sub.PostScaffold(); err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// loadProject loads PROJECT, explaining what to do when there is none.
func (c *nodeTypeCommand) loadProject(s store.Store, commandName string) error {
	err := s.Load()
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no PROJECT file here, so there is no project with node types: run "+
			"`%s init --plugins go/v4,%s --domain <domain>` and `%s create api ...` first",
			c.name, commandName, Key, commandName)
	}
	if err != nil {
		return fmt.Errorf("%s: loading PROJECT: %w", c.name, err)
	}
	return nil
}
