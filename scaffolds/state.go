package scaffolds

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
)

// kindState is what a kind's files say about it. The plugin derives all it
// knows about a kind from here, never only from PROJECT, so that running as
// an external plugin (which cannot write PROJECT) sees the same project.
type kindState struct {
	files templates.KindFiles
	// nodeTypes are the kind's node types, in the order of their fields.
	nodeTypes []string
	// specFields maps the Go and JSON names of the fields of the kind's spec
	// to the Go name of the field.
	specFields map[string]string
	// apiDecls maps the top-level identifiers of the kind's API package to
	// the file declaring them.
	apiDecls map[string]string
	// controllerDecls does the same for internal/controller.
	controllerDecls map[string]string
}

// notOpbuilderKindError reports a kind whose files lack a marker opbuilder
// writes when it creates a kind.
type notOpbuilderKindError struct {
	kind, file, marker string
}

func (e notOpbuilderKindError) Error() string {
	return fmt.Sprintf("kind %s was not created with opbuilder: %s has no %q marker. Node types can only "+
		"be added to a kind created by `create api` while opbuilder/v1 is in the project's plugin chain "+
		"(or one to which that marker has been added by hand)", e.kind, e.file, e.marker)
}

// inspectKind reads the files of res and returns what they say about it. It
// fails when the kind was not created with opbuilder.
func inspectKind(fsys afero.Fs, res *resource.Resource) (*kindState, error) {
	st := &kindState{
		files:      templates.FilesFor(res),
		specFields: map[string]string{},
	}

	// Every marker a node type inserts at must be there.
	required := []struct{ path, value string }{
		{st.files.Types, templates.NodeTypeFieldsMarker},
		{st.files.Types, templates.DeploymentOrderMarker},
		{st.files.Controller, templates.NodeTypesMarker},
		{st.files.Test, templates.SampleNodeTypesMarker},
		{st.files.Sample, templates.SampleNodeTypesMarker},
	}
	for _, r := range required {
		content, err := afero.ReadFile(fsys, r.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("kind %s was not created with opbuilder: %s does not exist", res.Kind, r.path)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.path, err)
		}
		marker := templates.NewMarker(r.path, r.value)
		if !hasMarker(string(content), marker.EqualsLine) {
			return nil, notOpbuilderKindError{kind: res.Kind, file: r.path, marker: marker.String()}
		}
	}

	var err error
	if st.apiDecls, err = packageDecls(fsys, st.files.APIDir); err != nil {
		return nil, err
	}
	if st.controllerDecls, err = packageDecls(fsys, filepath.Dir(st.files.Controller)); err != nil {
		return nil, err
	}
	if err := st.readSpec(fsys, res.Kind); err != nil {
		return nil, err
	}
	return st, nil
}

// hasMarker reports whether a line of content is the marker.
func hasMarker(content string, equalsLine func(string) bool) bool {
	for line := range strings.SplitSeq(content, "\n") {
		if equalsLine(line) {
			return true
		}
	}
	return false
}

// readSpec records the fields of the kind's spec and, from their
// +opbuilder:nodetype markers, its node types.
func (st *kindState) readSpec(fsys afero.Fs, kind string) error {
	src, err := afero.ReadFile(fsys, st.files.Types)
	if err != nil {
		return fmt.Errorf("reading %s: %w", st.files.Types, err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), st.files.Types, src, parser.ParseComments)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", st.files.Types, err)
	}
	spec := findStruct(f, kind+"Spec")
	if spec == nil {
		return fmt.Errorf("%s declares no struct %sSpec; opbuilder adds node types to it", st.files.Types, kind)
	}
	for _, field := range spec.Fields.List {
		for _, name := range fieldNames(field) {
			st.specFields[name] = name
			if j := jsonName(field); j != "" {
				st.specFields[j] = name
			}
		}
		if field.Doc == nil {
			continue
		}
		for _, c := range field.Doc.List {
			text := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
			if nt, ok := strings.CutPrefix(text, templates.NodeTypeFieldMarker); ok {
				st.nodeTypes = append(st.nodeTypes, strings.TrimSpace(nt))
			}
		}
	}
	return nil
}

// hasNodeType reports whether the kind has the node type.
func (st *kindState) hasNodeType(name string) bool { return slices.Contains(st.nodeTypes, name) }

// findStruct returns the struct type named name declared in f, or nil.
func findStruct(f *ast.File, name string) *ast.StructType {
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, spec := range gen.Specs {
			ts := spec.(*ast.TypeSpec)
			if ts.Name.Name != name {
				continue
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				return st
			}
		}
	}
	return nil
}

// fieldNames returns the Go names of a struct field; an embedded field is
// named by its type.
func fieldNames(field *ast.Field) []string {
	if len(field.Names) > 0 {
		names := make([]string, 0, len(field.Names))
		for _, n := range field.Names {
			names = append(names, n.Name)
		}
		return names
	}
	t := field.Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch t := t.(type) {
	case *ast.Ident:
		return []string{t.Name}
	case *ast.SelectorExpr:
		return []string{t.Sel.Name}
	}
	return nil
}

// jsonName returns the name in a field's json tag, or "".
func jsonName(field *ast.Field) string {
	if field.Tag == nil {
		return ""
	}
	tag := reflect.StructTag(strings.Trim(field.Tag.Value, "`"))
	name, _, _ := strings.Cut(tag.Get("json"), ",")
	return name
}

// packageDecls returns the top-level identifiers declared by the Go files in
// dir, mapped to the file declaring them. A missing directory declares
// nothing.
func packageDecls(fsys afero.Fs, dir string) (map[string]string, error) {
	decls := map[string]string{}
	entries, err := afero.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return decls, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		src, err := afero.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		for _, name := range topLevelNames(f) {
			decls[name] = path
		}
	}
	return decls, nil
}

// topLevelNames returns the identifiers f declares at package level, methods
// left out.
func topLevelNames(f *ast.File) []string {
	var names []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					names = append(names, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						names = append(names, n.Name)
					}
				}
			}
		}
	}
	return names
}
