package plugin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
	"sigs.k8s.io/kubebuilder/v4/pkg/plugin/util"

	"github.com/opbuilder/opbuilder/scaffolds"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// Flag names of a node type. create nodetype names the node type with
// --name; create api, where --name would be ambiguous, with --nodetype.
const (
	flagName     = "name"
	flagNodeType = "nodetype"
	flagWorkload = "workload"
	flagPort     = "port"
	flagStorage  = "storage"
	flagReplicas = "replicas"
	flagGroups   = "groups"
)

// nodeTypeFlags are the flags that describe a node type.
type nodeTypeFlags struct {
	nt     model.NodeType
	groups []string
}

// bind binds the flags; nameFlag is the flag that names the node type.
func (f *nodeTypeFlags) bind(fs *pflag.FlagSet, nameFlag string) {
	fs.StringVar(&f.nt.Name, nameFlag, "",
		"Name of the node type: a DNS-1123 label starting with a letter, e.g. historical or middle-manager")
	fs.StringVar((*string)(&f.nt.Workload), flagWorkload, "",
		"Workload that runs the node type's pods: statefulset or deployment")
	fs.Int32Var(&f.nt.Port, flagPort, 0, "Port the node type's pods serve on, 1-65535")
	fs.StringVar(&f.nt.Storage, flagStorage, "",
		"Size of each pod's data volume, e.g. 10Gi; statefulset only (default: no volume)")
	fs.Int32Var(&f.nt.Replicas, flagReplicas, 1, "Default number of pods in each group")
	fs.StringSliceVar(&f.groups, flagGroups, []string{model.DefaultGroup},
		"Names of the groups the sample resource gets, e.g. hot,cold")
}

// nodeType returns the node type the flags describe, defaulted and
// validated.
func (f *nodeTypeFlags) nodeType() (model.NodeType, error) {
	nt := f.nt
	nt.Groups = nil
	for _, g := range f.groups {
		if g = strings.TrimSpace(g); g != "" {
			nt.Groups = append(nt.Groups, g)
		}
	}
	nt.Default()
	return nt, nt.Validate()
}

// nodeTypeAdder adds a node type to a kind: the part of create nodetype and
// create api --nodetype that they share.
type nodeTypeAdder struct {
	config     config.Config
	resource   resource.Resource
	nodeType   model.NodeType
	scaffolder *scaffolds.NodeTypeScaffolder
}

// check validates everything: the flags, the project, the kind and the
// names the node type needs. Nothing is written.
func (a *nodeTypeAdder) check(fsys machinery.Filesystem, flags *nodeTypeFlags, gvk resource.GVK) error {
	if err := checkOpbuilderProject(a.config); err != nil {
		return err
	}
	nt, err := flags.nodeType()
	if err != nil {
		return err
	}
	res, err := resolveKind(a.config, gvk, fmt.Sprintf("create it first with `create api --group <group> "+
		"--version <version> --kind %s --resource --controller`", gvk.Kind))
	if err != nil {
		return err
	}
	a.nodeType, a.resource = nt, res
	a.scaffolder = scaffolds.NewNodeTypeScaffolder(a.config, a.resource, a.nodeType)
	a.scaffolder.InjectFS(fsys)
	return a.scaffolder.Check()
}

// scaffold writes the node type and records it in PROJECT.
func (a *nodeTypeAdder) scaffold(fsys machinery.Filesystem) error {
	a.scaffolder.InjectFS(fsys)
	if err := a.scaffolder.Scaffold(); err != nil {
		return err
	}
	return recordNodeType(a.config, a.resource, a.nodeType)
}

// checkOpbuilderProject returns an error unless opbuilder/v1 is in the
// project's plugin chain.
func checkOpbuilderProject(cfg config.Config) error {
	if slices.ContainsFunc(cfg.GetPluginChain(), isOpbuilderKey) {
		return nil
	}
	return fmt.Errorf("the project does not use %s (its PROJECT layout is %s): node types belong to "+
		"projects initialized with `init --plugins go/v4,%s`", Key, strings.Join(cfg.GetPluginChain(), ","), Key)
}

// isOpbuilderKey reports whether a plugin key names this plugin.
func isOpbuilderKey(key string) bool {
	name, version := kbplugin.SplitKey(key)
	return name == Name && (version == "" || version == "v1")
}

// resolveKind finds the kind gvk names in PROJECT; group and version may be
// left empty when the kind name alone is unambiguous. ifUnknown says what
// to do when PROJECT has no such kind.
func resolveKind(cfg config.Config, gvk resource.GVK, ifUnknown string) (resource.Resource, error) {
	if gvk.Kind == "" {
		return resource.Resource{}, fmt.Errorf("--kind is required: the kind to add the node type to, " +
			"e.g. --kind Druid")
	}
	resources, err := cfg.GetResources()
	if err != nil {
		return resource.Resource{}, fmt.Errorf("reading the kinds in PROJECT: %w", err)
	}
	var matches []resource.Resource
	known := make([]string, 0, len(resources))
	for _, r := range resources {
		known = append(known, describeKind(r.GVK))
		if r.Kind == gvk.Kind && (gvk.Group == "" || r.Group == gvk.Group) &&
			(gvk.Version == "" || r.Version == gvk.Version) {
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 1:
		if !matches[0].HasAPI() || matches[0].IsExternal() {
			return resource.Resource{}, fmt.Errorf("kind %s has no API in this project (it was created with "+
				"--resource=false or is external): node types need a kind created with opbuilder",
				describeKind(matches[0].GVK))
		}
		return matches[0], nil
	case 0:
		have := "no kinds yet"
		if len(known) > 0 {
			have = "the kinds " + strings.Join(known, ", ")
		}
		return resource.Resource{}, fmt.Errorf("kind %s does not exist in PROJECT, which has %s: %s",
			describeKind(gvk), have, ifUnknown)
	default:
		found := make([]string, 0, len(matches))
		for _, m := range matches {
			found = append(found, describeKind(m.GVK))
		}
		return resource.Resource{}, fmt.Errorf("kind %s is ambiguous, PROJECT has %s: pass --group and --version",
			gvk.Kind, strings.Join(found, " and "))
	}
}

// describeKind names a kind with its group and version, e.g.
// "Druid (data/v1alpha1)".
func describeKind(gvk resource.GVK) string {
	gv := strings.Trim(gvk.Group+"/"+gvk.Version, "/")
	if gv == "" {
		return gvk.Kind
	}
	return fmt.Sprintf("%s (%s)", gvk.Kind, gv)
}

// runMakeGenerate regenerates the deep-copy code and the manifests after a
// node type changed the API.
func runMakeGenerate() error {
	if err := util.RunCmd("Regenerating deep-copy code", "make", "generate"); err != nil {
		return fmt.Errorf("running make generate: %w", err)
	}
	if err := util.RunCmd("Regenerating manifests", "make", "manifests"); err != nil {
		return fmt.Errorf("running make manifests: %w", err)
	}
	return nil
}

// nodeTypeSubcommand is create nodetype. It follows kubebuilder's subcommand
// hooks, so that a command built from it behaves like create api.
type nodeTypeSubcommand struct {
	nodeTypeAdder
	flags   nodeTypeFlags
	gvk     resource.GVK
	runMake bool
}

// UpdateMetadata implements plugin.UpdatesMetadata.
func (p *nodeTypeSubcommand) UpdateMetadata(cli kbplugin.CLIMetadata, meta *kbplugin.SubcommandMetadata) {
	meta.Description = `Add a node type to a kind created with opbuilder.

A data system runs several node types (Druid: historical, broker, coordinator...).
This command adds one to the kind:
  - a typed spec for one group of the node type (api/<version>/<kind>_<name>_types.go),
    listed by a new field of the kind's spec (e.g. historicals: [{name: hot}, {name: cold}]);
  - a builder of each group's ConfigMap, workload, Services and PodDisruptionBudget
    (internal/controller/<kind>_<name>.go), registered with the kind's controller;
  - a test that the controller creates those objects;
  - the node type at the end of the default deployment order, and in the sample.
Nothing is written when a flag or the project is not right.
`
	meta.Examples = fmt.Sprintf(`  # A StatefulSet node type whose pods each get a 10Gi volume
  %[1]s create nodetype --kind Druid --name historical --workload statefulset --port 8083 --storage 10Gi

  # A Deployment node type with two pods per group
  %[1]s create nodetype --kind Druid --name broker --workload deployment --port 8082 --replicas 2

  # With stock kubebuilder and the external plugin installed:
  kubebuilder create api --plugins %[2]s --group data --version v1alpha1 --kind Druid \
    --nodetype broker --workload deployment --port 8082
`, cli.CommandName, Key)
}

// BindFlags implements plugin.HasFlags.
func (p *nodeTypeSubcommand) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&p.gvk.Kind, "kind", "", "Kind to add the node type to, e.g. Druid")
	fs.StringVar(&p.gvk.Group, "group", "", "Group of the kind, when the kind name alone is ambiguous")
	fs.StringVar(&p.gvk.Version, "version", "", "Version of the kind, when the kind name alone is ambiguous")
	p.flags.bind(fs, flagName)
	fs.BoolVar(&p.runMake, "make", true,
		"Run 'make generate manifests' after adding the node type (use --make=false to skip)")
}

// InjectConfig implements plugin.RequiresConfig.
func (p *nodeTypeSubcommand) InjectConfig(c config.Config) error {
	p.config = c
	return nil
}

// PreScaffold implements plugin.HasPreScaffold.
func (p *nodeTypeSubcommand) PreScaffold(fsys machinery.Filesystem) error {
	return p.check(fsys, &p.flags, p.gvk)
}

// Scaffold implements plugin.Subcommand.
func (p *nodeTypeSubcommand) Scaffold(fsys machinery.Filesystem) error {
	return p.scaffold(fsys)
}

// PostScaffold implements plugin.HasPostScaffold.
func (p *nodeTypeSubcommand) PostScaffold() error {
	if p.runMake {
		if err := runMakeGenerate(); err != nil {
			return err
		}
	}
	fmt.Printf("Next: edit %s to build the node type's objects, then run the tests with `make test`.\n",
		p.scaffolderBuilderPath())
	return nil
}

// scaffolderBuilderPath is the file the user edits next.
func (p *nodeTypeSubcommand) scaffolderBuilderPath() string {
	return fmt.Sprintf("internal/controller/%s_%s.go", strings.ToLower(p.resource.Kind), p.nodeType.FileName())
}
