#!/usr/bin/env bash
# The runtime module is imported by every scaffolded operator, so it must stay
# lean:
#
#  1. no kubebuilder or helm module in its module graph, and no kubebuilder,
#     cobra, helm or afero package among the packages it compiles. (cobra is
#     an indirect requirement of controller-runtime's go.mod, so it may appear
#     in the graph, but never in the build.)
#  2. runtime/go.mod requires no module that only its tests, a benchmark or
#     a command need.
#
# Why 2 checks runtime/go.mod and not a scaffolded project's go.mod: with
# module graph pruning (go 1.17 and later) a project's go.mod lists only the
# modules that provide packages it compiles, so a module the runtime's tests
# import never shows up there by name. It does enter the project's module
# graph and go.sum, through runtime/go.mod's requirements, and it raises the
# version the project's go.mod records when the project uses the module too.
# github.com/google/pprof is in a project's go.mod anyway, because ginkgo's
# root package imports its command's packages, which import pprof; so a
# project's go.mod cannot tell whose a module is. The runtime's own module
# graph can, quickly and without scaffolding:
#
#  - "needed" are the modules that provide the packages a project can compile
#    from the runtime: `go list -deps` (without -test) of its importable
#    packages, that is every package but main packages and those under
#    internal/ (which come in only where an importable package imports them);
#  - every other module that runtime/go.mod requires fails the check, unless
#    test_only_ok below names it; such a module still fails if it matters to
#    a project, that is if the runtime's other requirements (a copy of go.mod
#    without the modules no package needs, asked with go list -modfile) do
#    not select it at the same version.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../runtime"
export GOWORK=off

# Listing failures must fail the check, so capture before filtering.
graph="$(go mod graph)"
listing="$(go list -deps -test -f '{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}' ./...)"
deps="$(cut -d ' ' -f 1 <<<"${listing}")"
# The modules of every package the runtime compiles, its tests' included.
compiled="$(awk 'NF > 1 { print $2 }' <<<"${listing}" | sort -u)"
importable="$(go list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./... | grep -v '/internal/')"
# shellcheck disable=SC2086 # one argument per package
needed="$(go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}' ${importable} | sort -u)"
required="$(go mod edit -print | awk '
  /^require \($/ { block = 1; next }
  block && /^\)$/ { block = 0; next }
  block { print $1, $2 }
  /^require [^(]/ { print $2, $3 }' | sort -u)"

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

# Modules the runtime's tests may require, each with why it is harmless and
# what would remove it.
declare -A test_only_ok=(
  # orchestrate's tests diff with cmp.Diff; k8s.io/apimachinery requires the
  # same version. Goes when those tests do without it.
  [github.com/google/go-cmp]=1
)

# The requirements that no importable package needs, as "path version".
unneeded="$(awk 'NR == FNR { needed[$1] = 1; next } !($1 in needed)' <(echo "${needed}") <(echo "${required}"))"
probe="$(mktemp -d)"
trap 'rm -rf "${probe}"' EXIT
cp go.mod go.sum "${probe}/"
while read -r path _; do
  [[ -n "${path}" ]] && go mod edit -droprequire="${path}" "${probe}/go.mod"
done <<<"${unneeded}"

allowed=()
while read -r path version; do
  [[ -z "${path}" ]] && continue
  # -mod=mod lets go record sums the smaller graph needs, in the copy only.
  others="$(go list -mod=mod -modfile="${probe}/go.mod" -m -f '{{.Version}}' "${path}" 2>/dev/null || true)"
  if [[ -n "${test_only_ok[${path}]:-}" && "${others}" == "${version}" ]]; then
    allowed+=("${path}")
    continue
  fi
  why="$(go mod why -m "${path}" | awk 'NR > 1 { printf "%s%s", sep, $0; sep = " -> " }')"
  printf 'runtime: go.mod requires %s %s, which no package a project can import from the runtime needs (%s).\n' \
    "${path}" "${version}" "${why:-nothing imports it}" >&2
  if [[ "${others}" == "${version}" ]]; then
    printf '  The runtime'"'"'s other requirements select the same version, so projects get nothing new from it; if it must stay, add it to test_only_ok in %s, saying why.\n' "$0" >&2
  else
    printf '  Every project that imports the runtime gets %s %s in its module graph and go.sum only for this (the runtime'"'"'s other requirements select %s).\n' \
      "${path}" "${version}" "${others:-no version of it}" >&2
  fi
  if grep -qxF "${path}" <<<"${compiled}"; then
    printf '  Fix: move the code that imports it out of the runtime module (a benchmark belongs in bench/), or make the test do without it; then run go mod tidy in runtime/.\n' >&2
  else
    # go mod tidy keeps a requirement that only a dependency's tests need,
    # but does not add it back once it is gone.
    printf '  Fix: nothing the runtime compiles, its tests included, imports it; run go mod edit -droprequire=%s in runtime/.\n' "${path}" >&2
  fi
  fail=1
done <<<"${unneeded}"

for path in "${!test_only_ok[@]}"; do
  if ! grep -q "^${path} " <<<"${unneeded}"; then
    printf 'runtime: go.mod no longer requires %s for tests only; remove it from test_only_ok in %s.\n' "${path}" "$0" >&2
    fail=1
  fi
done

if [[ ${fail} -eq 0 ]]; then
  echo "runtime: dependencies ok ($(wc -l <<<"${deps}") packages compiled; no kubebuilder, helm, cobra or afero; go.mod requires nothing only tests or benchmarks need${allowed[*]:+, but for ${allowed[*]}})"
fi
exit "${fail}"
