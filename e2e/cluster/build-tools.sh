#!/usr/bin/env bash
# Build the pinned e2e cluster binaries from Go modules (nothing else is downloaded).
#
#   e2e/cluster/build-tools.sh            build what is missing, reuse the rest
#   e2e/cluster/build-tools.sh NAME...    only these binaries (e.g. `kubelet`)
#   e2e/cluster/build-tools.sh --print    print NAME=PATH for every binary (builds nothing)
#
# Versions come from e2e/cluster/versions.env (the only place they are written).
# Binaries land OUTSIDE the repository, keyed by version:
#   ${FALCON_CACHE:-$HOME/.cache/falcon-operator}/bin/<name>-<version>/<name>
# A binary that is present and answers `--version` (or `version`) is reused as is.
# Build time and peak RSS of every fresh build are appended to $FALCON_CACHE/build-times.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$HERE/tools"
# shellcheck source=versions.env
source "$HERE/versions.env"

FALCON_CACHE="${FALCON_CACHE:-$HOME/.cache/falcon-operator}"
BIN_ROOT="$FALCON_CACHE/bin"
TIMES_LOG="$FALCON_CACHE/build-times.log"
export PATH="$PATH:/usr/local/go/bin"
# Build with the local toolchain; never let a go.mod 'toolchain' line trigger a download.
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export CGO_ENABLED=0

KUBE_V="${KUBERNETES_VERSION#v}"
KUBE_MAJOR="${KUBE_V%%.*}"
KUBE_MINOR="$(echo "$KUBE_V" | cut -d. -f2)"
BUILD_DATE="1970-01-01T00:00:00Z"

kube_ldflags() {
  local ld="-s -w" pkg
  for pkg in k8s.io/component-base/version "$@"; do
    ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=$KUBE_MAJOR"
    ld+=" -X $pkg.gitMinor=$KUBE_MINOR -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
  done
  echo "$ld"
}

# name | version | module dir | main package | ldflags | version command | expected substring
specs() {
  local kld kctl
  kld="$(kube_ldflags)"
  kctl="$(kube_ldflags k8s.io/client-go/pkg/version)"
  cat <<EOF
kube-apiserver|$KUBERNETES_VERSION|kubernetes|k8s.io/kubernetes/cmd/kube-apiserver|$kld|--version|$KUBERNETES_VERSION
kube-controller-manager|$KUBERNETES_VERSION|kubernetes|k8s.io/kubernetes/cmd/kube-controller-manager|$kld|--version|$KUBERNETES_VERSION
kube-scheduler|$KUBERNETES_VERSION|kubernetes|k8s.io/kubernetes/cmd/kube-scheduler|$kld|--version|$KUBERNETES_VERSION
kubectl|$KUBERNETES_VERSION|kubernetes|k8s.io/kubernetes/cmd/kubectl|$kctl|version --client|$KUBERNETES_VERSION
kubelet|$KUBERNETES_VERSION|kubernetes|k8s.io/kubernetes/cmd/kubelet|$kld|--version|$KUBERNETES_VERSION
etcd|$ETCD_VERSION|etcd|go.etcd.io/etcd/server/v3|-s -w|--version|${ETCD_VERSION#v}
kwok|$KWOK_VERSION|kwok|sigs.k8s.io/kwok/cmd/kwok|-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBE_V|--version|${KWOK_VERSION#v}
kwokctl|$KWOK_VERSION|kwok|sigs.k8s.io/kwok/cmd/kwokctl|-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBE_V|--version|${KWOK_VERSION#v}
helm|$HELM_VERSION|helm|helm.sh/helm/v3/cmd/helm|-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean|version --short|$HELM_VERSION
EOF
}

bin_path() { echo "$BIN_ROOT/$1-$2/$1"; }

works() { # path, version command, expected substring
  local out
  [[ -x "$1" ]] || return 1
  # shellcheck disable=SC2086
  out="$("$1" $2 2>&1)" || return 1
  [[ "$out" == *"$3"* ]]
}

if [[ "${1:-}" == "--print" ]]; then
  while IFS='|' read -r name ver _ _ _ _ _; do
    echo "$name=$(bin_path "$name" "$ver")"
  done < <(specs)
  exit 0
fi

command -v go >/dev/null || { echo "error: go not found (need Go >= 1.26 on PATH or in /usr/local/go/bin)" >&2; exit 1; }
# the tool modules must pin what versions.env says
for pin in "kubernetes:k8s.io/kubernetes $KUBERNETES_VERSION" \
           "kubernetes:k8s.io/api => k8s.io/api $KUBERNETES_STAGING_VERSION" \
           "etcd:go.etcd.io/etcd/server/v3 $ETCD_VERSION" \
           "kwok:sigs.k8s.io/kwok $KWOK_VERSION" \
           "helm:helm.sh/helm/v3 $HELM_VERSION"; do
  if ! grep -qF "${pin#*:}" "$TOOLS/${pin%%:*}/go.mod"; then
    echo "error: $TOOLS/${pin%%:*}/go.mod does not pin '${pin#*:}' from versions.env;" \
         "run e2e/cluster/tools/sync.sh" >&2
    exit 1
  fi
done
ONLY=" $* "
for want in "$@"; do
  specs | cut -d'|' -f1 | grep -qx -- "$want" || { echo "error: no binary named '$want' in build-tools.sh" >&2; exit 2; }
done
mkdir -p "$BIN_ROOT"
TIME=()
[[ -x /usr/bin/time ]] && TIME=(/usr/bin/time -f "%e s wall, %M KiB peak RSS")

while IFS='|' read -r name ver moddir pkg ldflags vcmd expect; do
  [[ $# -eq 0 || "$ONLY" == *" $name "* ]] || continue
  out="$(bin_path "$name" "$ver")"
  if works "$out" "$vcmd" "$expect"; then
    echo "reuse  $name $ver  ($out)"
    continue
  fi
  echo "build  $name $ver  (module e2e/cluster/tools/$moddir, $pkg)"
  mkdir -p "$(dirname "$out")"
  tmp="$out.tmp.$$"
  start=$(date +%s)
  stats="$(mktemp)"
  if ! (cd "$TOOLS/$moddir" && "${TIME[@]}" -o "$stats" \
        go build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"); then
    rm -f "$tmp" "$stats"
    echo "error: building $name $ver failed (see the go output above)" >&2
    exit 1
  fi
  mv -f "$tmp" "$out"
  if ! works "$out" "$vcmd" "$expect"; then
    echo "error: $out built but '$name $vcmd' does not report $expect:" >&2
    "$out" $vcmd >&2 || true
    exit 1
  fi
  line="$(date -u +%FT%TZ) $name $ver built in $(( $(date +%s) - start )) s ($(cat "$stats" 2>/dev/null | tail -1))"
  rm -f "$stats"
  echo "$line" | tee -a "$TIMES_LOG"
done < <(specs)
