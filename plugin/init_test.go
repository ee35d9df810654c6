package plugin

import (
	"strings"
	"testing"

	"github.com/spf13/afero"
	"golang.org/x/mod/modfile"

	"github.com/opbuilder/opbuilder/plugin/internal/projecttest"
)

func TestInitWiresTheProjectForTheRuntime(t *testing.T) {
	p := projecttest.New(t)
	p.GoV4Init(t)
	before := p.Snapshot(t)
	if err := runInit(p, "--runtime-path", projecttest.RuntimeDir); err != nil {
		t.Fatal(err)
	}

	if diff := projecttest.Diff(before, p.Snapshot(t)); diff != strings.Join([]string{
		"changed .custom-gcl.yml",
		"changed .golangci.yml",
		"changed Makefile",
		"changed cmd/main.go",
		"changed go.mod",
		"created internal/controller/operator.go",
	}, "\n") {
		t.Errorf("init touched:\n%s", diff)
	}

	mod, err := modfile.Parse("go.mod", []byte(p.Read(t, "go.mod")), nil)
	if err != nil {
		t.Fatal(err)
	}
	var required, replaced string
	for _, r := range mod.Require {
		if r.Mod.Path == "github.com/opbuilder/opbuilder/runtime" {
			required = r.Mod.Version
		}
	}
	for _, r := range mod.Replace {
		if r.Old.Path == "github.com/opbuilder/opbuilder/runtime" {
			replaced = r.New.Path
		}
	}
	if required != "v0.0.0" || replaced != projecttest.RuntimeDir {
		t.Errorf("go.mod requires the runtime at %q replaced by %q; want v0.0.0 replaced by %s",
			required, replaced, projecttest.RuntimeDir)
	}

	main := p.Read(t, "cmd/main.go")
	assertContains(t, "cmd/main.go", main,
		`"github.com/opbuilder/opbuilder/runtime/cachescope"`,
		`"example.com/druid-operator/internal/controller"`,
		"// +kubebuilder:scaffold:imports",
		"// +kubebuilder:scaffold:scheme",
		`flag.StringVar(&watchNamespaces, "watch-namespaces", "",`,
		"ownedTypes := []client.Object{",
		"// +opbuilder:scaffold:owned-types",
		"cacheOptions, err := newCacheOptions(namespacesOf(watchNamespaces), ownedTypes...)",
		"Cache:                  cacheOptions,",
		"// +kubebuilder:scaffold:builder",
		"cachescope.WithManagedBy(controller.FieldOwner)",
	)
	assertContains(t, "operator.go", p.Read(t, "internal/controller/operator.go"),
		"Copyright", "The opbuilder Authors", `const FieldOwner = "druid-operator"`)

	makefile := p.Read(t, "Makefile")
	assertContains(t, "Makefile", makefile,
		"test: manifests generate fmt vet ## Run tests.",
		`assets="$${KUBEBUILDER_ASSETS:-$$(go run github.com/opbuilder/opbuilder/runtime/cmd/opbuilder-testbin | tail -1 | cut -d= -f2-)}"`,
		`KUBEBUILDER_ASSETS="$$assets" go test`)
	if strings.Contains(makefile, "setup-envtest ## Run tests.") {
		t.Error("the Makefile's test target still runs setup-envtest")
	}
	assertContains(t, "Makefile", makefile, `"$(LOGCHECK)" ./...`, "sigs.k8s.io/logtools/logcheck,$(LOGCHECK_VERSION)")
	if strings.Contains(makefile, "golangci-lint custom") || strings.Contains(p.Read(t, ".golangci.yml"), "- logcheck") {
		t.Error("make lint still builds a custom golangci-lint for logcheck")
	}
	assertGoParses(t, p)
}

func TestInitRequiresTheRuntimeAtAVersionWithoutReplace(t *testing.T) {
	p := projecttest.New(t)
	p.GoV4Init(t)
	if err := runInit(p, "--runtime-version", "v0.3.1"); err != nil {
		t.Fatal(err)
	}
	gomod := p.Read(t, "go.mod")
	assertContains(t, "go.mod", gomod, "github.com/opbuilder/opbuilder/runtime v0.3.1")
	if strings.Contains(gomod, "replace") {
		t.Errorf("go.mod has a replace without --runtime-path:\n%s", gomod)
	}
}

func TestInitReadsTheRuntimePathFromTheEnvironment(t *testing.T) {
	p := projecttest.New(t)
	p.GoV4Init(t)
	sub := &initSubcommand{host: p.Host, getenv: func(key string) string {
		if key == RuntimePathEnv {
			return projecttest.RuntimeDir
		}
		return ""
	}}
	if err := projecttest.RunHooks(sub, nil, p.Config, nil, p.FS); err != nil {
		t.Fatal(err)
	}
	assertContains(t, "go.mod", p.Read(t, "go.mod"),
		"replace github.com/opbuilder/opbuilder/runtime => "+projecttest.RuntimeDir)
}

func TestInitKeepsGoV4MarkersWorking(t *testing.T) {
	// go/v4's create api inserts into the cmd/main.go that init rewrote.
	p := withDruid(t)
	main := p.Read(t, "cmd/main.go")
	assertContains(t, "cmd/main.go", main,
		`datav1alpha1 "example.com/druid-operator/api/v1alpha1"`,
		"utilruntime.Must(datav1alpha1.AddToScheme(scheme))",
		"&datav1alpha1.Druid{},",
		"// +opbuilder:scaffold:owned-types",
		"if err := (&controller.DruidReconciler{",
	)
	if n := strings.Count(main, `"example.com/druid-operator/internal/controller"`); n != 1 {
		t.Errorf("cmd/main.go imports internal/controller %d times", n)
	}
	assertGoParses(t, p)
}

func TestInitRejectsBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*projecttest.Project)
		args  []string
		wants []string
	}{{
		name:  "no runtime",
		wants: []string{"--runtime-path DIR", "OPBUILDER_RUNTIME_PATH", "--runtime-version"},
	}, {
		name:  "runtime path without go.mod",
		args:  []string{"--runtime-path", "/src/elsewhere"},
		wants: []string{"--runtime-path /src/elsewhere has no go.mod", "runtime directory of an opbuilder checkout"},
	}, {
		name: "runtime path holding another module",
		setup: func(p *projecttest.Project) {
			_ = afero.WriteFile(p.Host, "/src/other/go.mod", []byte("module example.com/other\n"), 0o644)
		},
		args:  []string{"--runtime-path", "/src/other"},
		wants: []string{`holds the module "example.com/other"`, "github.com/opbuilder/opbuilder/runtime"},
	}, {
		name:  "bad runtime version",
		args:  []string{"--runtime-version", "latest"},
		wants: []string{`invalid --runtime-version "latest"`, "v0.1.0"},
	}, {
		name:  "multigroup",
		setup: func(p *projecttest.Project) { _ = p.Config.SetMultiGroup() },
		args:  []string{"--runtime-path", projecttest.RuntimeDir},
		wants: []string{"multigroup", "without --multigroup"},
	}, {
		name:  "namespaced",
		setup: func(p *projecttest.Project) { _ = p.Config.SetNamespaced() },
		args:  []string{"--runtime-path", projecttest.RuntimeDir},
		wants: []string{"namespace-scoped", "without --namespaced"},
	}, {
		name: "already initialized",
		setup: func(p *projecttest.Project) {
			p.Write(t, "internal/controller/operator.go", "package controller\n")
		},
		args:  []string{"--runtime-path", projecttest.RuntimeDir},
		wants: []string{"internal/controller/operator.go already exists"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := projecttest.New(t)
			p.GoV4Init(t)
			if tc.setup != nil {
				tc.setup(p)
			}
			before := p.Snapshot(t)
			assertFailsCleanly(t, p, before, runInit(p, tc.args...), tc.wants...)
		})
	}
}

func TestInitRecordsThePluginInProject(t *testing.T) {
	p := initialized(t)
	out, err := p.Config.MarshalYAML()
	if err != nil {
		t.Fatal(err)
	}
	assertContains(t, "PROJECT", string(out), "layout:", "- opbuilder/v1", "plugins:", "opbuilder/v1:",
		"runtime:", "module: github.com/opbuilder/opbuilder/runtime", "path: "+projecttest.RuntimeDir)
}
