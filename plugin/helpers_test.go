package plugin

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

// runInit runs opbuilder's init hooks with args against p, with an empty
// environment.
func runInit(p *projecttest.Project, args ...string) error {
	sub := &initSubcommand{host: p.Host, getenv: func(string) string { return "" }}
	return projecttest.RunHooks(sub, args, p.Config, nil, p.FS)
}

// runCreateAPI runs opbuilder's create api hooks for res with args.
func runCreateAPI(p *projecttest.Project, res *resource.Resource, args ...string) error {
	return projecttest.RunHooks(&createAPISubcommand{}, args, p.Config, res, p.FS)
}

// runNodeType runs create nodetype's hooks with args (but not make).
func runNodeType(p *projecttest.Project, args ...string) error {
	return projecttest.RunHooks(&nodeTypeSubcommand{}, args, p.Config, nil, p.FS)
}

// initialized returns a project that go/v4 and opbuilder have initialized.
func initialized(t *testing.T) *projecttest.Project {
	t.Helper()
	p := projecttest.New(t)
	p.GoV4Init(t)
	if err := runInit(p, "--runtime-path", projecttest.RuntimeDir); err != nil {
		t.Fatalf("init: %v", err)
	}
	return p
}

// withDruid returns an initialized project with the opbuilder kind Druid.
func withDruid(t *testing.T) *projecttest.Project {
	t.Helper()
	p := initialized(t)
	res := p.GoV4API(t, "data", "v1alpha1", "Druid")
	if err := runCreateAPI(p, res); err != nil {
		t.Fatalf("create api: %v", err)
	}
	return p
}

// withNodeTypes returns withDruid's project with the given node types added,
// each given as its create nodetype arguments.
func withNodeTypes(t *testing.T, nodeTypes ...[]string) *projecttest.Project {
	t.Helper()
	p := withDruid(t)
	for _, args := range nodeTypes {
		if err := runNodeType(p, args...); err != nil {
			t.Fatalf("create nodetype %v: %v", args, err)
		}
	}
	return p
}

var (
	historical = []string{"--kind", "Druid", "--name", "historical", "--workload", "statefulset",
		"--port", "8083", "--storage", "10Gi", "--groups", "hot,cold"}
	broker = []string{"--kind", "Druid", "--name", "broker", "--workload", "deployment",
		"--port", "8082", "--replicas", "2"}
)

// assertGoParses fails the test for every Go file of the project that does
// not parse.
func assertGoParses(t *testing.T, p *projecttest.Project) {
	t.Helper()
	declaredIn := map[string]string{} // "<dir> <package>.<name>" -> file
	for path, content := range p.Snapshot(t) {
		if !strings.HasSuffix(path, ".go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, content, parser.AllErrors)
		if err != nil {
			t.Errorf("%s does not parse: %v\n%s", path, err, content)
			continue
		}
		// A name two files of one package declare (say, a constant each
		// kind's test declares) parses but does not compile.
		for _, name := range topLevelNames(f) {
			key := filepath.Dir(path) + " " + f.Name.Name + "." + name
			if other, ok := declaredIn[key]; ok {
				t.Errorf("%s and %s both declare %s", other, path, name)
			}
			declaredIn[key] = path
		}
	}
}

// topLevelNames returns the package-level names f declares: functions
// without a receiver, types, constants and variables.
func topLevelNames(f *ast.File) []string {
	var names []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name != "init" {
				names = append(names, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					names = append(names, s.Name.Name)
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name != "_" {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	return names
}

// assertContains fails unless content holds every want, in order.
func assertContains(t *testing.T, name, content string, wants ...string) {
	t.Helper()
	rest := content
	for _, want := range wants {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Errorf("%s: missing (or out of order) %q in:\n%s", name, want, content)
			return
		}
		rest = rest[i+len(want):]
	}
}

// assertFailsCleanly fails unless err is an error mentioning every want and
// the project's files are exactly as in before.
func assertFailsCleanly(t *testing.T, p *projecttest.Project, before map[string]string, err error,
	wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded; want an error mentioning %q", wants)
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if diff := projecttest.Diff(before, p.Snapshot(t)); diff != "" {
		t.Errorf("the failed command changed the project:\n%s", diff)
	}
}
