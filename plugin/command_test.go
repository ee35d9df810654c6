package plugin

import (
	"io"
	"strings"
	"testing"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

// runCommand runs create nodetype as a CLI user does, against p's files.
func runCommand(t *testing.T, p *projecttest.Project, args ...string) error {
	t.Helper()
	cmd := NewCreateNodeTypeCommand("kubebuilder-opbuilder", WithFilesystem(p.FS))
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	return cmd.Execute()
}

// saveProject writes p's configuration to its PROJECT file.
func saveProject(t *testing.T, p *projecttest.Project) {
	t.Helper()
	b, err := p.Config.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	p.Write(t, "PROJECT", string(b))
}

func TestCreateNodeTypeCommandLoadsAndSavesProject(t *testing.T) {
	p := withDruid(t)
	saveProject(t, p)
	if err := runCommand(t, p, append([]string{"--make=false"}, broker...)...); err != nil {
		t.Fatal(err)
	}
	assertContains(t, "PROJECT", p.Read(t, "PROJECT"),
		"plugins:", "opbuilder/v1:", "kind: Druid", "nodeTypes:", "- groups:\n        - default\n        name: broker", "port: 8082",
		"replicas: 2", "workload: deployment")
	if !p.Exists(t, "internal/controller/druid_broker.go") {
		t.Error("the node type's builder was not written")
	}
}

func TestCreateNodeTypeCommandBeforeInit(t *testing.T) {
	p := projecttest.New(t)
	before := p.Snapshot(t)
	assertFailsCleanly(t, p, before, runCommand(t, p, append([]string{"--make=false"}, broker...)...),
		"no PROJECT file", "kubebuilder-opbuilder init --plugins go/v4,opbuilder/v1")
}

func TestCreateNodeTypeCommandBeforeOpbuilderInit(t *testing.T) {
	// go/v4 initialized the project, opbuilder did not.
	p := projecttest.New(t)
	p.GoV4Init(t)
	if err := p.Config.SetPluginChain([]string{"go.kubebuilder.io/v4"}); err != nil {
		t.Fatal(err)
	}
	saveProject(t, p)
	before := p.Snapshot(t)
	assertFailsCleanly(t, p, before, runCommand(t, p, append([]string{"--make=false"}, broker...)...),
		"does not use opbuilder/v1", "go.kubebuilder.io/v4")
}

func TestCreateNodeTypeCommandKeepsTheCLIChecks(t *testing.T) {
	cmd := NewCreateNodeTypeCommand("kubebuilder-opbuilder")
	if cmd.PersistentPreRunE != nil || cmd.PersistentPreRun != nil {
		t.Error("create nodetype sets a persistent pre-run hook, which would skip the CLI's own checks")
	}
	for _, flag := range []string{"kind", "group", "version", "name", "workload", "port", "storage", "replicas",
		"groups", "make"} {
		if cmd.Flags().Lookup(flag) == nil {
			t.Errorf("create nodetype has no --%s flag", flag)
		}
	}
}

func TestDeleteNodeTypeCommandRemovesThePROJECTRecord(t *testing.T) {
	p := withDruid(t)
	saveProject(t, p)
	before := p.Snapshot(t)
	if err := runCommand(t, p, append([]string{"--make=false"}, broker...)...); err != nil {
		t.Fatal(err)
	}
	cmd := NewDeleteCommand("kubebuilder-opbuilder", WithFilesystem(p.FS))
	cmd.SetArgs([]string{"nodetype", "--make=false", "--kind", "Druid", "--name", "broker"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	after := p.Snapshot(t)
	// The store writes PROJECT with a header that saveProject leaves out.
	after["PROJECT"] = strings.TrimPrefix(after["PROJECT"], projectHeader(after["PROJECT"]))
	if diff := projecttest.Diff(before, after); diff != "" {
		t.Errorf("create and delete nodetype left the project changed:\n%s", diff)
	}
	if strings.Contains(p.Read(t, "PROJECT"), "broker") {
		t.Errorf("PROJECT still records the node type:\n%s", p.Read(t, "PROJECT"))
	}
}

// projectHeader returns the comment lines PROJECT starts with.
func projectHeader(project string) string {
	end := 0
	for _, line := range strings.SplitAfter(project, "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		end += len(line)
	}
	return project[:end]
}
