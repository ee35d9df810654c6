#!/usr/bin/env bash
# Builds the control-plane binaries that opbuilder's tests run against, from
# the Go module proxy only: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl and kwok (with kwok's stage definitions).
#
# The logic lives in the runtime module's opbuilder-testbin command, which
# scaffolded projects run too; this wrapper only passes it the versions
# pinned in versions.env. The last line printed is KUBEBUILDER_ASSETS=<dir>,
# for
#   export $(make -s test-binaries | tail -1)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${here}/versions.env"

cd "${here}/../runtime"
exec go run ./cmd/opbuilder-testbin \
  -k8s-version "${K8S_VERSION}" -k8s-lib-version "${K8S_LIB_VERSION}" \
  -etcd-version "${ETCD_VERSION}" -kwok-version "${KWOK_VERSION}"
