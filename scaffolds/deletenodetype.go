package scaffolds

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/api"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/controller"
	"github.com/opbuilder/opbuilder/scaffolds/model"
)

// NodeTypeRemover takes a node type out of a kind: the reverse of
// NodeTypeScaffolder.
type NodeTypeRemover struct {
	config   config.Config
	resource resource.Resource
	name     string
	// recorded is the node type as PROJECT records it, or nil.
	recorded *model.NodeType
	force    bool
	fs       machinery.Filesystem

	// plan is what Check decided to do.
	plan *removal
}

// removal is every change delete nodetype makes, computed before any is
// made.
type removal struct {
	// writes are the kind's files with the node type taken out.
	writes map[string][]byte
	// removes are the files that go.
	removes []string
	// forced describes what --force let through: edited files, and lines
	// that were not found and stay.
	forced []string
}

// NewNodeTypeRemover returns the scaffolder that removes the node type name
// from the kind res of the project cfg. recorded is the node type's record
// in PROJECT, nil when PROJECT has none; the node type's settings are then
// read from its files. With force, files the user edited are removed all
// the same, and lines that are not found are left in place.
func NewNodeTypeRemover(cfg config.Config, res resource.Resource, name string, recorded *model.NodeType,
	force bool) *NodeTypeRemover {
	return &NodeTypeRemover{config: cfg, resource: res, name: name, recorded: recorded, force: force}
}

// InjectFS sets the project's filesystem.
func (s *NodeTypeRemover) InjectFS(fsys machinery.Filesystem) { s.fs = fsys }

// Check works out every change and returns an error, before anything is
// written, when the node type cannot be removed: the kind was not made by
// opbuilder, it has no such node type, or (without force) the user edited
// the node type's files or the lines it added to the kind's files.
func (s *NodeTypeRemover) Check() error {
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
	if !st.hasNodeType(s.name) {
		have := "has no node types"
		if len(st.nodeTypes) > 0 {
			have = "has the node types " + strings.Join(st.nodeTypes, ", ")
		}
		return fmt.Errorf("kind %s has no node type %q: it %s (the %s markers in %s); check --name",
			s.resource.Kind, s.name, have, templates.NodeTypeFieldMarker, st.files.Types)
	}
	nt := s.nodeType(st)
	boilerplate, err := readBoilerplate(s.fs.FS)
	if err != nil {
		return err
	}

	plan := &removal{}
	own := nodeTypeOwnFiles(&nt)
	if len(st.nodeTypes) == 1 {
		// The first node type wrote the kind's shared helpers; the last
		// one takes them away, so that the kind is as create api left it.
		own = append(own, &controller.Objects{RuntimeModule: RuntimeModule})
	}
	edited, err := s.editedFiles(boilerplate, own)
	if err != nil {
		return err
	}
	for _, b := range own {
		if !slices.Contains(edited.missing, b.GetPath()) {
			plan.removes = append(plan.removes, b.GetPath())
		}
	}

	remover := newFragmentRemover(func(path string) ([]byte, error) { return afero.ReadFile(s.fs.FS, path) })
	for _, ins := range nodeTypeInserters(&s.resource, &nt) {
		if err := remover.remove(ins); err != nil {
			return err
		}
	}
	if plan.writes, err = remover.files(); err != nil {
		return err
	}
	names, err := s.render(boilerplate, &api.NodeTypeNames{
		Names: slices.DeleteFunc(slices.Clone(st.nodeTypes), func(n string) bool { return n == s.name }),
	})
	if err != nil {
		return err
	}
	for path, b := range names {
		plan.writes[path] = b
	}

	// Everything that stands in the way is reported at once.
	var problems []string
	if changed := edited.describe(); len(changed) > 0 {
		problems = append(problems, fmt.Sprintf("its files are not what create nodetype wrote, so removing "+
			"them would lose your changes: %s", strings.Join(changed, ", ")))
	}
	if len(remover.notFound) > 0 {
		problems = append(problems, fmt.Sprintf("lines it added to kind %s's files are no longer as create "+
			"nodetype wrote them, so they cannot be told apart from yours: %s", s.resource.Kind,
			strings.Join(remover.notFound, "; ")))
	}
	if len(problems) > 0 {
		if !s.force {
			return fmt.Errorf("node type %q cannot be removed as it is: %s. Keep what you need elsewhere (or "+
				"undo the changes) and run again with --force, which removes the files all the same and leaves "+
				"the lines it cannot find for you to take out", s.name, strings.Join(problems, "; and "))
		}
		plan.forced = problems
	}
	s.plan = plan
	return nil
}

// Scaffold implements plugins.Scaffolder. It makes the changes Check worked
// out.
func (s *NodeTypeRemover) Scaffold() error {
	if s.plan == nil {
		return errors.New("removing a node type: Check was not run")
	}
	slog.Info("Removing node type", "kind", s.resource.Kind, "nodetype", s.name)
	for _, path := range slices.Sorted(maps.Keys(s.plan.writes)) {
		if err := writeKeepingMode(s.fs.FS, path, s.plan.writes[path]); err != nil {
			return err
		}
	}
	for _, path := range s.plan.removes {
		if err := s.fs.FS.Remove(path); err != nil {
			return fmt.Errorf("removing %s: %w", path, err)
		}
	}
	for _, f := range s.plan.forced {
		slog.Warn("Removed with --force although "+f, "nodetype", s.name)
	}
	return nil
}

// writeKeepingMode overwrites an existing file, keeping its permissions.
func writeKeepingMode(fsys afero.Fs, path string, content []byte) error {
	info, err := fsys.Stat(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := afero.WriteFile(fsys, path, content, info.Mode().Perm()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// editedFiles compares the files the templates own write with what the
// project holds.
func (s *NodeTypeRemover) editedFiles(boilerplate string, own []machinery.Builder) (fileEdits, error) {
	rendered, err := s.render(boilerplate, own...)
	if err != nil {
		return fileEdits{}, err
	}
	var edits fileEdits
	for _, b := range own {
		path := b.GetPath()
		got, err := afero.ReadFile(s.fs.FS, path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			edits.missing = append(edits.missing, path)
		case err != nil:
			return fileEdits{}, fmt.Errorf("reading %s: %w", path, err)
		case !bytes.Equal(got, rendered[path]):
			edits.changed = append(edits.changed, path)
		}
	}
	return edits, nil
}

// fileEdits are the node type's files that are not as rendered.
type fileEdits struct {
	changed, missing []string
}

// describe lists the files, the missing ones said so.
func (e fileEdits) describe() []string {
	out := slices.Clone(e.changed)
	for _, path := range e.missing {
		out = append(out, path+" (missing)")
	}
	return out
}

// render returns what builders write, by path, rendered by the machinery
// exactly as create nodetype renders them, but into memory.
func (s *NodeTypeRemover) render(boilerplate string, builders ...machinery.Builder) (map[string][]byte, error) {
	mem := machinery.Filesystem{FS: afero.NewMemMapFs()}
	if err := newScaffold(mem, s.config, &s.resource, boilerplate).Execute(builders...); err != nil {
		return nil, fmt.Errorf("rendering node type %q: %w", s.name, err)
	}
	out := make(map[string][]byte, len(builders))
	for _, b := range builders {
		content, err := afero.ReadFile(mem.FS, b.GetPath())
		if err != nil {
			return nil, fmt.Errorf("rendering %s: %w", b.GetPath(), err)
		}
		out[b.GetPath()] = content
	}
	return out, nil
}

// nodeType returns the settings the node type was created with. They come
// from PROJECT when it records them; otherwise (a node type added by the
// external plugin, which cannot write PROJECT) from the defaults its spec
// type declares, and its workload from the validation rule it added to the
// kind. The groups come from the sample, the only file that names them. A
// setting that cannot be read stays zero: the files rendered with it then
// differ from the project's, and Check says so.
func (s *NodeTypeRemover) nodeType(st *kindState) model.NodeType {
	var nt model.NodeType
	if s.recorded != nil {
		nt = *s.recorded
	} else {
		nt = s.nodeTypeFromSpec()
		nt.Workload = s.workloadFromRule(st, nt)
	}
	nt.Name = s.name
	nt.Groups = s.sampleGroups(st, nt)
	nt.Default()
	return nt
}

// nodeTypeFromSpec reads the node type's defaults from the
// +kubebuilder:default markers of its spec type.
func (s *NodeTypeRemover) nodeTypeFromSpec() model.NodeType {
	nt := model.NodeType{Name: s.name}
	path := templates.NodeTypeFilesFor(&s.resource, &nt).Types
	src, err := afero.ReadFile(s.fs.FS, path)
	if err != nil {
		return nt
	}
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ParseComments)
	if err != nil {
		return nt
	}
	spec := findStruct(f, nt.SpecType())
	if spec == nil {
		return nt
	}
	for _, field := range spec.Fields.List {
		value := defaultMarker(field)
		switch strings.Join(fieldNames(field), ",") {
		case "Replicas":
			nt.Replicas = parseInt32(value)
		case "Port":
			nt.Port = parseInt32(value)
		case "Storage":
			// {size: "10Gi"}
			if _, size, ok := strings.Cut(value, `"`); ok {
				nt.Storage, _, _ = strings.Cut(size, `"`)
			}
		}
	}
	return nt
}

// defaultMarker returns the value of a field's +kubebuilder:default marker,
// or "".
func defaultMarker(field *ast.Field) string {
	if field.Doc == nil {
		return ""
	}
	for _, c := range field.Doc.List {
		text := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		if v, ok := strings.CutPrefix(text, "+kubebuilder:default="); ok {
			return v
		}
	}
	return ""
}

// parseInt32 returns s as an int32, or 0.
func parseInt32(s string) int32 {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// workloadFromRule returns the workload whose name-length rule, as create
// nodetype writes it for nt, is in the kind's types file. The rule is the
// one line of the kind that differs between the two. Without it, a node type
// with storage is taken for a StatefulSet, any other for a Deployment.
func (s *NodeTypeRemover) workloadFromRule(st *kindState, nt model.NodeType) model.Workload {
	content, err := afero.ReadFile(s.fs.FS, st.files.Types)
	if err == nil {
		marker := templates.NewMarker(st.files.Types, templates.KindValidationsMarker)
		for _, w := range model.Workloads() {
			candidate := nt
			candidate.Workload = w
			field := &api.NodeTypeField{ResourceMixin: machinery.ResourceMixin{Resource: &s.resource},
				NodeType: &candidate}
			for _, fragment := range field.GetCodeFragments()[marker] {
				if containsFragment(string(content), marker, fragment) {
					return w
				}
			}
		}
	}
	if nt.HasStorage() {
		return model.StatefulSet
	}
	return model.Deployment
}

// sampleGroups returns the names of the node type's groups in the kind's
// sample, or nil.
func (s *NodeTypeRemover) sampleGroups(st *kindState, nt model.NodeType) []string {
	content, err := afero.ReadFile(s.fs.FS, st.files.Sample)
	if err != nil {
		return nil
	}
	var sample struct {
		Spec map[string]any `json:"spec"`
	}
	if err := yaml.Unmarshal(content, &sample); err != nil {
		return nil
	}
	list, _ := sample.Spec[nt.JSONName()].([]any)
	var groups []string
	for _, item := range list {
		group, _ := item.(map[string]any)
		if name, ok := group["name"].(string); ok {
			groups = append(groups, name)
		}
	}
	return groups
}
