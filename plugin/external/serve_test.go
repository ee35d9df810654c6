package external

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/plugin/external"
	"sigs.k8s.io/yaml"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

// serve sends req to Serve and returns the response and what Serve logged.
func serve(t *testing.T, req external.PluginRequest) (external.PluginResponse, string) {
	t.Helper()
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	if err := Serve(bytes.NewReader(in), &out, WithLog(&log)); err != nil {
		t.Fatal(err)
	}
	var resp external.PluginResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil {
		t.Fatalf("the response is not JSON: %v\n%s", err, out.String())
	}
	return resp, log.String()
}

// universe is what kubebuilder sends: every file of the project, .git and
// bin included.
func universe(t *testing.T, p *projecttest.Project) map[string]string {
	t.Helper()
	u := p.Snapshot(t)
	u[".git/HEAD"] = "ref: refs/heads/main\n"
	u[".git/objects/pack/pack-1.pack"] = strings.Repeat("\x00binary", 1000)
	u["bin/manager"] = "\x7fELF"
	return u
}

// projectConfig returns p's configuration as kubebuilder sends it.
func configOf(t *testing.T, p *projecttest.Project) map[string]any {
	t.Helper()
	b, err := p.Config.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// runtimeCheckout returns a directory holding the runtime module's go.mod.
func runtimeCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/opbuilder/opbuilder/runtime\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// apply writes the response's files into p, as kubebuilder does.
func apply(t *testing.T, p *projecttest.Project, resp external.PluginResponse) {
	t.Helper()
	for path, content := range resp.Universe {
		p.Write(t, path, content)
	}
}

func keys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// initialized returns a project go/v4 and the external plugin initialized.
func initialized(t *testing.T) *projecttest.Project {
	t.Helper()
	p := projecttest.New(t)
	p.GoV4Init(t)
	resp, _ := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1", Command: "init",
		Args:     []string{"--domain", "example.com", "--repo", "example.com/druid-operator", "--runtime-path", runtimeCheckout(t)},
		Universe: universe(t, p), Config: configOf(t, p),
	})
	if resp.Error {
		t.Fatalf("init failed: %v", resp.ErrorMsgs)
	}
	apply(t, p, resp)
	return p
}

func TestServeInitAnswersWithTheChangedFilesOnly(t *testing.T) {
	p := projecttest.New(t)
	p.GoV4Init(t)
	runtimeDir := runtimeCheckout(t)
	resp, _ := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1",
		Command:    "init",
		// Other plugins' flags come along, some with values, some bare.
		Args: []string{"--domain", "example.com", "--repo", "example.com/druid-operator",
			"--fetch-deps=false", "--skip-go-version-check", "--runtime-path", runtimeDir},
		Universe: universe(t, p),
		Config:   configOf(t, p),
	})
	if resp.Error {
		t.Fatalf("init failed: %v", resp.ErrorMsgs)
	}
	if got, want := keys(resp.Universe), []string{
		".custom-gcl.yml", ".golangci.yml", "Makefile", "cmd/main.go", "go.mod", "internal/controller/operator.go",
	}; !slices.Equal(got, want) {
		t.Errorf("the response carries %v, want exactly the changed files %v", got, want)
	}
	if !strings.Contains(resp.Universe["go.mod"], "github.com/opbuilder/opbuilder/runtime => "+runtimeDir) {
		t.Errorf("go.mod does not replace the runtime:\n%s", resp.Universe["go.mod"])
	}
	if !strings.Contains(resp.Universe["cmd/main.go"], "// +opbuilder:scaffold:owned-types") {
		t.Error("cmd/main.go is not opbuilder's")
	}
}

func TestServeCreateAPIMakesTheKindADataSystemResource(t *testing.T) {
	p := initialized(t)
	p.GoV4API(t, "data", "v1alpha1", "Druid")
	resp, log := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api",
		Args: []string{"--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--resource",
			"--controller", "--make=false", "--namespaced"},
		Universe: universe(t, p), Config: configOf(t, p),
	})
	if resp.Error {
		t.Fatalf("create api failed: %v", resp.ErrorMsgs)
	}
	if got, want := keys(resp.Universe), []string{
		"api/v1alpha1/druid_types.go",
		"api/v1alpha1/opbuilder_types.go",
		"api/v1alpha1/zz_generated.druid_nodetypes.go",
		"cmd/main.go",
		"config/samples/data_v1alpha1_druid.yaml",
		"internal/controller/druid_controller.go",
		"internal/controller/druid_controller_test.go",
		"internal/controller/suite_test.go",
	}; !slices.Equal(got, want) {
		t.Errorf("the response carries %v, want %v", got, want)
	}
	if !strings.Contains(log, "make generate manifests") {
		t.Errorf("the user is not told to regenerate; log:\n%s", log)
	}
}

func TestServeCreateAPIWithoutAResourceDoesNothing(t *testing.T) {
	p := initialized(t)
	p.GoV4API(t, "data", "v1alpha1", "Druid")
	resp, log := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api",
		Args: []string{"--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--resource=false",
			"--controller"},
		Universe: universe(t, p), Config: configOf(t, p),
	})
	if resp.Error || len(resp.Universe) != 0 {
		t.Errorf("got error=%v %v and files %v; want success without files", resp.Error, resp.ErrorMsgs,
			keys(resp.Universe))
	}
	if !strings.Contains(log, "nothing to do") {
		t.Errorf("the skip is not explained; log:\n%s", log)
	}
}

// withDruid returns a project whose kind Druid the external plugin made.
func withDruid(t *testing.T) *projecttest.Project {
	t.Helper()
	p := initialized(t)
	p.GoV4API(t, "data", "v1alpha1", "Druid")
	resp, _ := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api",
		Args:     []string{"--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--resource", "--controller"},
		Universe: universe(t, p), Config: configOf(t, p),
	})
	if resp.Error {
		t.Fatalf("create api failed: %v", resp.ErrorMsgs)
	}
	apply(t, p, resp)
	return p
}

func TestServeCreateAPIWithNodeTypeAddsANodeType(t *testing.T) {
	p := withDruid(t)
	nodeType := external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api",
		Args: []string{"--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--nodetype", "historical",
			"--workload", "statefulset", "--port", "8083", "--storage", "10Gi", "--groups", "hot,cold"},
		PluginChain: []string{"opbuilder/v1"},
		Universe:    universe(t, p), Config: configOf(t, p),
	}
	resp, _ := serve(t, nodeType)
	if resp.Error {
		t.Fatalf("create api --nodetype failed: %v", resp.ErrorMsgs)
	}
	if got, want := keys(resp.Universe), []string{
		"api/v1alpha1/druid_historical_types.go",
		"api/v1alpha1/druid_types.go",
		"api/v1alpha1/zz_generated.druid_nodetypes.go",
		"config/samples/data_v1alpha1_druid.yaml",
		"internal/controller/druid_controller.go",
		"internal/controller/druid_controller_test.go",
		"internal/controller/druid_historical.go",
		"internal/controller/druid_historical_test.go",
		"internal/controller/druid_objects.go",
	}; !slices.Equal(got, want) {
		t.Errorf("the response carries %v, want %v", got, want)
	}
	apply(t, p, resp)

	// PROJECT was not written, yet the node type is known: from its marker.
	nodeType.Universe = universe(t, p)
	resp, _ = serve(t, nodeType)
	if !resp.Error || len(resp.ErrorMsgs) != 1 ||
		!strings.Contains(resp.ErrorMsgs[0], `kind Druid already has the node type "historical"`) {
		t.Errorf("adding the node type again: error=%v %v", resp.Error, resp.ErrorMsgs)
	}
	if len(resp.Universe) != 0 {
		t.Errorf("a failed request answers with files %v", keys(resp.Universe))
	}
}

func TestServeReportsBadInputAsAnError(t *testing.T) {
	p := withDruid(t)
	resp, _ := serve(t, external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api",
		Args: []string{"--group", "data", "--version", "v1alpha1", "--kind", "Druid", "--nodetype", "broker",
			"--workload", "daemonset", "--port", "8082"},
		Universe: universe(t, p), Config: configOf(t, p),
	})
	if !resp.Error || len(resp.ErrorMsgs) == 0 || !strings.Contains(resp.ErrorMsgs[0], `unknown --workload "daemonset"`) {
		t.Errorf("got error=%v %v, want the unknown workload reported", resp.Error, resp.ErrorMsgs)
	}
}

func TestServeDescribesFlagsAndHelp(t *testing.T) {
	resp, _ := serve(t, external.PluginRequest{APIVersion: "v1alpha1", Command: "flags", Args: []string{"--api"}})
	types := map[string]string{}
	defaults := map[string]string{}
	for _, f := range resp.Flags {
		types[f.Name], defaults[f.Name] = f.Type, f.Default
	}
	for name, typ := range map[string]string{
		"nodetype": "string", "workload": "string", "port": "int", "storage": "string", "replicas": "int",
		"groups": "string", "image": "string", "make": "bool",
	} {
		if types[name] != typ {
			t.Errorf("flag %q has type %q, want %q", name, types[name], typ)
		}
	}
	if defaults["groups"] != "default" || defaults["replicas"] != "1" {
		t.Errorf("defaults: groups=%q replicas=%q", defaults["groups"], defaults["replicas"])
	}

	resp, _ = serve(t, external.PluginRequest{APIVersion: "v1alpha1", Command: "flags", Args: []string{"--init"}})
	var names []string
	for _, f := range resp.Flags {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"runtime-path", "runtime-version"}) {
		t.Errorf("init flags %v", names)
	}

	resp, _ = serve(t, external.PluginRequest{APIVersion: "v1alpha1", Command: "metadata", Args: []string{"--api"}})
	if !strings.Contains(resp.Metadata.Description, "data-system resource") ||
		!strings.Contains(resp.Metadata.Examples, "--nodetype broker") {
		t.Errorf("create api metadata: %+v", resp.Metadata)
	}
}

func TestServeHasNoHelpForWebhooksAndEdit(t *testing.T) {
	for _, arg := range []string{"--webhook", "--edit"} {
		resp, _ := serve(t, external.PluginRequest{APIVersion: "v1alpha1", Command: "metadata", Args: []string{arg}})
		if resp.Error || resp.Metadata.Description != "" || resp.Metadata.Examples != "" {
			t.Errorf("%s: metadata %+v", arg, resp.Metadata)
		}
	}
}

func TestServeIgnoresWebhooksAndEdit(t *testing.T) {
	for _, command := range []string{"create webhook", "edit"} {
		resp, _ := serve(t, external.PluginRequest{APIVersion: "v1alpha1", Command: command})
		if resp.Error || len(resp.Universe) != 0 {
			t.Errorf("%s: error=%v %v files=%v", command, resp.Error, resp.ErrorMsgs, keys(resp.Universe))
		}
	}
}

func TestServeAnswersGarbageWithAnError(t *testing.T) {
	var out bytes.Buffer
	if err := Serve(strings.NewReader("not json"), &out, WithLog(&bytes.Buffer{})); err != nil {
		t.Fatal(err)
	}
	var resp external.PluginResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || !resp.Error {
		t.Errorf("response %q (%v), want an error response", out.String(), err)
	}
}

func TestDecodeRequestKeepsOnlyTheFilesThePluginReads(t *testing.T) {
	req := external.PluginRequest{
		APIVersion: "v1alpha1", Command: "create api", Args: []string{"--kind", "Druid"},
		Universe: map[string]string{
			"go.mod":                     "module x",
			"cmd/main.go":                "package main",
			"api/v1/x_types.go":          "package v1",
			"internal/controller/x.go":   "package controller",
			"config/samples/x.yaml":      "kind: X",
			"hack/boilerplate.go.txt":    "/* */",
			"Makefile":                   "all:",
			".git/objects/ab/cdef":       "blob",
			"bin/manager":                "\x7fELF",
			"config/crd/bases/x.yaml":    "crd",
			"internal/webhook/v1/x.go":   "package v1",
			"README.md":                  "# x",
			"vendor/example.com/x/x.go":  "package x",
			"config/rbac/role.yaml":      "rbac",
			"test/e2e/e2e_suite_test.go": "package e2e",
		},
		Config: map[string]any{"domain": "example.com"},
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRequest(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{
		"Makefile", "api/v1/x_types.go", "cmd/main.go", "config/samples/x.yaml", "go.mod",
		"hack/boilerplate.go.txt", "internal/controller/x.go",
	}; !slices.Equal(keys(got.Universe), want) {
		t.Errorf("kept %v, want %v", keys(got.Universe), want)
	}
	if got.Command != "create api" || !slices.Equal(got.Args, req.Args) || got.Config["domain"] != "example.com" {
		t.Errorf("decoded %+v", got)
	}
}
