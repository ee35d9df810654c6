#!/usr/bin/env bash
# The runtime module is imported by every scaffolded operator, so it must stay
# lean: no kubebuilder or helm module in its module graph, and no kubebuilder,
# cobra, helm or afero package among the packages it compiles. (cobra is an
# indirect requirement of controller-runtime's go.mod, so it may appear in the
# graph, but never in the build.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../runtime"

fail=0
if mods="$(GOWORK=off go mod graph | tr ' ' '\n' | grep -E '^(sigs\.k8s\.io/kubebuilder|helm\.sh/)' | sort -u)" && [[ -n "${mods}" ]]; then
  echo "runtime: forbidden modules in go mod graph:" >&2
  echo "${mods}" >&2
  fail=1
fi
if pkgs="$(GOWORK=off go list -deps -test ./... | grep -E 'kubebuilder|spf13/cobra|helm\.sh|spf13/afero' | sort -u)" && [[ -n "${pkgs}" ]]; then
  echo "runtime: forbidden packages compiled:" >&2
  echo "${pkgs}" >&2
  fail=1
fi
if [[ ${fail} -eq 0 ]]; then
  echo "runtime: dependencies ok (no kubebuilder, helm, cobra or afero)"
fi
exit "${fail}"
