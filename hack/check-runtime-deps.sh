#!/usr/bin/env bash
# The runtime module is imported by every scaffolded operator, so it must stay
# lean: no kubebuilder or helm module in its module graph, and no kubebuilder,
# cobra, helm or afero package among the packages it compiles. (cobra is an
# indirect requirement of controller-runtime's go.mod, so it may appear in the
# graph, but never in the build.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../runtime"

# Listing failures must fail the check, so capture before filtering.
graph="$(GOWORK=off go mod graph)"
deps="$(GOWORK=off go list -deps -test ./...)"

fail=0
mods="$(tr ' ' '\n' <<<"${graph}" | grep -E '^(sigs\.k8s\.io/kubebuilder|helm\.sh/)' | sort -u || true)"
if [[ -n "${mods}" ]]; then
  printf 'runtime: forbidden modules in go mod graph:\n%s\n' "${mods}" >&2
  fail=1
fi
pkgs="$(grep -E 'kubebuilder|spf13/cobra|helm\.sh|spf13/afero' <<<"${deps}" | sort -u || true)"
if [[ -n "${pkgs}" ]]; then
  printf 'runtime: forbidden packages compiled:\n%s\n' "${pkgs}" >&2
  fail=1
fi
if [[ ${fail} -eq 0 ]]; then
  echo "runtime: dependencies ok ($(wc -l <<<"${deps}") packages compiled; no kubebuilder, helm, cobra or afero)"
fi
exit "${fail}"
