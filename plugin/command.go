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

// CreateNodeTypeOption configures NewCreateNodeTypeCommand.
type CreateNodeTypeOption func(*createNodeTypeCommand)

// WithFilesystem makes the command scaffold into fsys instead of the working
// directory; tests use an in-memory filesystem.
func WithFilesystem(fsys machinery.Filesystem) CreateNodeTypeOption {
	return func(c *createNodeTypeCommand) { c.fs = fsys }
}

type createNodeTypeCommand struct {
	fs machinery.Filesystem
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
func NewCreateNodeTypeCommand(commandName string, opts ...CreateNodeTypeOption) *cobra.Command {
	c := &createNodeTypeCommand{fs: machinery.Filesystem{FS: afero.NewOsFs()}}
	for _, o := range opts {
		o(c)
	}
	sub := &nodeTypeSubcommand{}
	meta := kbplugin.SubcommandMetadata{}
	sub.UpdateMetadata(kbplugin.CLIMetadata{CommandName: commandName}, &meta)

	cmd := &cobra.Command{
		Use:          "nodetype",
		Short:        "Add a node type to a kind created with opbuilder",
		Long:         meta.Description,
		Example:      meta.Examples,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
	}
	sub.BindFlags(cmd.Flags())
	cmd.RunE = func(*cobra.Command, []string) error { return c.run(commandName, sub) }
	return cmd
}

// run executes the hooks of sub against the project.
func (c *createNodeTypeCommand) run(commandName string, sub *nodeTypeSubcommand) error {
	cfgStore := yamlstore.New(c.fs)
	if err := loadProject(cfgStore, commandName); err != nil {
		return err
	}
	if err := sub.InjectConfig(cfgStore.Config()); err != nil {
		return fmt.Errorf("create nodetype: %w", err)
	}
	if err := sub.PreScaffold(c.fs); err != nil {
		return fmt.Errorf("create nodetype: %w", err)
	}
	if err := sub.Scaffold(c.fs); err != nil {
		return fmt.Errorf("create nodetype: %w", err)
	}
	if err := cfgStore.Save(); err != nil {
		return fmt.Errorf("create nodetype: saving PROJECT: %w", err)
	}
	if err := sub.PostScaffold(); err != nil {
		return fmt.Errorf("create nodetype: %w", err)
	}
	return nil
}

// loadProject loads PROJECT, explaining what to do when there is none.
func loadProject(s store.Store, commandName string) error {
	err := s.Load()
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("create nodetype: no PROJECT file here, so there is no project to add a node type "+
			"to: run `%s init --plugins go/v4,%s --domain <domain>` and `%s create api ...` first",
			commandName, Key, commandName)
	}
	if err != nil {
		return fmt.Errorf("create nodetype: loading PROJECT: %w", err)
	}
	return nil
}
