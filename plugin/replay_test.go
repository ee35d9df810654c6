package plugin

import (
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

func TestReplayCommandsAreTheCommandsThatMadeTheProject(t *testing.T) {
	p := projecttest.New(t)
	p.GoV4Init(t)
	if err := runInit(p, "--runtime-path", projecttest.RuntimeDir, "--runtime-version", "v0.3.0"); err != nil {
		t.Fatal(err)
	}
	res := p.GoV4API(t, "data", "v1alpha1", "Druid")
	if err := runCreateAPI(p, res, "--image", "apache/druid:34.0.0"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{historical, broker} {
		if err := runNodeType(p, args...); err != nil {
			t.Fatal(err)
		}
	}

	got, err := ReplayCommands(p.Config, ReplayOptions{LicenseFile: "/tmp/boilerplate.go.txt"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"init", "--plugins", "go.kubebuilder.io/v4,opbuilder/v1", "--domain", "example.com",
			"--repo", p.Config.GetRepository(), "--project-name", p.Config.GetProjectName(),
			"--license-file", "/tmp/boilerplate.go.txt", "--runtime-version", "v0.3.0", "--runtime-path", projecttest.RuntimeDir},
		{"create", "api", "--group", "data", "--version", "v1alpha1", "--kind", "Druid",
			"--resource=true", "--controller=true", "--namespaced=true", "--image", "apache/druid:34.0.0"},
		{"create", "nodetype", "--group", "data", "--version", "v1alpha1", "--kind", "Druid",
			"--name", "historical", "--workload", "statefulset", "--port", "8083", "--replicas", "1",
			"--storage", "10Gi", "--groups", "hot,cold", "--make=false"},
		{"create", "nodetype", "--group", "data", "--version", "v1alpha1", "--kind", "Druid",
			"--name", "broker", "--workload", "deployment", "--port", "8082", "--replicas", "2",
			"--groups", "default"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replay commands:\n%s\nwant:\n%s", join(got), join(want))
	}

	// The helm chart is made last, from the manifests of every node type.
	if err := p.Config.EncodePluginConfig("helm.kubebuilder.io/v2-alpha",
		helmConfig{Manifests: "dist/install.yaml", Output: "deploy"}); err != nil {
		t.Fatal(err)
	}
	got, err = ReplayCommands(p.Config, ReplayOptions{RuntimeVersion: "v0.4.0"})
	if err != nil {
		t.Fatal(err)
	}
	if init := join(got[:1]); !strings.Contains(init, "--runtime-version v0.4.0 --runtime-path") ||
		strings.Contains(init, "--license-file") {
		t.Errorf("with another runtime version and no license file, init is %s", init)
	}
	if len(got) != len(want)+1 || join(got[len(want):]) !=
		"edit --plugins helm.kubebuilder.io/v2-alpha --manifests dist/install.yaml --output-dir deploy" {
		t.Errorf("with a helm chart, the commands end with\n%s", join(got[len(want)-1:]))
	}
}

func TestReplayCommandsRefuseWhatTheyCannotReplay(t *testing.T) {
	for _, tc := range []struct {
		name    string
		project func(t *testing.T) *projecttest.Project
		want    []string
	}{
		{"not an opbuilder project", func(t *testing.T) *projecttest.Project {
			p := withDruid(t)
			if err := p.Config.SetPluginChain([]string{"go.kubebuilder.io/v4"}); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"does not use opbuilder/v1", "init --plugins go/v4,opbuilder/v1"}},
		{"no runtime recorded", func(t *testing.T) *projecttest.Project {
			p := withDruid(t)
			pc, err := loadPluginConfig(p.Config)
			if err != nil {
				t.Fatal(err)
			}
			pc.Runtime = nil
			if err := savePluginConfig(p.Config, pc); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"PROJECT has no runtime under plugins.opbuilder/v1", "add `runtime: {module: github.com/opbuilder/opbuilder/runtime"}},
		{"a webhook", func(t *testing.T) *projecttest.Project {
			p := withDruid(t)
			res, err := p.Config.GetResource(resource.GVK{Group: "data", Domain: "example.com", Version: "v1alpha1", Kind: "Druid"})
			if err != nil {
				t.Fatal(err)
			}
			res.Webhooks = &resource.Webhooks{WebhookVersion: "v1", Defaulting: true}
			if err := p.Config.UpdateResource(res); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"PROJECT records the webhooks of Druid (data/v1alpha1)", "--output-dir"}},
		{"another plugin's configuration", func(t *testing.T) *projecttest.Project {
			p := withDruid(t)
			if err := p.Config.EncodePluginConfig("grafana.kubebuilder.io/v1-alpha", map[string]any{}); err != nil {
				t.Fatal(err)
			}
			return p
		}, []string{"the grafana.kubebuilder.io/v1-alpha plugin's configuration"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReplayCommands(tc.project(t).Config, ReplayOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			assertContains(t, "error", err.Error(), tc.want...)
		})
	}
}

func join(cmds [][]string) string {
	lines := make([]string, 0, len(cmds))
	for _, c := range cmds {
		lines = append(lines, strings.Join(c, " "))
	}
	return strings.Join(lines, "\n")
}
