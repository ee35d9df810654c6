package scaffolds

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/spf13/afero"
	"golang.org/x/mod/semver"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/cmd"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/controller"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/lint"
)

// boilerplatePath is where go/v4 keeps the license header of Go files.
const boilerplatePath = "hack/boilerplate.go.txt"

// InitOptions configures the init scaffold.
type InitOptions struct {
	// RuntimeVersion is the version of the runtime module go.mod requires.
	// With RuntimePath set it may be empty; v0.0.0 is then required.
	RuntimeVersion string
	// RuntimePath, when set, is written to go.mod as a replace of the runtime
	// module: a directory holding a checkout of it, relative to the project
	// or absolute.
	RuntimePath string
}

// InitScaffolder wires a project that go/v4 has just scaffolded for the
// opbuilder runtime.
type InitScaffolder struct {
	config config.Config
	opts   InitOptions
	fs     machinery.Filesystem
}

// NewInitScaffolder returns the init scaffolder for the project cfg.
func NewInitScaffolder(cfg config.Config, opts InitOptions) *InitScaffolder {
	return &InitScaffolder{config: cfg, opts: opts}
}

// InjectFS sets the project's filesystem.
func (s *InitScaffolder) InjectFS(fsys machinery.Filesystem) { s.fs = fsys }

// Check returns an error when the project cannot be initialized for
// opbuilder. It reads the options and the project configuration only: go/v4
// writes the files init edits after Check has run.
func (s *InitScaffolder) Check() error {
	if err := checkLayout(s.config); err != nil {
		return err
	}
	if s.opts.RuntimePath == "" && s.opts.RuntimeVersion == "" {
		return errors.New("init needs the opbuilder runtime module: pass --runtime-path DIR (a checkout's " +
			"runtime directory; OPBUILDER_RUNTIME_PATH works too) or --runtime-version VERSION")
	}
	if s.opts.RuntimeVersion != "" && !semver.IsValid(s.opts.RuntimeVersion) {
		return fmt.Errorf("invalid --runtime-version %q: use a module version such as v0.1.0", s.opts.RuntimeVersion)
	}
	if msgs := validation.IsValidLabelValue(s.config.GetProjectName()); len(msgs) > 0 {
		return fmt.Errorf("the project name %q becomes the operator's field owner and a label value, "+
			"which it cannot be: %v; rename the project's directory", s.config.GetProjectName(), msgs)
	}
	exists, err := afero.Exists(s.fs.FS, templates.OperatorPath)
	if err != nil {
		return fmt.Errorf("checking %s: %w", templates.OperatorPath, err)
	}
	if exists {
		return fmt.Errorf("%s already exists: the project is already initialized for opbuilder", templates.OperatorPath)
	}
	return nil
}

// checkLayout refuses the project layouts opbuilder does not scaffold for.
func checkLayout(cfg config.Config) error {
	if cfg.IsMultiGroup() {
		return errors.New("opbuilder does not support the multigroup layout: initialize the project " +
			"without --multigroup (or run `edit --multigroup=false`)")
	}
	if cfg.IsNamespaced() {
		return errors.New("opbuilder does not support namespace-scoped projects: initialize the project " +
			"without --namespaced; the runtime's cache is scoped by label instead")
	}
	return nil
}

// Scaffold implements plugins.Scaffolder. It computes every edit before it
// writes anything, so that a project go/v4 did not scaffold as expected is
// left untouched.
func (s *InitScaffolder) Scaffold() error {
	slog.Info("Wiring the project for the opbuilder runtime...")

	gomod, err := afero.ReadFile(s.fs.FS, "go.mod")
	if err != nil {
		return fmt.Errorf("reading go.mod: %w", err)
	}
	version := s.opts.RuntimeVersion
	if version == "" {
		version = "v0.0.0"
	}
	gomod, err = requireRuntime(gomod, version, s.opts.RuntimePath)
	if err != nil {
		return err
	}

	makefile, err := afero.ReadFile(s.fs.FS, "Makefile")
	if err != nil {
		return fmt.Errorf("reading Makefile: %w", err)
	}
	patched, err := useTestBinaries(string(makefile))
	if err != nil {
		return err
	}
	if patched, err = lintOffline(patched); err != nil {
		return err
	}

	boilerplate, err := readBoilerplate(s.fs.FS)
	if err != nil {
		return err
	}
	scaffold := machinery.NewScaffold(s.fs,
		machinery.WithConfig(s.config),
		machinery.WithBoilerplate(boilerplate),
	)
	if err := scaffold.Execute(
		&cmd.Main{RuntimeModule: RuntimeModule},
		&controller.Operator{FieldOwner: s.config.GetProjectName()},
		&lint.Golangci{},
		&lint.CustomGcl{GolangciLintVersion: GolangciLintVersion},
	); err != nil {
		return fmt.Errorf("scaffolding cmd/main.go and the linter configuration: %w", err)
	}

	if err := afero.WriteFile(s.fs.FS, "go.mod", gomod, machinery.DefaultFilePermission); err != nil {
		return fmt.Errorf("writing go.mod: %w", err)
	}
	if err := afero.WriteFile(s.fs.FS, "Makefile", []byte(patched), machinery.DefaultFilePermission); err != nil {
		return fmt.Errorf("writing Makefile: %w", err)
	}
	return nil
}

// readBoilerplate returns the project's license header, or "" when it has
// none.
func readBoilerplate(fsys afero.Fs) (string, error) {
	b, err := afero.ReadFile(fsys, boilerplatePath)
	if errors.Is(err, fs.ErrNotExist) {
		slog.Warn("no license header found; files are written without one", "path", boilerplatePath)
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", boilerplatePath, err)
	}
	return string(b), nil
}
