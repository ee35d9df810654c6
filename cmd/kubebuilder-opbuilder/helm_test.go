package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// object is one Kubernetes object of a manifest, as parsed from YAML.
type object map[string]any

// TestHelmChartMatchesTheKustomizeConfig scaffolds the golden project, runs
// `edit --plugins helm/v2-alpha` in it, renders the chart with helm's engine
// and checks that the chart installs what `make build-installer` does: the
// same objects, the CRD (node types included) and RBAC rules unchanged, and
// the same manager pod.
func TestHelmChartMatchesTheKustomizeConfig(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("scaffolds a project and runs its make build-installer")
	}
	repo := repoRoot(t)
	cli := buildCLI(t)

	tmp := t.TempDir()
	if err := os.Symlink(filepath.Join(repo, "runtime"), filepath.Join(tmp, "runtime")); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join(tmp, goldenProject)
	name := filepath.Base(project)
	runEnv(t, repo, []string{"OPBUILDER_CLI=" + cli},
		filepath.Join(repo, "hack", "generate-testdata.sh"), project)
	runEnv(t, project, []string{"LOCALBIN=" + toolsDir(t)}, cli, "edit", "--plugins", "helm/v2-alpha")

	kustomized := parseManifests(t, readFile(t, filepath.Join(project, "dist", "install.yaml")))
	chart := renderChart(t, filepath.Join(project, "dist", "chart"), name, name+"-system")

	for id, want := range kustomized {
		if want.kind() == "Namespace" {
			continue // helm install --create-namespace makes it
		}
		got, ok := chart[id]
		if !ok {
			t.Errorf("the chart has no %s", id)
			continue
		}
		for _, field := range comparedFields(want.kind()) {
			expectSame(t, id, field, want, got)
		}
	}
	for id := range chart {
		if _, ok := kustomized[id]; !ok {
			t.Errorf("the chart installs %s, which config/default does not", id)
		}
	}
	expectNodeTypes(t, chart, name)
}

// expectNodeTypes fails the test unless the chart's CRD has a field for
// each of the golden project's node types and its manager may manage their
// workloads.
func expectNodeTypes(t *testing.T, chart map[string]object, project string) {
	t.Helper()
	crd := chart["CustomResourceDefinition druids.data.example.com"]
	versions, _ := crd.at([]string{"spec", "versions"}).([]any)
	if len(versions) == 0 {
		t.Fatal("the chart has no CRD for the scaffolded kind, or it has no version")
	}
	spec, _ := object(versions[0].(map[string]any)).
		at([]string{"schema", "openAPIV3Schema", "properties", "spec", "properties"}).(map[string]any)
	for _, nodeType := range []string{"historical", "middlemanager", "broker", "coordinator", "router"} {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(spec)), func(f string) bool { return strings.HasPrefix(f, nodeType) }) {
			t.Errorf("the chart's CRD has no spec field for the %s node type", nodeType)
		}
	}
	rules, _ := yaml.Marshal(chart["ClusterRole "+project+"-manager-role"].at([]string{"rules"}))
	for _, workload := range []string{"statefulsets", "deployments"} {
		if !strings.Contains(string(rules), "- "+workload+"\n") {
			t.Errorf("the chart's manager role does not grant access to %s", workload)
		}
	}
}

// comparedFields returns the fields of an object of the given kind whose
// value the chart must keep as kustomize builds it. Labels, annotations and
// the manager's image and argument order are the chart's to set.
func comparedFields(kind string) [][]string {
	switch kind {
	case "CustomResourceDefinition":
		return [][]string{{"spec"}}
	case "Role", "ClusterRole":
		return [][]string{{"rules"}}
	case "RoleBinding", "ClusterRoleBinding":
		return [][]string{{"roleRef"}, {"subjects"}}
	case "Deployment":
		return [][]string{{"spec", "selector"}, {"spec", "template", "spec"}}
	}
	return nil
}

// expectSame fails the test when want and got differ at field.
func expectSame(t *testing.T, id string, field []string, want, got object) {
	t.Helper()
	w, g := want.at(field), got.at(field)
	if reflect.DeepEqual(w, g) {
		return
	}
	wy, _ := yaml.Marshal(w)
	gy, _ := yaml.Marshal(g)
	t.Errorf("%s: .%s differs between kustomize and the chart:\n%s", id, strings.Join(field, "."),
		firstDifference(string(wy), string(gy)))
}

// renderChart renders the chart in dir as `helm install release` into
// namespace would, with the image kustomize sets, and returns its objects.
func renderChart(t *testing.T, dir, release, namespace string) map[string]object {
	t.Helper()
	chrt, err := loader.Load(dir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	// The values that make the chart install what config/default does:
	// `make build-installer` sets the image to IMG, controller:latest, with
	// no pull policy, and installs the kind's admin, editor and viewer roles.
	overrides := map[string]any{
		"manager": map[string]any{"image": map[string]any{"tag": "latest", "pullPolicy": ""}},
		"rbac":    map[string]any{"helpers": map[string]any{"enabled": true}},
	}
	values, err := util.ToRenderValues(chrt, overrides,
		common.ReleaseOptions{Name: release, Namespace: namespace, IsInstall: true}, nil)
	if err != nil {
		t.Fatalf("computing the chart's values: %v", err)
	}
	files, err := engine.Render(chrt, values)
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	var all bytes.Buffer
	for name, content := range files {
		if strings.HasSuffix(name, ".yaml") {
			all.WriteString("\n---\n" + content)
		}
	}
	// The chart's CRDs are templates too (under templates/crd).
	return parseManifests(t, all.Bytes())
}

// parseManifests returns the objects of a multi-document YAML manifest by
// "Kind name", with the manager's arguments sorted.
func parseManifests(t *testing.T, manifest []byte) map[string]object {
	t.Helper()
	objects := map[string]object{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatalf("reading a manifest: %v", err)
		}
		var o object
		if err := yaml.Unmarshal(doc, &o); err != nil {
			t.Fatalf("parsing a manifest: %v\n%s", err, doc)
		}
		if len(o) == 0 {
			continue
		}
		sortArgs(o)
		id := o.kind() + " " + o.name()
		if _, dup := objects[id]; dup {
			t.Errorf("%s appears twice", id)
		}
		objects[id] = o
	}
}

// sortArgs sorts the arguments of a Deployment's containers: the chart
// writes the flags it templates before the others.
func sortArgs(o object) {
	if o.kind() != "Deployment" {
		return
	}
	containers, _ := o.at([]string{"spec", "template", "spec", "containers"}).([]any)
	for _, c := range containers {
		if args, ok := c.(map[string]any)["args"].([]any); ok {
			slices.SortFunc(args, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
		}
	}
}

func (o object) kind() string { s, _ := o["kind"].(string); return s }

func (o object) name() string { s, _ := o.at([]string{"metadata", "name"}).(string); return s }

// at returns the value at a path of fields, nil when there is none.
func (o object) at(path []string) any {
	var v any = map[string]any(o)
	for _, f := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[f]
	}
	return v
}

// toolsDir is where hack/generate-testdata.sh installs the project's tools,
// so that the project's make targets find them there too.
func toolsDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("OPBUILDER_CACHE_DIR"); dir != "" {
		return filepath.Join(dir, "tools")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cache, "opbuilder", "tools")
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runEnv is run with extra environment variables.
func runEnv(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOWORK=off"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s in %s: %v\n%s", name, strings.Join(args, " "), dir, err, out)
	}
}
