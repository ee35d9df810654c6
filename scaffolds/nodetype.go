package scaffolds

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/api"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/controller"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/samples"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// NodeTypeScaffolder adds a node type to a kind created with opbuilder.
type NodeTypeScaffolder struct {
	config   config.Config
	resource resource.Resource
	nodeType model.NodeType
	fs       machinery.Filesystem
}

// NewNodeTypeScaffolder returns the scaffolder that adds nt to the kind res
// of the project cfg. nt must have been defaulted and validated.
func NewNodeTypeScaffolder(cfg config.Config, res resource.Resource, nt model.NodeType) *NodeTypeScaffolder {
	return &NodeTypeScaffolder{config: cfg, resource: res, nodeType: nt}
}

// InjectFS sets the project's filesystem.
func (s *NodeTypeScaffolder) InjectFS(fsys machinery.Filesystem) { s.fs = fsys }

// Check returns an error, before anything is written, when the node type
// cannot be added: the project or kind was not made by opbuilder, the kind
// already has the node type, or one of the names the node type needs is
// taken.
func (s *NodeTypeScaffolder) Check() error {
	if err := checkLayout(s.config); err != nil {
		return err
	}
	if err := checkInitialized(s.fs.FS); err != nil {
		return err
	}
	st, err := inspectKind(s.fs.FS, &s.resource)
	if err != nil {
		return err
	}
	nt := &s.nodeType
	kind := s.resource.Kind

	if st.hasNodeType(nt.Name) {
		return fmt.Errorf("kind %s already has the node type %q: to run more of it, add groups to "+
			"spec.%s of your %s; to start over, remove the node type first", kind, nt.Name, nt.JSONName(), kind)
	}
	for _, name := range []string{nt.FieldName(), nt.JSONName()} {
		if field, taken := st.specFields[name]; taken {
			return fmt.Errorf("node type %q would add the field %s (json %q) to %sSpec, which already has "+
				"the field %s: choose another --name", nt.Name, nt.FieldName(), nt.JSONName(), kind, field)
		}
	}
	if file, taken := st.apiDecls[nt.SpecType()]; taken {
		return fmt.Errorf("node type %q would declare the Go type %s, which %s already declares: "+
			"choose another --name", nt.Name, nt.SpecType(), file)
	}
	prefix := varFor(kind) + nt.GoName()
	for _, name := range []string{
		prefix + "Name", prefix + "ConfigDir", prefix + "DataDir", prefix + "DataVolume", prefix + "NodeType",
		"build" + kind + nt.FieldName(), "build" + kind + nt.GoName() + "Group",
	} {
		if file, taken := st.controllerDecls[name]; taken {
			return fmt.Errorf("node type %q would declare %s in internal/controller, which %s already "+
				"declares: choose another --name", nt.Name, name, file)
		}
	}

	files := templates.NodeTypeFilesFor(&s.resource, nt)
	kindFiles := templates.FilesFor(&s.resource)
	own := []string{kindFiles.Types, kindFiles.Controller, kindFiles.Test, controller.ObjectsPath(strings.ToLower(kind))}
	for _, path := range []string{files.Types, files.Builder, files.Test} {
		if slices.Contains(own, path) {
			// Such a name is taken by the kind itself: moving the file
			// away, as below, would lose the kind's own code.
			return fmt.Errorf("node type %q would write %s, which is one of kind %s's own files: choose another --name",
				nt.Name, path, kind)
		}
		exists, err := afero.Exists(s.fs.FS, path)
		if err != nil {
			return fmt.Errorf("checking %s: %w", path, err)
		}
		if exists {
			return fmt.Errorf("%s already exists although kind %s has no node type %q: move the file "+
				"away (or delete it) and run the command again", path, kind, nt.Name)
		}
	}
	return nil
}

// Scaffold implements plugins.Scaffolder.
func (s *NodeTypeScaffolder) Scaffold() error {
	slog.Info("Adding node type", "kind", s.resource.Kind, "nodetype", s.nodeType.Name,
		"workload", s.nodeType.Workload)

	boilerplate, err := readBoilerplate(s.fs.FS)
	if err != nil {
		return err
	}
	nt := &s.nodeType
	st, err := inspectKind(s.fs.FS, &s.resource)
	if err != nil {
		return err
	}
	builders := append(nodeTypeOwnFiles(nt),
		&api.NodeTypeNames{Names: append(slices.Clone(st.nodeTypes), nt.Name)},
		&controller.Objects{RuntimeModule: RuntimeModule},
	)
	for _, ins := range nodeTypeInserters(&s.resource, nt) {
		builders = append(builders, ins)
	}
	if err := newScaffold(s.fs, s.config, &s.resource, boilerplate).Execute(builders...); err != nil {
		return fmt.Errorf("adding node type %q to kind %s: %w", nt.Name, s.resource.Kind, err)
	}
	return nil
}

// newScaffold returns the machinery that writes a kind's node type files
// into fsys.
func newScaffold(fsys machinery.Filesystem, cfg config.Config, res *resource.Resource,
	boilerplate string) *machinery.Scaffold {
	return machinery.NewScaffold(fsys,
		machinery.WithConfig(cfg),
		machinery.WithBoilerplate(boilerplate),
		machinery.WithResource(res),
	)
}

// nodeTypeOwnFiles returns the templates of the files that belong to the
// node type alone: delete nodetype renders them again to tell whether the
// user edited them.
func nodeTypeOwnFiles(nt *model.NodeType) []machinery.Builder {
	return []machinery.Builder{
		&api.NodeTypeSpec{NodeType: nt},
		&controller.NodeTypeBuilder{NodeType: nt, RuntimeModule: RuntimeModule},
		&controller.NodeTypeTest{NodeType: nt, RuntimeModule: RuntimeModule},
	}
}

// nodeTypeInserters returns what a node type inserts into its kind's own
// files at their markers: its spec field, validation rule and place in the
// deployment order, its registration, and its entries in the controller
// test's and the sample's resources. create nodetype inserts these
// fragments and delete nodetype takes out these same fragments, so the two
// cannot drift apart.
func nodeTypeInserters(res *resource.Resource, nt *model.NodeType) []machinery.Inserter {
	mixin := machinery.ResourceMixin{Resource: res}
	return []machinery.Inserter{
		&api.NodeTypeField{ResourceMixin: mixin, NodeType: nt},
		&controller.NodeTypeRegistration{ResourceMixin: mixin, NodeType: nt},
		&controller.TestSample{ResourceMixin: mixin, NodeType: nt},
		&samples.SampleUpdater{ResourceMixin: mixin, NodeType: nt},
	}
}

// NodeTypes returns the node types of the kind res, read from the markers on
// the fields of its spec, in the order they were added.
func NodeTypes(fsys afero.Fs, res resource.Resource) ([]string, error) {
	st, err := inspectKind(fsys, &res)
	if err != nil {
		return nil, err
	}
	return st.nodeTypes, nil
}

// IsOpbuilderKind reports whether the kind res was created with opbuilder,
// judging by the markers in its files.
func IsOpbuilderKind(fsys afero.Fs, res resource.Resource) bool {
	_, err := inspectKind(fsys, &res)
	return err == nil
}
