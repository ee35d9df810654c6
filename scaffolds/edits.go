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

// go/v4's Makefile runs the tests on what setup-envtest downloads: etcd and
// kube-apiserver alone, and only where its download bucket is reachable.
// The suite opbuilder scaffolds needs kube-controller-manager,
// kube-scheduler and kwok too, so the test target gets them from the
// runtime's opbuilder-testbin, which builds them from the Go module proxy
// once and prints KUBEBUILDER_ASSETS=<dir> last. These are the two lines of
// go/v4's test target (kubebuilder v4.16.0) and what replaces them. The
// Makefile's shell runs with -e and pipefail, so a failed build stops the
// target before go test runs.
const (
	envtestTestTarget = `test: manifests generate fmt vet setup-envtest ## Run tests.
	KUBEBUILDER_ASSETS="$(shell "$(ENVTEST)" use $(ENVTEST_K8S_VERSION) --bin-dir "$(LOCALBIN)" -p path)" go test $$(go list ./... | grep -v /e2e) -coverprofile cover.out
`
	assetsTestTarget = `# The tests run on a real control plane: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kwok, built from the Go module
# proxy by the opbuilder runtime's opbuilder-testbin the first time (minutes)
# and found in ~/.cache/opbuilder after that. KUBEBUILDER_ASSETS, when set,
# names a directory that already holds them.
test: manifests generate fmt vet ## Run tests.
	assets="$${KUBEBUILDER_ASSETS:-$$(go run ` + RuntimeModule + `/cmd/opbuilder-testbin | tail -1 | cut -d= -f2-)}"; \
	KUBEBUILDER_ASSETS="$$assets" go test $$(go list ./... | grep -v /e2e) -coverprofile cover.out
`
)

// errMakefileTestTarget is returned when the Makefile's test target is not
// the one go/v4 writes.
var errMakefileTestTarget = errors.New("the Makefile's test target is not the one kubebuilder v4.16.0's go/v4 " +
	"plugin writes, so opbuilder cannot make it run on opbuilder-testbin's control plane")

// useTestBinaries returns the Makefile with its test target running on
// opbuilder-testbin's binaries, or on KUBEBUILDER_ASSETS when set. A
// Makefile that already does is returned as is.
func useTestBinaries(makefile string) (string, error) {
	if strings.Contains(makefile, assetsTestTarget) {
		return makefile, nil
	}
	if strings.Count(makefile, envtestTestTarget) != 1 {
		return "", errMakefileTestTarget
	}
	return strings.Replace(makefile, envtestTestTarget, assetsTestTarget, 1), nil
}
