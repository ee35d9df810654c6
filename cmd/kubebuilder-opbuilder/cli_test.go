package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/plugin/external"
)

func TestCLIHasTheKubebuilderCommandsAndCreateNodeType(t *testing.T) {
	c, err := newCLI()
	if err != nil {
		t.Fatal(err)
	}
	root := c.Command()
	for _, path := range [][]string{
		{"init"}, {"create", "api"}, {"create", "webhook"}, {"create", "nodetype"}, {"delete", "nodetype"},
		{"edit"}, {"version"}, {"completion"}, {"install-plugin"},
	} {
		cmd, _, err := root.Find(path)
		if err != nil || cmd.Name() != path[len(path)-1] {
			t.Errorf("no command %q", strings.Join(path, " "))
		}
	}
	nodetype, _, _ := root.Find([]string{"create", "nodetype"})
	if nodetype.PersistentPreRunE != nil || nodetype.PersistentPreRun != nil {
		t.Error("create nodetype has a persistent pre-run hook of its own, so the CLI's checks would not run")
	}
	if nodetype.Parent().Name() != "create" {
		t.Errorf("create nodetype sits under %q", nodetype.Parent().Name())
	}
}

func TestCLIHasOpbuildersAlphaGenerateAndUpdate(t *testing.T) {
	c, err := newCLI()
	if err != nil {
		t.Fatal(err)
	}
	alpha, _, err := c.Command().Find([]string{"alpha"})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, cmd := range alpha.Commands() {
		names[cmd.Name()]++
	}
	if names["generate"] != 1 || names["update"] != 1 {
		t.Errorf("alpha has the subcommands %v, want one generate and one update", names)
	}
	generate, _, _ := alpha.Find([]string{"generate"})
	update, _, _ := alpha.Find([]string{"update"})
	// Stock kubebuilder's have --skip-go-version-check and --from-version.
	if generate.Flags().Lookup("skip-go-version-check") != nil || update.Flags().Lookup("from-binary") == nil {
		t.Error("alpha generate or alpha update is stock kubebuilder's")
	}
}

// TestCLIBundlesWhatStockKubebuilderBundles checks the plugin keys the CLI
// offers against those of stock kubebuilder v4.16.0's `kubebuilder --help`.
func TestCLIBundlesWhatStockKubebuilderBundles(t *testing.T) {
	c, err := newCLI()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"go/v4", "kustomize/v2", "deploy-image/v1-alpha", "grafana/v1-alpha", "helm/v2-alpha",
		"autoupdate/v1-alpha", "opbuilder/v1",
	} {
		if !strings.Contains(c.Command().Example, "\n  "+key+" ") {
			t.Errorf("the CLI does not offer the %s plugin", key)
		}
	}
}

// buildCLI builds the binary once per test that needs it.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kubebuilder-opbuilder")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestTheBinarySpeaksTheExternalPluginProtocolOnStdin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildCLI(t)
	req, err := json.Marshal(external.PluginRequest{APIVersion: "v1alpha1", Command: "flags", Args: []string{"--api"}})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(req)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var resp external.PluginResponse
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
		t.Fatalf("stdout is not a plugin response: %v\n%s", err, stdout.String())
	}
	found := false
	for _, f := range resp.Flags {
		found = found || f.Name == "nodetype"
	}
	if resp.Error || !found {
		t.Errorf("flags response %+v has no --nodetype", resp)
	}

	// Without a request on stdin it is the CLI.
	cmd = exec.Command(bin)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "create") || !strings.Contains(string(out), "opbuilder/v1") {
		t.Errorf("with empty stdin: %v\n%s", err, out)
	}
}

func TestInstallPluginInstallsTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI")
	}
	bin := buildCLI(t)
	plugins := t.TempDir()
	cmd := exec.Command(bin, "install-plugin")
	cmd.Env = append(os.Environ(), "EXTERNAL_PLUGINS_PATH="+plugins)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	installed := filepath.Join(plugins, "opbuilder", "v1", "opbuilder")
	info, err := os.Stat(installed)
	if err != nil || info.Mode().Perm()&0o111 == 0 {
		t.Fatalf("%s: %v %v", installed, info, err)
	}
	if !strings.Contains(string(out), installed) {
		t.Errorf("the output does not say where: %s", out)
	}
}
