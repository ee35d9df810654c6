#!/usr/bin/env bash
# Builds the control-plane binaries that opbuilder's tests run against, from
# the Go module proxy only: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl and kwok (with kwok's stage definitions).
#
# setup-envtest downloads prebuilt binaries from a bucket that is not
# reachable from every machine (and not at all offline), so we compile them.
#
# The binaries land in a versioned directory outside the clone. A binary whose
# --version already matches is not rebuilt, so a second run takes seconds.
# The last line printed is KUBEBUILDER_ASSETS=<dir>, for
#   export $(make -s test-binaries | tail -1)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "${here}/versions.env"

cache_root="${OPBUILDER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/opbuilder}"
assets="${cache_root}/assets/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}"
work="${cache_root}/work"
mkdir -p "${assets}" "${work}"

log() { echo "test-binaries: $*" >&2; }

# has_version BIN WANT ARGS...: true when BIN exists and its version output
# contains WANT.
has_version() {
  local bin="$1" want="$2"
  shift 2
  [[ -x "${assets}/${bin}" ]] || return 1
  # Capture first: grep -q closing the pipe early would fail under pipefail.
  local out
  out="$("${assets}/${bin}" "$@" 2>&1)" || return 1
  [[ "${out}" == *"${want}"* ]]
}

build_etcd() {
  if has_version etcd "${ETCD_VERSION#v}" --version; then
    return
  fi
  log "building etcd ${ETCD_VERSION} (about a minute on a cold cache)"
  local dir="${work}/etcd"
  rm -rf "${dir}" && mkdir -p "${dir}"
  (
    cd "${dir}"
    go mod init opbuilder.local/etcd-build >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null 2>&1
    CGO_ENABLED=0 go build -trimpath -o "${assets}/etcd" go.etcd.io/etcd/server/v3
  )
}

build_kubernetes() {
  local need=()
  has_version kube-apiserver "${K8S_VERSION}" --version || need+=(kube-apiserver)
  has_version kube-controller-manager "${K8S_VERSION}" --version || need+=(kube-controller-manager)
  has_version kube-scheduler "${K8S_VERSION}" --version || need+=(kube-scheduler)
  has_version kubectl "${K8S_VERSION}" version --client || need+=(kubectl)
  if [[ ${#need[@]} -eq 0 ]]; then
    return
  fi
  log "building ${need[*]} ${K8S_VERSION} (several minutes on a cold cache)"
  local dir="${work}/kubernetes"
  rm -rf "${dir}" && mkdir -p "${dir}"
  (
    cd "${dir}"
    go mod init opbuilder.local/kubernetes-build >/dev/null 2>&1
    go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" >/dev/null
    local gomod
    gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/${K8S_VERSION}.mod"
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces
    # them with local directories; a consumer must pin them itself.
    local staging
    staging="$(awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "${gomod}" | sort -u)"
    {
      echo "require k8s.io/kubernetes ${K8S_VERSION}"
      for m in ${staging}; do
        echo "require ${m} ${K8S_LIB_VERSION}"
        echo "replace ${m} => ${m} ${K8S_LIB_VERSION}"
      done
    } >>go.mod
    local pkgs=()
    for b in "${need[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
    go get "${pkgs[@]/%/@${K8S_VERSION}}" >/dev/null 2>&1 || go mod tidy >/dev/null
    local minor="${K8S_VERSION#v1.}"
    minor="${minor%%.*}"
    local ldflags=""
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X ${p}.gitVersion=${K8S_VERSION} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor}"
      ldflags+=" -X ${p}.gitTreeState=clean"
    done
    CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace \
      -ldflags "-s -w ${ldflags}" -o "${assets}/" "${pkgs[@]}"
  )
}

build_kwok() {
  if has_version kwok "${KWOK_VERSION}" --version; then
    return
  fi
  log "building kwok ${KWOK_VERSION}"
  local dir="${work}/kwok"
  rm -rf "${dir}" && mkdir -p "${dir}"
  (
    cd "${dir}"
    go mod init opbuilder.local/kwok-build >/dev/null 2>&1
    go get "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}" >/dev/null 2>&1
    CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}" \
      -o "${assets}/kwok" sigs.k8s.io/kwok/cmd/kwok
  )
}

# install_kwok_stages copies the stage set that makes fake nodes Ready and
# moves pods through their lifecycle quickly ("fast" variants), by explicit
# path so the set is exact. Cheap, so it always runs.
install_kwok_stages() {
  local src
  src="$(go mod download -json "sigs.k8s.io/kwok@${KWOK_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')/kustomize/stage"
  local dst="${assets}/kwok-stages"
  rm -rf "${dst}" && mkdir -p "${dst}"
  for f in node/fast/node-initialize node/heartbeat/node-heartbeat \
    pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    install -m 0644 "${src}/${f}.yaml" "${dst}/$(basename "${f}").yaml"
  done
}

# Two runs at once (parallel test jobs) would race on the same files.
exec 9>"${cache_root}/.lock"
flock 9

build_etcd
build_kubernetes
build_kwok
install_kwok_stages
echo "KUBEBUILDER_ASSETS=${assets}"
