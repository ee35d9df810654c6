package plugin

import (
	"strings"
	"testing"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

// Building a project runs goimports over every Go file, which takes seconds;
// these tests build as few as they can and run several steps on each.

// runDeleteNodeType runs delete nodetype's hooks with args (but not make).
func runDeleteNodeType(p *projecttest.Project, args ...string) error {
	return projecttest.RunHooks(&deleteNodeTypeSubcommand{}, args, p.Config, nil, p.FS)
}

// deleteArgs are the arguments that delete the node type name of Druid.
func deleteArgs(name string, extra ...string) []string {
	return append([]string{"--kind", "Druid", "--name", name}, extra...)
}

// withProject returns the project's files and, as "PROJECT", its
// configuration as PROJECT would hold it.
func withProject(t *testing.T, p *projecttest.Project) map[string]string {
	t.Helper()
	files := p.Snapshot(t)
	b, err := p.Config.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	files["PROJECT"] = string(b)
	return files
}

// assertSameProject fails unless two projects have the same files, byte for
// byte, and the same PROJECT.
func assertSameProject(t *testing.T, want, got map[string]string) {
	t.Helper()
	if diff := projecttest.Diff(want, got); diff != "" {
		t.Errorf("the project is not as wanted:\n%s", diff)
		for path, content := range got {
			if w, ok := want[path]; ok && w != content {
				t.Logf("%s is\n%s\nwant\n%s", path, content, w)
			}
		}
	}
}

// assertDeleteFailsCleanly runs delete nodetype with args and fails unless
// it returns an error mentioning every want and leaves the files and
// PROJECT as they were.
func assertDeleteFailsCleanly(t *testing.T, p *projecttest.Project, args []string, wants ...string) {
	t.Helper()
	before, beforeProject := p.Snapshot(t), withProject(t, p)
	assertFailsCleanly(t, p, before, runDeleteNodeType(p, args...), wants...)
	assertSameProject(t, beforeProject, withProject(t, p))
}

var (
	middlemanager = []string{"--kind", "Druid", "--name", "middlemanager", "--workload", "statefulset",
		"--port", "8091"}
	router = []string{"--kind", "Druid", "--name", "router", "--workload", "deployment", "--port", "8888"}
)

func TestDeleteNodeTypeUndoesCreateNodeTypeOfTheOnlyNodeType(t *testing.T) {
	p := withDruid(t)
	want := withProject(t, p)
	for _, nt := range [][]string{historical, broker} {
		if err := runNodeType(p, nt...); err != nil {
			t.Fatal(err)
		}
		if err := runDeleteNodeType(p, deleteArgs(nt[3])...); err != nil {
			t.Fatal(err)
		}
		// The shared helpers went with the last node type, too.
		assertSameProject(t, want, withProject(t, p))
	}
}

func TestDeleteNodeTypeUndoesCreateNodeTypeBetweenOthers(t *testing.T) {
	want := withProject(t, withNodeTypes(t, router, middlemanager))
	p := withNodeTypes(t, router, historical, broker, middlemanager)
	// historical is a StatefulSet with storage and groups, broker a
	// Deployment; each sits between two others when it is deleted.
	for _, name := range []string{"historical", "broker"} {
		if err := runDeleteNodeType(p, deleteArgs(name)...); err != nil {
			t.Fatal(err)
		}
	}
	assertSameProject(t, want, withProject(t, p))
}

func TestDeleteNodeTypeWithoutAProjectRecord(t *testing.T) {
	// The external plugin cannot write PROJECT: the node type's settings
	// then come from its files.
	want := withNodeTypes(t, broker).Snapshot(t)
	p := withNodeTypes(t, historical, broker)
	if err := savePluginConfig(p.Config, Config{}); err != nil {
		t.Fatal(err)
	}
	if err := runDeleteNodeType(p, deleteArgs("historical")...); err != nil {
		t.Fatal(err)
	}
	assertSameProject(t, want, p.Snapshot(t))
}

func TestDeleteNodeTypeRefusesToLoseEditsUnlessForced(t *testing.T) {
	const (
		builder        = "internal/controller/druid_historical.go"
		controllerFile = "internal/controller/druid_controller.go"
		editedLine     = "\t\tdruidHistoricalNodeType(), // the tiers\n"
	)
	want := withProject(t, withNodeTypes(t, broker))
	p := withNodeTypes(t, historical, broker)

	p.Write(t, builder, p.Read(t, builder)+"\n// my own code\n")
	assertDeleteFailsCleanly(t, p, deleteArgs("historical"), `node type "historical"`, builder, "--force")
	if err := runDeleteNodeType(p, deleteArgs("historical")...); strings.Contains(err.Error(), "_types.go") {
		t.Errorf("the error names a file that was not edited: %v", err)
	}

	// An edited line it added is not found, and named.
	p.Write(t, controllerFile, strings.Replace(p.Read(t, controllerFile),
		"\t\tdruidHistoricalNodeType(),\n", editedLine, 1))
	assertDeleteFailsCleanly(t, p, deleteArgs("historical"), builder, controllerFile,
		`"druidHistoricalNodeType(),"`, "+opbuilder:scaffold:nodetypes", "--force")

	// --force removes the files and every line but the edited one.
	if err := runDeleteNodeType(p, deleteArgs("historical", "--force")...); err != nil {
		t.Fatal(err)
	}
	got := withProject(t, p)
	if strings.Replace(got[controllerFile], editedLine, "", 1) != want[controllerFile] ||
		!strings.Contains(got[controllerFile], editedLine) {
		t.Errorf("--force did not leave exactly the edited line in %s:\n%s", controllerFile, got[controllerFile])
	}
	got[controllerFile] = want[controllerFile]
	assertSameProject(t, want, got)
}

func TestDeleteNodeTypeRejectsBadInputAndWritesNothing(t *testing.T) {
	// Each case fails and leaves the project as it was, so they share it;
	// the cases that change it come last.
	p := withNodeTypes(t, historical, broker)
	tests := []struct {
		name  string
		setup func(*testing.T, *projecttest.Project)
		args  []string
		wants []string
	}{
		{"unknown node type", nil, deleteArgs("router"),
			[]string{`kind Druid has no node type "router"`, "historical, broker", "check --name"}},
		{"missing name", nil, []string{"--kind", "Druid"}, []string{"--name is required"}},
		{"missing kind", nil, []string{"--name", "broker"}, []string{"--kind is required"}},
		{"unknown kind", nil, []string{"--kind", "Pinot", "--name", "broker"},
			[]string{"kind Pinot does not exist in PROJECT", "Druid (data/v1alpha1)", "check --kind"}},
		{"kind not created with opbuilder", addGoV4Kind, []string{"--kind", "Plain", "--name", "broker"},
			[]string{"kind Plain was not created with opbuilder"}},
		{"project without opbuilder", func(t *testing.T, p *projecttest.Project) {
			if err := p.Config.SetPluginChain([]string{"go.kubebuilder.io/v4"}); err != nil {
				t.Fatal(err)
			}
		}, deleteArgs("broker"),
			[]string{"the project does not use opbuilder/v1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup(t, p)
			}
			assertDeleteFailsCleanly(t, p, tc.args, tc.wants...)
		})
	}
}
