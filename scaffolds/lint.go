package scaffolds

import (
	"errors"
	"strings"
)

// The versions of the linters the scaffolded Makefile installs with `go
// install`; GolangciLintVersion is the one hack/versions.env pins for this
// repository, LogcheckVersion the one it pins as LOGCHECK_VERSION.
const (
	GolangciLintVersion = "v2.15.0"
	LogcheckVersion     = "v0.11.0"
)

// makefileEdit is one piece of go/v4's Makefile (kubebuilder v4.16.0) and
// what opbuilder writes in its place.
type makefileEdit struct{ stock, opbuilder string }

// offlineLintEdits make `make lint` need nothing but the Go module proxy:
// go/v4's golangci-lint target builds a golangci-lint with the logcheck
// module plugin, which clones golangci-lint's git repository. Instead, plain
// golangci-lint and logcheck's own binary are installed with `go install`,
// and lint runs both. go/v4's Makefile has no markers to insert at, and its
// template is internal to kubebuilder, so the pieces are matched exactly.
var offlineLintEdits = []makefileEdit{
	{
		stock: `lint: golangci-lint ## Run golangci-lint linter
	"$(GOLANGCI_LINT)" run
`,
		opbuilder: `lint: golangci-lint logcheck ## Run golangci-lint linter and logcheck
	"$(GOLANGCI_LINT)" run
	"$(LOGCHECK)" ./...
`,
	},
	{
		stock: "GOLANGCI_LINT = $(LOCALBIN)/golangci-lint\n",
		opbuilder: "GOLANGCI_LINT = $(LOCALBIN)/golangci-lint\n" +
			"LOGCHECK ?= $(LOCALBIN)/logcheck\n",
	},
	{
		stock: "GOLANGCI_LINT_VERSION ?= v2.13.1\n",
		opbuilder: "GOLANGCI_LINT_VERSION ?= " + GolangciLintVersion + "\n" +
			"LOGCHECK_VERSION ?= " + LogcheckVersion + "\n",
	},
	{
		stock: `	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))
	@test -f .custom-gcl.yml && { \
		echo "Building custom golangci-lint with plugins..." && \
		$(GOLANGCI_LINT) custom --destination $(LOCALBIN) --name golangci-lint-custom && \
		mv -f $(LOCALBIN)/golangci-lint-custom $(GOLANGCI_LINT); \
	} || true
`,
		opbuilder: `	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

# logcheck checks logging calls (key-value pairs, keys, verbosity) as the
# module plugin of .custom-gcl.yml would, but building golangci-lint with
# plugins needs git, and logcheck's own binary only the Go module proxy.
.PHONY: logcheck
logcheck: $(LOGCHECK) ## Download logcheck locally if necessary.
$(LOGCHECK): $(LOCALBIN)
	$(call go-install-tool,$(LOGCHECK),sigs.k8s.io/logtools/logcheck,$(LOGCHECK_VERSION))
`,
	},
}

// errMakefileLint is returned when the Makefile's lint targets are not the
// ones go/v4 writes.
var errMakefileLint = errors.New("the Makefile's lint and golangci-lint targets are not the ones kubebuilder " +
	"v4.16.0's go/v4 plugin writes, so opbuilder cannot make `make lint` work offline; scaffold the " +
	"project with kubebuilder v4.16.0")

// lintOffline returns the Makefile with offlineLintEdits made. A Makefile
// that already has them all is returned as is; one that has only some, or
// lacks a stock piece, is an error.
func lintOffline(makefile string) (string, error) {
	applied := 0
	for _, e := range offlineLintEdits {
		if strings.Contains(makefile, e.opbuilder) {
			applied++
		}
	}
	if applied == len(offlineLintEdits) {
		return makefile, nil
	}
	for _, e := range offlineLintEdits {
		if applied > 0 || strings.Count(makefile, e.stock) != 1 {
			return "", errMakefileLint
		}
	}
	for _, e := range offlineLintEdits {
		makefile = strings.Replace(makefile, e.stock, e.opbuilder, 1)
	}
	return makefile, nil
}
