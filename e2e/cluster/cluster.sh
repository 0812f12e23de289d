#!/usr/bin/env bash
# The e2e control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the
# KWOK controller as local processes on 127.0.0.1 (kwokctl --runtime binary), built from Go
# modules by build-tools.sh, with the GPU node pools of nodepools.yaml as KWOK nodes.
#
#   cluster.sh up          build what is missing, start (or reuse) the cluster, sync node pools,
#                          start the real node real-0 (node.sh: kubelet + containerd)
#   cluster.sh down        stop the real node and the cluster and delete their state
#   cluster.sh import-image FILE...  import OCI image archives into the real node's containerd
#   cluster.sh kubeconfig  print the kubeconfig path
#   cluster.sh status      exit 0 if the apiserver answers /readyz
#   cluster.sh env         print KUBECONFIG=... and one FALCON_E2E_<BIN>=... line per binary
#
# Environment: FALCON_CACHE (default ~/.cache/falcon-operator) holds binaries and cluster state,
# FALCON_E2E_CLUSTER (default falcon-e2e) names the cluster, PY is the python with the
# `kubernetes` package (default .venv/bin/python of the repository).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

FALCON_CACHE="${FALCON_CACHE:-$HOME/.cache/falcon-operator}"
export FALCON_CACHE
CLUSTER="${FALCON_E2E_CLUSTER:-falcon-e2e}"
export KWOK_WORKDIR="$FALCON_CACHE/kwok"
CLUSTER_DIR="$KWOK_WORKDIR/clusters/$CLUSTER"
KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig.yaml"
PY="${PY:-$REPO/.venv/bin/python}"
[[ "$PY" == /* || "$PY" != */* ]] || PY="$REPO/$PY"  # make passes PY relative to the repo

declare -A BIN
while IFS='=' read -r name path; do BIN[$name]="$path"; done < <("$HERE/build-tools.sh" --print)

log() { echo "[cluster] $*" >&2; }
kwokctl() { "${BIN[kwokctl]}" "$@"; }
kubectl() { "${BIN[kubectl]}" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

ready() {
  [[ -f "$KUBECONFIG_PATH" ]] && kubectl get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

wait_ready() {
  local i
  for ((i = 0; i < ${1:-120}; i++)); do
    ready && return 0
    sleep 1
  done
  return 1
}

# One controller manager and one scheduler: no leader election, so that neither exits when the
# API server stops answering for a while (make bench-operator pauses it for 30 s; a lost lease
# makes them exit, and kwokctl's binary runtime does not restart them).
create() {
  log "creating cluster $CLUSTER (kube $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
  # --kubeconfig "": leave ~/.kube/config alone; the cluster's own kubeconfig is KUBECONFIG_PATH
  kwokctl create cluster \
    --name "$CLUSTER" \
    --config "$HERE/kwok.yaml" --config "$HERE/stages.yaml" \
    --runtime binary \
    --kube-apiserver-binary "${BIN[kube-apiserver]}" \
    --kube-controller-manager-binary "${BIN[kube-controller-manager]}" \
    --kube-scheduler-binary "${BIN[kube-scheduler]}" \
    --kwok-controller-binary "${BIN[kwok]}" \
    --etcd-binary "${BIN[etcd]}" \
    --kubeconfig "$KWOK_WORKDIR/unused-kubeconfig" \
    --extra-args "kube-apiserver=kubelet-client-certificate=$CLUSTER_DIR/pki/admin.crt" \
    --extra-args "kube-apiserver=kubelet-client-key=$CLUSTER_DIR/pki/admin.key" \
    --extra-args "kube-controller-manager=leader-elect=false" \
    --extra-args "kube-scheduler=leader-elect=false" \
    --timeout 5m --wait 2m
  config_hash >"$CLUSTER_DIR/falcon-config.sha256"
}

# what a cluster is created from (kwokctl keeps its own copy): a cluster made from another
# version of these is recreated by `up`, so nobody tests against a stale configuration
config_hash() {
  { cat "$HERE/kwok.yaml" "$HERE/stages.yaml"; declare -f create; } | sha256sum | cut -c1-64
}

recreate() {
  PY="$PY" "$HERE/node.sh" down
  kwokctl delete cluster --name "$CLUSTER" --kubeconfig "$KWOK_WORKDIR/unused-kubeconfig" || rm -rf "$CLUSTER_DIR"
  create
}

up() {
  local t0=$SECONDS
  "$HERE/build-tools.sh"
  if [[ -d "$CLUSTER_DIR" && "$(cat "$CLUSTER_DIR/falcon-config.sha256" 2>/dev/null)" != "$(config_hash)" ]]; then
    log "cluster $CLUSTER was created from another kwok.yaml/stages.yaml/cluster.sh; recreating"
    recreate
  elif ready; then
    log "cluster $CLUSTER already running"
  elif [[ -d "$CLUSTER_DIR" ]]; then
    log "starting stopped cluster $CLUSTER"
    if ! { kwokctl start cluster --name "$CLUSTER" && wait_ready 120; }; then
      log "could not restart it; recreating"
      recreate
    fi
  else
    create
  fi
  wait_ready 120 || { log "error: apiserver not ready; logs: $CLUSTER_DIR/logs"; exit 1; }
  PYTHONPATH="$REPO/e2e${PYTHONPATH:+:$PYTHONPATH}" \
    "$PY" -m falcon_e2e.nodepools --kubeconfig "$KUBECONFIG_PATH" --pools "$HERE/nodepools.yaml"
  PY="$PY" "$HERE/node.sh" up
  log "cluster $CLUSTER up in $((SECONDS - t0)) s; KUBECONFIG=$KUBECONFIG_PATH"
}

# kwokctl delete always edits a kubeconfig to drop the cluster's context (it refuses an empty
# path); point it at a scratch file instead of ~/.kube/config
down() {
  PY="$PY" "$HERE/node.sh" down
  if [[ -d "$CLUSTER_DIR" ]]; then
    kwokctl delete cluster --name "$CLUSTER" --kubeconfig "$KWOK_WORKDIR/unused-kubeconfig"
  else
    log "no cluster $CLUSTER"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$KUBECONFIG_PATH" ;;
  status) ready ;;
  import-image) shift; PY="$PY" "$HERE/node.sh" import "$@" ;;
  env)
    echo "KUBECONFIG=$KUBECONFIG_PATH"
    for name in "${!BIN[@]}"; do
      key="${name//-/_}"
      echo "FALCON_E2E_${key^^}=${BIN[$name]}"
    done
    ;;
  *)
    echo "usage: $0 up|down|kubeconfig|status|env|import-image FILE..." >&2
    exit 2
    ;;
esac
