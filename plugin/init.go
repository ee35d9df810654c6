package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/spf13/afero"
	"github.com/spf13/pflag"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	kbplugin "sigs.k8s.io/kubebuilder/v4/pkg/plugin"

	"github.com/opbuilder/opbuilder/scaffolds"
)

// RuntimePathEnv names the environment variable that, when --runtime-path
// is not given, points init at a local checkout of the runtime module.
const RuntimePathEnv = "OPBUILDER_RUNTIME_PATH"

var _ kbplugin.InitSubcommand = &initSubcommand{}

type initSubcommand struct {
	config config.Config

	runtimePath    string
	runtimeVersion string

	// host is where --runtime-path is looked up. The project filesystem
	// kubebuilder hands to the hooks may hold the project only (it does when
	// the plugin runs as an external plugin), so the runtime checkout is
	// read from here. Nil means the operating system's filesystem.
	host afero.Fs
	// getenv reads the environment; nil means os.Getenv.
	getenv func(string) string

	scaffolder *scaffolds.InitScaffolder
}

// UpdateMetadata implements plugin.UpdatesMetadata.
func (p *initSubcommand) UpdateMetadata(cli kbplugin.CLIMetadata, meta *kbplugin.SubcommandMetadata) {
	meta.Description += `
opbuilder/v1 then wires the project for the opbuilder runtime:
  - go.mod requires the runtime module (replaced by a local checkout with --runtime-path);
  - cmd/main.go scopes the manager's cache to the operator's own objects;
  - internal/controller/operator.go names the operator (its field owner);
  - "make test" uses KUBEBUILDER_ASSETS when it is set instead of downloading binaries.
`
	meta.Examples += fmt.Sprintf(`
  # Initialize an operator project for the opbuilder runtime, using a local checkout of it
  %[1]s init --plugins go/v4,%[2]s --domain example.com --repo example.com/druid-operator \
    --runtime-path ../opbuilder/runtime
`, cli.CommandName, Key)
}

// BindFlags implements plugin.HasFlags.
func (p *initSubcommand) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&p.runtimePath, "runtime-path", "",
		"Directory of a local checkout of the opbuilder runtime module, written to go.mod as a replace "+
			"(default $"+RuntimePathEnv+")")
	fs.StringVar(&p.runtimeVersion, "runtime-version", defaultRuntimeVersion(),
		"Version of the opbuilder runtime module that go.mod requires")
}

// InjectConfig implements plugin.RequiresConfig.
func (p *initSubcommand) InjectConfig(c config.Config) error {
	p.config = c
	return nil
}

// PreScaffold implements plugin.HasPreScaffold. It checks the runtime
// options before go/v4 writes anything.
func (p *initSubcommand) PreScaffold(fsys machinery.Filesystem) error {
	if p.runtimePath == "" {
		p.runtimePath = p.env(RuntimePathEnv)
	}
	if p.runtimePath != "" {
		if err := checkRuntimeCheckout(p.hostFS(), p.runtimePath); err != nil {
			return err
		}
	}
	p.scaffolder = scaffolds.NewInitScaffolder(p.config, scaffolds.InitOptions{
		RuntimeVersion: p.runtimeVersion,
		RuntimePath:    p.runtimePath,
	})
	p.scaffolder.InjectFS(fsys)
	return p.scaffolder.Check()
}

// Scaffold implements plugin.Subcommand.
func (p *initSubcommand) Scaffold(fsys machinery.Filesystem) error {
	p.scaffolder.InjectFS(fsys)
	if err := p.scaffolder.Scaffold(); err != nil {
		return err
	}
	return recordRuntime(p.config, RuntimeConfig{
		Module: scaffolds.RuntimeModule, Version: p.runtimeVersion, Path: p.runtimePath,
	})
}

// PostScaffold implements plugin.HasPostScaffold.
func (p *initSubcommand) PostScaffold() error {
	fmt.Println("Next: create a data-system kind with\n" +
		"$ create api --group <group> --version <version> --kind <Kind> --resource --controller")
	return nil
}

func (p *initSubcommand) env(key string) string {
	if p.getenv != nil {
		return p.getenv(key)
	}
	return os.Getenv(key)
}

func (p *initSubcommand) hostFS() afero.Fs {
	if p.host != nil {
		return p.host
	}
	return afero.NewOsFs()
}

// checkRuntimeCheckout returns an error unless dir holds the runtime module.
func checkRuntimeCheckout(host afero.Fs, dir string) error {
	gomod := filepath.Join(dir, "go.mod")
	b, err := afero.ReadFile(host, gomod)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--runtime-path %s has no go.mod: point it at the runtime directory of an "+
			"opbuilder checkout (it holds the module %s)", dir, scaffolds.RuntimeModule)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", gomod, err)
	}
	if path := modfile.ModulePath(b); path != scaffolds.RuntimeModule {
		return fmt.Errorf("--runtime-path %s holds the module %q, not %s: point it at the runtime "+
			"directory of an opbuilder checkout", dir, path, scaffolds.RuntimeModule)
	}
	return nil
}

// defaultRuntimeVersion is the version of this binary's own module when it
// was built from a released version, so that a released CLI scaffolds
// projects that use the matching runtime. A development build has none.
func defaultRuntimeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := info.Main.Version
	if !semver.IsValid(v) || module.IsPseudoVersion(v) || semver.Build(v) != "" {
		return ""
	}
	return v
}
