package scaffolds

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/modfile"
)

// RuntimeModule is the module path of the opbuilder runtime, which scaffolded
// projects import.
const RuntimeModule = "github.com/opbuilder/opbuilder/runtime"

// requireRuntime returns the go.mod content with the runtime required at
// version and, when replacePath is set, replaced by the module at that path.
// golang.org/x/mod edits the file, so comments and formatting survive.
func requireRuntime(gomod []byte, version, replacePath string) ([]byte, error) {
	f, err := modfile.Parse("go.mod", gomod, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing go.mod: %w", err)
	}
	if err := f.AddRequire(RuntimeModule, version); err != nil {
		return nil, fmt.Errorf("requiring %s %s in go.mod: %w", RuntimeModule, version, err)
	}
	if replacePath != "" {
		if err := f.AddReplace(RuntimeModule, "", replacePath, ""); err != nil {
			return nil, fmt.Errorf("replacing %s with %s in go.mod: %w", RuntimeModule, replacePath, err)
		}
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return nil, fmt.Errorf("formatting go.mod: %w", err)
	}
	return out, nil
}

// go/v4's Makefile always runs setup-envtest before the tests, and
// setup-envtest downloads the control-plane binaries, which fails offline.
// These are the two lines of its test target (kubebuilder v4.16.0) and what
// replaces them: with KUBEBUILDER_ASSETS set, the binaries it names are used
// and setup-envtest is not run at all.
const (
	envtestTestTarget = `test: manifests generate fmt vet setup-envtest ## Run tests.
	KUBEBUILDER_ASSETS="$(shell "$(ENVTEST)" use $(ENVTEST_K8S_VERSION) --bin-dir "$(LOCALBIN)" -p path)" go test $$(go list ./... | grep -v /e2e) -coverprofile cover.out
`
	assetsTestTarget = `# KUBEBUILDER_ASSETS, when set, names a directory that already holds the
# control-plane binaries (etcd, kube-apiserver, kubectl); the tests then use
# those and setup-envtest, which downloads them, is not run.
test: manifests generate fmt vet $(if $(KUBEBUILDER_ASSETS),,setup-envtest) ## Run tests.
	KUBEBUILDER_ASSETS="$(or $(KUBEBUILDER_ASSETS),$(shell "$(ENVTEST)" use $(ENVTEST_K8S_VERSION) --bin-dir "$(LOCALBIN)" -p path))" go test $$(go list ./... | grep -v /e2e) -coverprofile cover.out
`
)

// errMakefileTestTarget is returned when the Makefile's test target is not
// the one go/v4 writes.
var errMakefileTestTarget = errors.New("the Makefile's test target is not the one kubebuilder v4.16.0's go/v4 " +
	"plugin writes, so opbuilder cannot make it use KUBEBUILDER_ASSETS")

// useKubebuilderAssets returns the Makefile with its test target using
// KUBEBUILDER_ASSETS when set. A Makefile that already does is returned as
// is.
func useKubebuilderAssets(makefile string) (string, error) {
	if strings.Contains(makefile, assetsTestTarget) {
		return makefile, nil
	}
	if strings.Count(makefile, envtestTestTarget) != 1 {
		return "", errMakefileTestTarget
	}
	return strings.Replace(makefile, envtestTestTarget, assetsTestTarget, 1), nil
}
