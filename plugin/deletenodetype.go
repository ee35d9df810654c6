package plugin

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"

	"github.com/opbuilder/opbuilder/scaffolds"
)

// deleteNodeTypeSubcommand is delete nodetype, the reverse of create
// nodetype. It follows kubebuilder's subcommand hooks, as create nodetype
// does.
type deleteNodeTypeSubcommand struct {
	config   config.Config
	resource resource.Resource
	remover  *scaffolds.NodeTypeRemover

	gvk     resource.GVK
	name    string
	force   bool
	runMake bool
}

// UpdateMetadata implements plugin.UpdatesMetadata.
func (p *deleteNodeTypeSubcommand) UpdateMetadata(cli kbplugin.CLIMetadata, meta *kbplugin.SubcommandMetadata) {
	meta.Description = `Remove a node type from a kind created with opbuilder: the reverse of create nodetype.

It removes the node type's spec, builder and test files, its field and validation
rule in the kind's spec, its place in the default deployment order, its
registration with the controller, its entries in the sample and in the
controller's test, its name in zz_generated.<kind>_nodetypes.go and its record
in PROJECT. Removing a kind's last node type also removes the helpers all its
node types share (internal/controller/<kind>_objects.go).

It refuses, and changes nothing, when you edited the node type's files or the
lines it added to the kind's files; --force removes them all the same and
leaves the lines it cannot find.
`
	meta.Examples = fmt.Sprintf(`  # Remove the broker node type of the Druid kind
  %[1]s delete nodetype --kind Druid --name broker
`, cli.CommandName)
}

// BindFlags implements plugin.HasFlags.
func (p *deleteNodeTypeSubcommand) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&p.gvk.Kind, "kind", "", "Kind to remove the node type from, e.g. Druid")
	fs.StringVar(&p.gvk.Group, "group", "", "Group of the kind, when the kind name alone is ambiguous")
	fs.StringVar(&p.gvk.Version, "version", "", "Version of the kind, when the kind name alone is ambiguous")
	fs.StringVar(&p.name, flagName, "", "Name of the node type to remove, e.g. broker")
	fs.BoolVar(&p.force, "force", false,
		"Remove the node type's files even when you edited them, and leave the lines that are not found")
	fs.BoolVar(&p.runMake, "make", true,
		"Run 'make generate manifests' after removing the node type (use --make=false to skip)")
}

// InjectConfig implements plugin.RequiresConfig.
func (p *deleteNodeTypeSubcommand) InjectConfig(c config.Config) error {
	p.config = c
	return nil
}

// PreScaffold implements plugin.HasPreScaffold. It validates everything;
// nothing is written.
func (p *deleteNodeTypeSubcommand) PreScaffold(fsys machinery.Filesystem) error {
	if err := checkOpbuilderProject(p.config); err != nil {
		return err
	}
	if p.gvk.Kind == "" {
		return errors.New("--kind is required: the kind to remove the node type from, e.g. --kind Druid")
	}
	if p.name == "" {
		return errors.New("--name is required: the node type to remove, e.g. --name broker")
	}
	res, err := resolveKind(p.config, p.gvk, "check --kind (and --group and --version)")
	if err != nil {
		return err
	}
	recorded, err := recordedNodeType(p.config, res, p.name)
	if err != nil {
		return err
	}
	p.resource = res
	p.remover = scaffolds.NewNodeTypeRemover(p.config, res, p.name, recorded, p.force)
	p.remover.InjectFS(fsys)
	return p.remover.Check()
}

// Scaffold implements plugin.Subcommand.
func (p *deleteNodeTypeSubcommand) Scaffold(fsys machinery.Filesystem) error {
	p.remover.InjectFS(fsys)
	if err := p.remover.Scaffold(); err != nil {
		return err
	}
	return forgetNodeType(p.config, p.resource, p.name)
}

// PostScaffold implements plugin.HasPostScaffold.
func (p *deleteNodeTypeSubcommand) PostScaffold() error {
	if p.runMake {
		return runMakeGenerate()
	}
	return nil
}
