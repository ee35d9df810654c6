#!/usr/bin/env bash
# Generates the golden project testdata/project-v4-opbuilder: a Druid-style
# operator scaffolded by kubebuilder-opbuilder, the way kubebuilder keeps its
# own testdata/. Every change to the scaffolds shows up as a diff of it.
#
#   hack/generate-testdata.sh [PROJECT_DIR]
#
# PROJECT_DIR defaults to testdata/project-v4-opbuilder and is replaced. Its
# go.mod replaces the runtime module with ../../runtime, so the directory two
# levels up must hold the runtime (the golden test links a checkout's runtime
# there when it regenerates into a temporary directory).
#
# OPBUILDER_CLI names a kubebuilder-opbuilder binary to use; by default one
# is built from this checkout. The project's tools (controller-gen) are
# installed into a cache shared by every run, not into the project.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project="${1:-${repo}/testdata/project-v4-opbuilder}"
cache_root="${OPBUILDER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/opbuilder}"

log() { echo "generate-testdata: $*" >&2; }

cli="${OPBUILDER_CLI:-}"
if [[ -z "${cli}" ]]; then
  bin="$(mktemp -d)"
  trap 'rm -rf "${bin}"' EXIT
  log "building kubebuilder-opbuilder"
  (cd "${repo}" && go build -o "${bin}/kubebuilder-opbuilder" ./cmd/kubebuilder-opbuilder)
  cli="${bin}/kubebuilder-opbuilder"
fi

# The project is its own module, not part of this checkout's go.work.
export GOWORK=off
# The scaffolded Makefile installs controller-gen into LOCALBIN.
export LOCALBIN="${cache_root}/tools"
mkdir -p "${LOCALBIN}"

rm -rf "${project}"
mkdir -p "${project}"
cd "${project}"

run() {
  log "kubebuilder-opbuilder $*"
  "${cli}" "$@"
}

run init --plugins go/v4,opbuilder/v1 --domain example.com --repo example.com/druid-operator \
  --owner "The opbuilder Authors" --runtime-path ../../runtime
run create api --group data --version v1alpha1 --kind Druid --resource --controller --image apache/druid:34.0.0
run create nodetype --kind Druid --name historical --workload statefulset --port 8083 --storage 10Gi \
  --groups hot,cold
run create nodetype --kind Druid --name middlemanager --workload statefulset --port 8091
run create nodetype --kind Druid --name broker --workload deployment --port 8082 --replicas 2
run create nodetype --kind Druid --name coordinator --workload deployment --port 8081
run create nodetype --kind Druid --name router --workload deployment --port 8888

# Build output is not part of the project.
rm -rf bin cover.out
log "generated ${project}"
