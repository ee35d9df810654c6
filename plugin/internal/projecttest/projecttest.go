// Package projecttest builds kubebuilder projects in memory for the plugin's
// tests: the files go/v4 and kustomize/v2 scaffold for init and create api,
// written by their own scaffolders onto an afero MemMapFs, without running
// go or make. It also drives a plugin subcommand's hooks the way
// kubebuilder's CLI does.
package projecttest

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/spf13/pflag"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	cfgv3 "sigs.k8s.io/kubebuilder/v4/pkg/config/v3"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"
	kustomizev2 "sigs.k8s.io/kubebuilder/v4/pkg/plugins/common/kustomize/v2/scaffolds"
	"sigs.k8s.io/kubebuilder/v4/pkg/plugins/golang"
	golangv4 "sigs.k8s.io/kubebuilder/v4/pkg/plugins/golang/v4/scaffolds"
)

// Project is a kubebuilder project in memory.
type Project struct {
	// FS holds the project's files.
	FS machinery.Filesystem
	// Config is the project's configuration, as PROJECT would hold it.
	Config config.Config
	// Host is the rest of the machine: it holds a checkout of the runtime
	// module at RuntimeDir.
	Host afero.Fs
}

// RuntimeDir is where Host holds a checkout of the runtime module.
const RuntimeDir = "/src/opbuilder/runtime"

// New returns an empty project named druid-operator, with plugin chain
// go/v4,opbuilder/v1, and a Host with a checkout of the runtime module.
func New(t testing.TB) *Project {
	t.Helper()
	cfg := cfgv3.New()
	must(t, cfg.SetDomain("example.com"))
	must(t, cfg.SetRepository("example.com/druid-operator"))
	must(t, cfg.SetProjectName("druid-operator"))
	must(t, cfg.SetPluginChain([]string{"go.kubebuilder.io/v4", "opbuilder/v1"}))
	p := &Project{FS: machinery.Filesystem{FS: afero.NewMemMapFs()}, Config: cfg, Host: afero.NewMemMapFs()}
	must(t, afero.WriteFile(p.Host, RuntimeDir+"/go.mod",
		[]byte("module github.com/opbuilder/opbuilder/runtime\n\ngo 1.26.0\n"), 0o644))
	return p
}

// GoV4Init writes what `init` with go/v4 writes, plus the go.mod that
// `go mod init` and go/v4's `go get` leave.
func (p *Project) GoV4Init(t testing.TB) {
	t.Helper()
	p.Write(t, "go.mod", "module example.com/druid-operator\n\ngo 1.26.0\n\n"+
		"require sigs.k8s.io/controller-runtime v0.25.0\n")
	k := kustomizev2.NewInitScaffolder(p.Config)
	k.InjectFS(p.FS)
	must(t, k.Scaffold())
	g := golangv4.NewInitScaffolder(p.Config, "apache2", "The opbuilder Authors", "", "kubebuilder-opbuilder")
	g.InjectFS(p.FS)
	must(t, g.Scaffold())
}

// GoV4API writes what `create api --resource --controller` with go/v4
// writes for the kind, records it in Config, and returns the resource as
// go/v4 leaves it for the plugins after it in the chain.
func (p *Project) GoV4API(t testing.TB, group, version, kind string) *resource.Resource {
	t.Helper()
	res := &resource.Resource{
		GVK:      resource.GVK{Group: group, Domain: p.Config.GetDomain(), Version: version, Kind: kind},
		Plural:   resource.RegularPlural(kind),
		API:      &resource.API{},
		Webhooks: &resource.Webhooks{},
	}
	golang.Options{DoAPI: true, DoController: true, Namespaced: true}.UpdateResource(res, p.Config)
	k := kustomizev2.NewAPIScaffolder(p.Config, *res, false)
	k.InjectFS(p.FS)
	must(t, k.Scaffold())
	g := golangv4.NewAPIScaffolder(p.Config, *res, false)
	g.InjectFS(p.FS)
	must(t, g.Scaffold())
	return res
}

// Write writes a file.
func (p *Project) Write(t testing.TB, path, content string) {
	t.Helper()
	must(t, afero.WriteFile(p.FS.FS, path, []byte(content), 0o644))
}

// Read returns a file's content, failing the test when it is missing.
func (p *Project) Read(t testing.TB, path string) string {
	t.Helper()
	b, err := afero.ReadFile(p.FS.FS, path)
	must(t, err)
	return string(b)
}

// Exists reports whether the file exists.
func (p *Project) Exists(t testing.TB, path string) bool {
	t.Helper()
	ok, err := afero.Exists(p.FS.FS, path)
	must(t, err)
	return ok
}

// Snapshot returns every file of the project, by path.
func (p *Project) Snapshot(t testing.TB) map[string]string {
	t.Helper()
	files := map[string]string{}
	must(t, afero.Walk(p.FS.FS, ".", func(path string, info fs.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := afero.ReadFile(p.FS.FS, path)
		files[path] = string(b)
		return err
	}))
	return files
}

// Diff describes how two snapshots differ, "" when they are equal.
func Diff(before, after map[string]string) string {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(after)) {
		old, ok := before[path]
		switch {
		case !ok:
			out = append(out, "created "+path)
		case old != after[path]:
			out = append(out, "changed "+path)
		}
	}
	for _, path := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[path]; !ok {
			out = append(out, "removed "+path)
		}
	}
	return strings.Join(out, "\n")
}

// RunHooks runs a subcommand the way kubebuilder's CLI runs the subcommands
// of a plugin chain: bind and parse flags, inject the configuration and the
// resource (when res is not nil), pre-scaffold, scaffold. The post-scaffold
// hook, which runs go and make, is left out.
func RunHooks(sub kbplugin.Subcommand, args []string, cfg config.Config, res *resource.Resource,
	fsys machinery.Filesystem) error {
	flags := pflag.NewFlagSet("test", pflag.ContinueOnError)
	if hf, ok := sub.(kbplugin.HasFlags); ok {
		hf.BindFlags(flags)
	}
	if err := flags.Parse(args); err != nil {
		return fmt.Errorf("parsing %v: %w", args, err)
	}
	if rc, ok := sub.(kbplugin.RequiresConfig); ok {
		if err := rc.InjectConfig(cfg); err != nil {
			return err
		}
	}
	if rr, ok := sub.(kbplugin.RequiresResource); ok && res != nil {
		if err := rr.InjectResource(res); err != nil {
			return err
		}
	}
	if ps, ok := sub.(kbplugin.HasPreScaffold); ok {
		if err := ps.PreScaffold(fsys); err != nil {
			return err
		}
	}
	return sub.Scaffold(fsys)
}

// IsExit reports whether err tells kubebuilder to skip the plugin's
// remaining hooks.
func IsExit(err error) bool {
	var exit kbplugin.ExitError
	return errors.As(err, &exit)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
