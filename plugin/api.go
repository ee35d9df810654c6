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

var _ kbplugin.CreateAPISubcommand = &createAPISubcommand{}

// createAPIMode is what a create api invocation asks of the plugin.
type createAPIMode int

const (
	// skipAPI: nothing for opbuilder to do (no new API with a controller).
	skipAPI createAPIMode = iota
	// kindAPI: make the kind go/v4 is creating a data-system resource.
	kindAPI
	// nodeTypeAPI: add a node type to an existing kind (--nodetype).
	nodeTypeAPI
)

type createAPISubcommand struct {
	config   config.Config
	resource *resource.Resource

	image    string
	nodeType nodeTypeFlags
	runMake  bool
	fs       *pflag.FlagSet

	mode       createAPIMode
	kind       *scaffolds.APIScaffolder
	nodeTypes  nodeTypeAdder
	skipReason string
}

// UpdateMetadata implements plugin.UpdatesMetadata.
func (p *createAPISubcommand) UpdateMetadata(cli kbplugin.CLIMetadata, meta *kbplugin.SubcommandMetadata) {
	meta.Description += `
opbuilder/v1 makes the new kind a data-system resource run by the opbuilder runtime: shared
pod settings (image, env, ...), a deployment order, a status kept by the runtime, and a
controller that hands the resource to the runtime's orchestrator. Add node types to it with
"create nodetype", or with "create api --plugins opbuilder/v1 ... --nodetype <name>".
`
	meta.Examples += fmt.Sprintf(`
  # Add a node type to the kind Druid (the spelling that works with stock kubebuilder)
  %[1]s create api --plugins %[2]s --group data --version v1alpha1 --kind Druid \
    --nodetype broker --workload deployment --port 8082 --replicas 2
`, cli.CommandName, Key)
}

// BindFlags implements plugin.HasFlags.
func (p *createAPISubcommand) BindFlags(fs *pflag.FlagSet) {
	p.fs = fs
	fs.StringVar(&p.image, "image", "", "Image of the kind's sample resource (default \"<kind>:latest\")")
	p.nodeType.bind(fs, flagNodeType)
	fs.BoolVar(&p.runMake, "make", true, "Run 'make generate' (and, for a node type, 'make manifests') "+
		"after scaffolding (use --make=false to skip)")
}

// InjectConfig implements plugin.RequiresConfig.
func (p *createAPISubcommand) InjectConfig(c config.Config) error {
	p.config = c
	p.nodeTypes.config = c
	return nil
}

// InjectResource implements plugin.RequiresResource. go/v4, earlier in the
// plugin chain, has already recorded in res whether an API and a controller
// are being created.
func (p *createAPISubcommand) InjectResource(res *resource.Resource) error {
	p.resource = res
	switch {
	case p.nodeType.nt.Name != "":
		p.mode = nodeTypeAPI
	case res.HasAPI() && res.HasController() && !res.IsExternal():
		p.mode = kindAPI
	default:
		p.mode = skipAPI
		p.skipReason = "opbuilder makes a new API that has a controller a data-system resource, " +
			"and this create api creates none; to add a node type, pass --nodetype"
	}
	if p.mode != nodeTypeAPI {
		for _, name := range []string{flagWorkload, flagPort, flagStorage, flagReplicas, flagGroups} {
			if f := p.fs.Lookup(name); f != nil && f.Changed {
				return fmt.Errorf("--%s describes a node type and needs --nodetype NAME", name)
			}
		}
	}
	return nil
}

// PreScaffold implements plugin.HasPreScaffold.
func (p *createAPISubcommand) PreScaffold(fsys machinery.Filesystem) error {
	switch p.mode {
	case kindAPI:
		p.kind = scaffolds.NewAPIScaffolder(p.config, *p.resource, scaffolds.APIOptions{Image: p.image})
		p.kind.InjectFS(fsys)
		return p.kind.Check()
	case nodeTypeAPI:
		return p.nodeTypes.check(fsys, &p.nodeType, p.resource.GVK)
	default:
		return kbplugin.ExitError{Plugin: Key, Reason: p.skipReason}
	}
}

// Scaffold implements plugin.Subcommand.
func (p *createAPISubcommand) Scaffold(fsys machinery.Filesystem) error {
	switch p.mode {
	case kindAPI:
		p.kind.InjectFS(fsys)
		if err := p.kind.Scaffold(); err != nil {
			return err
		}
		return recordKind(p.config, *p.resource, p.image)
	case nodeTypeAPI:
		return p.nodeTypes.scaffold(fsys)
	default:
		return errors.New("create api: nothing to scaffold")
	}
}

// PostScaffold implements plugin.HasPostScaffold.
func (p *createAPISubcommand) PostScaffold() error {
	switch p.mode {
	case kindAPI:
		fmt.Printf("Next: add node types to %s with\n$ create nodetype --kind %s --name <name> "+
			"--workload statefulset|deployment --port <port>\n", p.resource.Kind, p.resource.Kind)
	case nodeTypeAPI:
		if p.runMake {
			return runMakeGenerate()
		}
	}
	return nil
}
