package scaffolds

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"
	"sigs.k8s.io/kubebuilder/v4/pkg/model/resource"

	"github.com/opbuilder/opbuilder/scaffolds/internal/templates"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/api"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/cmd"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/controller"
	"github.com/opbuilder/opbuilder/scaffolds/internal/templates/samples"
)

// APIOptions configures the create api scaffold.
type APIOptions struct {
	// Image is the image of the sample resource. Empty means
	// "<lowercased kind>:latest".
	Image string
}

// APIScaffolder turns a kind that go/v4 has just created into a data-system
// resource run by the opbuilder runtime.
type APIScaffolder struct {
	config   config.Config
	resource resource.Resource
	opts     APIOptions
	fs       machinery.Filesystem
}

// NewAPIScaffolder returns the create api scaffolder for res in the project
// cfg.
func NewAPIScaffolder(cfg config.Config, res resource.Resource, opts APIOptions) *APIScaffolder {
	if opts.Image == "" {
		opts.Image = strings.ToLower(res.Kind) + ":latest"
	}
	return &APIScaffolder{config: cfg, resource: res, opts: opts}
}

// InjectFS sets the project's filesystem.
func (s *APIScaffolder) InjectFS(fsys machinery.Filesystem) { s.fs = fsys }

// templateIdentifiers returns the package names and identifiers the
// controller templates use; a kind whose variable name (the kind with its
// first letter lowercased) equals one of them would shadow it.
func templateIdentifiers() []string {
	return []string{
		"appsv1", "cachescope", "client", "config", "container", "context", "corev1", "ctrl", "fmt", "group",
		"groups", "headless", "intstr", "keys", "metav1", "metricsserver", "name", "orchestrate", "policyv1", "ptr",
		"runtime", "scheme", "selector", "slices", "statefulSet", "deployment", "template",
	}
}

// Check returns an error when the kind cannot be made an opbuilder kind,
// before anything is written.
func (s *APIScaffolder) Check() error {
	if err := checkLayout(s.config); err != nil {
		return err
	}
	if v := varFor(s.resource.Kind); slices.Contains(templateIdentifiers(), v) {
		return fmt.Errorf("kind %s would be held in variables named %q, which the scaffolded code also uses "+
			"for a package or variable: choose another --kind", s.resource.Kind, v)
	}
	if err := checkInitialized(s.fs.FS); err != nil {
		return err
	}
	return nil
}

// checkInitialized returns an error unless init has wired the project for
// opbuilder.
func checkInitialized(fsys afero.Fs) error {
	main, err := afero.ReadFile(fsys, templates.MainPath)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist: run `init --plugins go/v4,opbuilder/v1` first", templates.MainPath)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", templates.MainPath, err)
	}
	marker := templates.NewMarker(templates.MainPath, templates.OwnedTypesMarker)
	if !hasMarker(string(main), marker.EqualsLine) {
		return fmt.Errorf("the project was not initialized with opbuilder: %s has no %q marker; "+
			"initialize it with `init --plugins go/v4,opbuilder/v1`", templates.MainPath, marker.String())
	}
	if ok, err := afero.Exists(fsys, templates.OperatorPath); err != nil {
		return fmt.Errorf("checking %s: %w", templates.OperatorPath, err)
	} else if !ok {
		return fmt.Errorf("the project was not initialized with opbuilder: %s does not exist; "+
			"initialize it with `init --plugins go/v4,opbuilder/v1`", templates.OperatorPath)
	}
	return nil
}

// Scaffold implements plugins.Scaffolder.
func (s *APIScaffolder) Scaffold() error {
	slog.Info("Making the kind a data-system resource run by the opbuilder runtime...", "kind", s.resource.Kind)

	boilerplate, err := readBoilerplate(s.fs.FS)
	if err != nil {
		return err
	}
	scaffold := machinery.NewScaffold(s.fs,
		machinery.WithConfig(s.config),
		machinery.WithBoilerplate(boilerplate),
		machinery.WithResource(&s.resource),
	)
	builders := []machinery.Builder{
		&api.Types{RuntimeModule: RuntimeModule},
		&api.SharedTypes{},
		&api.NodeTypeNames{},
		&controller.Controller{RuntimeModule: RuntimeModule},
		&controller.Test{RuntimeModule: RuntimeModule, Image: s.opts.Image},
		&samples.Sample{Image: s.opts.Image},
		&cmd.MainUpdater{},
	}
	rewrite, err := suiteIsGoV4s(s.fs.FS)
	if err != nil {
		return err
	}
	if rewrite {
		builders = append(builders, &controller.Suite{RuntimeModule: RuntimeModule})
	}
	if err := scaffold.Execute(builders...); err != nil {
		return fmt.Errorf("scaffolding kind %s: %w", s.resource.Kind, err)
	}
	return nil
}

// suiteIsGoV4s reports whether the controllers' test suite is still the one
// go/v4 wrote, on a bare API server. Only then is it rewritten: once it runs
// on testcluster, later kinds add themselves through go/v4's markers, and the
// user's own changes to it stay.
func suiteIsGoV4s(fsys afero.Fs) (bool, error) {
	suite, err := afero.ReadFile(fsys, templates.SuitePath)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", templates.SuitePath, err)
	}
	return strings.Contains(string(suite), "envtest.Environment{"), nil
}

// varFor returns the lowerCamelCase form of a kind.
func varFor(kind string) string { return strings.ToLower(kind[:1]) + kind[1:] }
