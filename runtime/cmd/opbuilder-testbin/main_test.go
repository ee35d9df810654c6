package main

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDefaultsMatchVersionsEnv keeps the built-in versions equal to the
// repository's hack/versions.env, the one place versions are pinned.
func TestDefaultsMatchVersionsEnv(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", "hack", "versions.env"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skip("not in the opbuilder repository (no hack/versions.env)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	got, err := parseFlags(nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := versions{K8s: env["K8S_VERSION"], K8sLib: env["K8S_LIB_VERSION"], Etcd: env["ETCD_VERSION"], Kwok: env["KWOK_VERSION"]}
	if got != want {
		t.Errorf("defaults %+v, hack/versions.env says %+v", got, want)
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"K8S_VERSION": "v1.99.0", "KWOK_VERSION": "v0.9.0"}
	got, err := parseFlags([]string{"-kwok-version", "v0.10.0"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := versions{K8s: "v1.99.0", K8sLib: defaultK8sLibVersion, Etcd: defaultEtcdVersion, Kwok: "v0.10.0"}
	if got != want {
		t.Errorf("got %+v, want %+v (a flag beats the environment, which beats the default)", got, want)
	}
	if _, err := parseFlags([]string{"extra"}, func(string) string { return "" }); err == nil {
		t.Error("a stray argument was accepted")
	}
}

func TestVersionMatches(t *testing.T) {
	for _, tc := range []struct {
		out, want string
		match     bool
	}{
		{"Kubernetes v1.37.2\n", "v1.37.2", true},
		{"Kubernetes v1.37.1\n", "v1.37.2", false},
		{"etcd Version: 3.7.3\nGit SHA: abc\n", "3.7.3", true},
		{"Client Version: v1.37.2\nKustomize Version: v5\n", "v1.37.2", true},
		// A binary built without the version ldflags says so.
		{"Kubernetes v0.0.0-master+$Format:%H$\n", "v1.37.2", false},
		{"anything", "", false},
	} {
		if got := versionMatches(tc.out, tc.want); got != tc.match {
			t.Errorf("versionMatches(%q, %q) = %v", tc.out, tc.want, got)
		}
	}
}

func TestStagingModules(t *testing.T) {
	gomod := []byte(`module k8s.io/kubernetes

go 1.25.0

require (
	github.com/spf13/cobra v1.9.1
	k8s.io/api v0.0.0
	k8s.io/klog/v2 v2.130.1
	k8s.io/client-go v0.0.0
)

require k8s.io/apiserver v0.0.0 // indirect

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/client-go => ./staging/src/k8s.io/client-go
)

require (
	k8s.io/api v0.0.0
)
`)
	want := []string{"k8s.io/api", "k8s.io/client-go"}
	if got := stagingModules(gomod); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCacheLayout(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		root string
	}{
		{map[string]string{"OPBUILDER_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/c"},
		{map[string]string{"XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/opbuilder"},
		{map[string]string{"HOME": "/h"}, "/h/.cache/opbuilder"},
	} {
		got, err := cacheRoot(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.root {
			t.Errorf("cacheRoot with %v = %q, %v; want %q", tc.env, got, err, tc.root)
		}
	}
	if _, err := cacheRoot(func(string) string { return "" }); err == nil {
		t.Error("no cache root was an error")
	}
	v := versions{K8s: "v1.37.2", Etcd: "v3.7.3", Kwok: "v0.8.0"}
	if got, want := assetsDir("/c", v), "/c/assets/k8s-v1.37.2_etcd-v3.7.3_kwok-v0.8.0"; got != want {
		t.Errorf("assetsDir = %q, want %q", got, want)
	}
}

func TestVersionLdflags(t *testing.T) {
	got := versionLdflags("v1.37.2")
	for _, want := range []string{
		"-X k8s.io/component-base/version.gitVersion=v1.37.2",
		"-X k8s.io/client-go/pkg/version.gitMinor=37",
		"-X k8s.io/component-base/version.gitMajor=1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ldflags %q lack %q", got, want)
		}
	}
}

// TestWarmCacheBuildsNothing runs the command over a cache that already
// holds every binary (linked from KUBEBUILDER_ASSETS) and checks it builds
// nothing: no scratch module is made, and it prints the assets directory.
func TestWarmCacheBuildsNothing(t *testing.T) {
	src := os.Getenv("KUBEBUILDER_ASSETS")
	if src == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set")
	}
	root := t.TempDir()
	env := map[string]string{"OPBUILDER_CACHE_DIR": root}
	v, err := parseFlags(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	dir := assetsDir(root, v)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kwok"} {
		if _, err := os.Stat(filepath.Join(src, bin)); err != nil {
			t.Skipf("KUBEBUILDER_ASSETS lacks %s", bin)
		}
		if err := os.Symlink(filepath.Join(src, bin), filepath.Join(dir, bin)); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	if err := run(nil, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	if want := "KUBEBUILDER_ASSETS=" + dir + "\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	scratch, err := os.ReadDir(filepath.Join(root, "work"))
	if err != nil || len(scratch) != 0 {
		t.Errorf("a warm cache made scratch modules %v (%v)", scratch, err)
	}
	stages, err := os.ReadDir(filepath.Join(dir, "kwok-stages"))
	if err != nil || len(stages) != len(kwokStages) {
		t.Errorf("kwok-stages holds %d files (%v), want %d", len(stages), err, len(kwokStages))
	}
}
