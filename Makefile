# opbuilder: a kubebuilder plugin plus the runtime library its scaffolds import.
# Every version lives in hack/versions.env.
include hack/versions.env
export

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

LOCALBIN ?= $(CURDIR)/bin
GOLANGCI_LINT := $(LOCALBIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
# Whole-suite timeout: the integration suites start real control planes.
GO_TEST_TIMEOUT ?= 45m
GO_TEST_FLAGS ?=

.DEFAULT_GOAL := help

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: ## Build the kubebuilder-opbuilder CLI into bin/ and compile the runtime and the benchmark.
	go build -o $(LOCALBIN)/kubebuilder-opbuilder ./cmd/kubebuilder-opbuilder
	cd runtime && go build ./...
	cd bench && go build ./...

.PHONY: test-binaries
test-binaries: ## Build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok from the Go module proxy; last line is KUBEBUILDER_ASSETS=<dir>.
	@./hack/test-binaries.sh

.PHONY: generate-testdata
generate-testdata: ## Regenerate the golden project testdata/project-v4-opbuilder with this checkout's CLI.
	./hack/generate-testdata.sh

##@ Test

# The benchmark's module is vetted and its unit tests run (seconds, no
# control plane), so that it cannot rot between runs of make bench.
.PHONY: test
test: ## Run every test that gates a change: unit, integration against a real control plane, golden project, e2e.
	./hack/check-runtime-deps.sh
	cd bench && go vet ./... && go test -timeout 5m $(GO_TEST_FLAGS) ./...
	export $$(./hack/test-binaries.sh | tail -1) && \
	  (cd runtime && go test -timeout $(GO_TEST_TIMEOUT) $(GO_TEST_FLAGS) ./...) && \
	  go test -timeout $(GO_TEST_TIMEOUT) $(GO_TEST_FLAGS) ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint on the root, runtime and bench modules.
	$(GOLANGCI_LINT) run --allow-parallel-runners ./...
	cd runtime && $(GOLANGCI_LINT) run --allow-parallel-runners ./...
	cd bench && $(GOLANGCI_LINT) run --allow-parallel-runners ./...

$(GOLANGCI_LINT):
	mkdir -p $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(LOCALBIN)/golangci-lint $(GOLANGCI_LINT)

##@ Show

# Where `make demo` scaffolds its operator; a previous demo there is replaced.
DEMO_DIR ?= $(CURDIR)/demo

.PHONY: demo
demo: build ## Scaffold a Druid-style operator into DEMO_DIR (./demo) and walk through it on a local control plane.
	export $$(./hack/test-binaries.sh | tail -1) && \
	  go run ./test/demo -dir "$(DEMO_DIR)" -cli "$(LOCALBIN)/kubebuilder-opbuilder"

# BENCH_FLAGS=-quick runs small sizes (a few minutes) and writes its report
# under bin/ instead of BENCHMARKS.md; see `bin/opbench -h` for the others.
BENCH_FLAGS ?=
BENCH_OUT ?= $(if $(findstring -quick,$(BENCH_FLAGS)),$(LOCALBIN)/BENCHMARKS-quick.md,BENCHMARKS.md)

.PHONY: bench
bench: ## Measure API-server cost, latency, scale and memory against baselines; writes BENCHMARKS.md (BENCH_FLAGS=-quick: small sizes).
	mkdir -p $(LOCALBIN)
	cd bench && go build -o $(LOCALBIN)/opbench ./cmd/opbench
	export $$(./hack/test-binaries.sh | tail -1) && \
	  $(LOCALBIN)/opbench $(BENCH_FLAGS) -out $(BENCH_OUT) -json $(LOCALBIN)/bench-results.json \
	    -command "make bench$(if $(BENCH_FLAGS), BENCH_FLAGS='$(BENCH_FLAGS)')"
