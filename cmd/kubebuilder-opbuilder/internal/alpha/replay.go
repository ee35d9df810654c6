package alpha

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/afero"
	"sigs.k8s.io/kubebuilder/v4/pkg/config"
	yamlstore "sigs.k8s.io/kubebuilder/v4/pkg/config/store/yaml"
	"sigs.k8s.io/kubebuilder/v4/pkg/machinery"

	"github.com/opbuilder/opbuilder/plugin"
)

// boilerplatePath is the license header go/v4 init writes; it is kept
// across a re-scaffold, as stock alpha generate keeps it.
const boilerplatePath = "hack/boilerplate.go.txt"

// replay scaffolds a project again from its PROJECT file.
type replay struct {
	// dir is the project's directory, absolute.
	dir    string
	config config.Config
	// license is the project's license header; nil when it has none.
	license []byte
	// log receives the output of the commands.
	log io.Writer
}

// loadReplay reads the project in dir and checks that its PROJECT can be
// replayed. It writes nothing.
func loadReplay(dir string, log io.Writer) (*replay, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", dir, err)
	}
	store := yamlstore.New(machinery.Filesystem{FS: afero.NewBasePathFs(afero.NewOsFs(), abs)})
	if err := store.Load(); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no PROJECT file: run this in the directory of a project "+
			"made with `init --plugins go/v4,%s`, or pass --input-dir", abs, plugin.Key)
	} else if err != nil {
		return nil, fmt.Errorf("loading PROJECT in %s: %w", abs, err)
	}
	if _, err := plugin.ReplayCommands(store.Config(), plugin.ReplayOptions{}); err != nil {
		return nil, err
	}
	license, err := os.ReadFile(filepath.Join(abs, boilerplatePath))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading the license header: %w", err)
	}
	return &replay{dir: abs, config: store.Config(), license: license, log: log}, nil
}

// scaffold runs the project's commands with the binary exe in a new
// directory in parent, where the project or the output directory is, so
// that a relative --runtime-path means the same there, and returns that
// directory. runtimeVersion, when not empty, replaces the recorded one. On
// failure nothing is left behind.
func (r *replay) scaffold(exe, parent, runtimeVersion string) (string, error) {
	out, err := os.MkdirTemp(parent, "."+filepath.Base(r.dir)+"-generate-")
	if err != nil {
		return "", fmt.Errorf("creating a directory to scaffold into: %w", err)
	}
	if err := r.scaffoldInto(exe, out, runtimeVersion); err != nil {
		_ = os.RemoveAll(out)
		return "", err
	}
	return out, nil
}

// scaffoldInto runs the project's commands with exe in the empty
// directory out.
func (r *replay) scaffoldInto(exe, out, runtimeVersion string) error {
	licenseFile, cleanup, err := r.licenseFile()
	if err != nil {
		return err
	}
	defer cleanup()
	cmds, err := plugin.ReplayCommands(r.config,
		plugin.ReplayOptions{LicenseFile: licenseFile, RuntimeVersion: runtimeVersion})
	if err != nil {
		return err
	}
	for _, args := range cmds {
		line := commandLine(filepath.Base(exe), args)
		if _, err := fmt.Fprintf(r.log, "Running %s\n", line); err != nil {
			return fmt.Errorf("writing the log: %w", err)
		}
		cmd := exec.Command(exe, args...)
		cmd.Dir = out
		cmd.Stdout, cmd.Stderr = r.log, r.log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("`%s` failed: %w", line, err)
		}
	}
	return nil
}

// commandLine shows a command as a user would type it, quoting the
// arguments a shell would not keep as they are.
func commandLine(name string, args []string) string {
	words := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$") {
			a = strconv.Quote(a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

// licenseFile writes the project's license header to a temporary file for
// init's --license-file and returns its path, empty when the project has
// none, and a function that removes it.
func (r *replay) licenseFile() (string, func(), error) {
	if r.license == nil {
		return "", func() {}, nil
	}
	f, err := os.CreateTemp("", "opbuilder-boilerplate-*.txt")
	if err != nil {
		return "", nil, fmt.Errorf("saving the license header: %w", err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	_, err = f.Write(r.license)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("saving the license header: %w", err)
	}
	return f.Name(), cleanup, nil
}
