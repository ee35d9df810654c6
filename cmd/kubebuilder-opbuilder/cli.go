package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"
	"sigs.k8s.io/kubebuilder/v4/pkg/cli"
	cfgv3 "sigs.k8s.io/kubebuilder/v4/pkg/config/v3"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
	kustomizecommonv2 "sigs.k8s.io/kubebuilder/v4/pkg/plugins/common/kustomize/v2"
	"sigs.k8s.io/kubebuilder/v4/pkg/plugins/golang"
	deployimagev1alpha1 "sigs.k8s.io/kubebuilder/v4/pkg/plugins/golang/deploy-image/v1alpha1"
	golangv4 "sigs.k8s.io/kubebuilder/v4/pkg/plugins/golang/v4"
	autoupdatev1alpha "sigs.k8s.io/kubebuilder/v4/pkg/plugins/optional/autoupdate/v1alpha"
	grafanav1alpha "sigs.k8s.io/kubebuilder/v4/pkg/plugins/optional/grafana/v1alpha"
	helmv1alpha "sigs.k8s.io/kubebuilder/v4/pkg/plugins/optional/helm/v1alpha" //nolint:staticcheck // stock kubebuilder still bundles it
	helmv2alpha "sigs.k8s.io/kubebuilder/v4/pkg/plugins/optional/helm/v2alpha"

	"github.com/opbuilder/opbuilder/cmd/kubebuilder-opbuilder/internal/alpha"
	"github.com/opbuilder/opbuilder/plugin"
	"github.com/opbuilder/opbuilder/plugin/external"
)

const (
	commandName     = "kubebuilder-opbuilder"
	kubebuilderPath = "sigs.k8s.io/kubebuilder/v4"
)

// newCLI assembles the CLI: kubebuilder's commands with the plugins stock
// kubebuilder bundles and opbuilder/v1, create nodetype under create, delete
// nodetype, install-plugin, and alpha generate and update that replay
// opbuilder's commands.
func newCLI() (*cli.CLI, error) {
	// go/v4 is golang v4 plus kustomize v2, exactly as in kubebuilder's CLI.
	gov4, err := kbplugin.NewBundleWithOptions(
		kbplugin.WithName(golang.DefaultNameQualifier),
		kbplugin.WithVersion(kbplugin.Version{Number: 4}),
		kbplugin.WithPlugins(kustomizecommonv2.Plugin{}, golangv4.Plugin{}),
		kbplugin.WithDescription("Default scaffold (go/v4 + kustomize/v2)"),
	)
	if err != nil {
		return nil, fmt.Errorf("bundling go/v4: %w", err)
	}

	c, err := cli.New(
		cli.WithCommandName(commandName),
		cli.WithDescription("Scaffold Kubernetes operators for multi-node-type data systems (Druid, Pinot, "+
			"Kafka-like) that run on the opbuilder runtime.\n"),
		cli.WithVersion(versionString()),
		cli.WithCliVersion(kubebuilderVersion()),
		cli.WithPlugins(stockPlugins(gov4)...),
		cli.WithPlugins(plugin.Plugin{}),
		cli.WithPlugins(otherExternalPlugins()...),
		cli.WithDefaultPlugins(cfgv3.Version, gov4),
		cli.WithDefaultProjectVersion(cfgv3.Version),
		cli.WithCompletion(),
		cli.WithExtraCommands(newInstallPluginCommand()),
		cli.WithExtraCommands(plugin.NewDeleteCommand(commandName)), // v4.16 has no delete command
	)
	if err != nil {
		return nil, fmt.Errorf("creating the CLI: %w", err)
	}

	// cli.WithExtraCommands can only add top-level commands, so create
	// nodetype joins the create command cli.New built.
	create, _, err := c.Command().Find([]string{"create"})
	if err != nil || create == c.Command() {
		return nil, errors.New("the CLI has no create command to add create nodetype to")
	}
	create.AddCommand(plugin.NewCreateNodeTypeCommand(commandName))

	// cli.WithExtraAlphaCommands refuses names the CLI has, so generate and
	// update take the place of kubebuilder's here.
	if err := replaceAlphaCommands(c.Command(),
		alpha.NewGenerateCommand(commandName), alpha.NewUpdateCommand(commandName)); err != nil {
		return nil, err
	}
	return c, nil
}

// replaceAlphaCommands puts cmds under root's alpha command in place of
// the commands of the same names.
func replaceAlphaCommands(root *cobra.Command, cmds ...*cobra.Command) error {
	parent, _, err := root.Find([]string{"alpha"})
	if err != nil || parent == root {
		return errors.New("the CLI has no alpha command to add generate and update to")
	}
	for _, cmd := range cmds {
		for _, old := range parent.Commands() {
			if old.Name() == cmd.Name() {
				parent.RemoveCommand(old)
			}
		}
		parent.AddCommand(cmd)
	}
	return nil
}

// stockPlugins returns the plugins stock kubebuilder v4.16.0 bundles
// (internal/cli/cmd/cmd.go there), so that every `--plugins` a kubebuilder
// user knows resolves here too; gov4 is the go/v4 bundle.
func stockPlugins(gov4 kbplugin.Bundle) []kbplugin.Plugin {
	return []kbplugin.Plugin{
		golangv4.Plugin{},
		gov4,
		&kustomizecommonv2.Plugin{},
		&deployimagev1alpha1.Plugin{},
		&grafanav1alpha.Plugin{},
		&helmv1alpha.Plugin{},
		&helmv2alpha.Plugin{},
		&autoupdatev1alpha.Plugin{},
	}
}

// otherExternalPlugins returns the external plugins kubebuilder would find,
// except opbuilder's own, which this binary runs in-process.
func otherExternalPlugins() []kbplugin.Plugin {
	found, err := cli.DiscoverExternalPlugins(afero.NewOsFs())
	if err != nil {
		slog.Warn("Ignoring external plugins", "error", err)
		return nil
	}
	others := make([]kbplugin.Plugin, 0, len(found))
	for _, p := range found {
		if p.Name() != plugin.Name {
			others = append(others, p)
		}
	}
	return others
}

// newInstallPluginCommand returns the command that installs this binary as
// kubebuilder's opbuilder/v1 external plugin.
func newInstallPluginCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "install-plugin",
		Short: "Install this binary as the " + plugin.Key + " external plugin of a stock kubebuilder",
		Long: `Install this binary as the ` + plugin.Key + ` external plugin of a stock kubebuilder v4.

It is copied to $` + external.PluginsPathEnv + `/opbuilder/v1/opbuilder when that variable is set,
otherwise to $` + external.ConfigHomeEnv + `/kubebuilder/plugins/opbuilder/v1/opbuilder, otherwise to
~/.config/kubebuilder/plugins/opbuilder/v1/opbuilder (~/Library/Application Support on macOS).
Then, with kubebuilder:

  kubebuilder init --plugins go/v4,` + plugin.Key + ` --domain example.com --runtime-path <dir>
  kubebuilder create api --group data --version v1alpha1 --kind Druid --resource --controller
  kubebuilder create api --plugins ` + plugin.Key + ` --group data --version v1alpha1 --kind Druid \
    --nodetype broker --workload deployment --port 8082
`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding this binary: %w", err)
			}
			dst, err := external.InstallPath(os.Getenv)
			if err != nil {
				return err
			}
			if err := external.Install(self, dst); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Installed the %s external plugin at %s\n", plugin.Key, dst)
			return err
		},
	}
}

// versionString is what `version` prints.
func versionString() string {
	return fmt.Sprintf("%s: %s (kubebuilder %s)", commandName, ownVersion(), "v"+kubebuilderVersion())
}

// ownVersion is the version of this binary's module, "(devel)" for a build
// from a checkout.
func ownVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// kubebuilderVersion is the version of the kubebuilder library this binary
// is built with, without its "v", as kubebuilder records it in PROJECT.
func kubebuilderVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == kubebuilderPath {
				return strings.TrimPrefix(dep.Version, "v")
			}
		}
	}
	return "unknown"
}
