#!/usr/bin/env bash
# The e2e cluster's one REAL node: kubelet + containerd + runc + CNI bridge on this machine,
# registered as node `real-0` (pool real-t4, labelled and tainted like a T4 GPU pool node, with
# nvidia.com/gpu capacity, plus the taint falcon.io/real-node=present:NoSchedule so that only
# pods meant for it land there). Every other node of the cluster is a KWOK fake.
#
#   node.sh up             start containerd and the kubelet (or reuse them), label the node
#   node.sh down           stop them, kill the pods' containers, unmount, delete netns/bridge
#   node.sh status         exit 0 if containerd and the kubelet run
#   node.sh import FILE..  import OCI image archives into the node's containerd (k8s.io ns)
#   node.sh ctr ARGS..     run `ctr` against the node's containerd
#
# Called by cluster.sh `up` (after the control plane is ready) and `down`. Needs root with
# CAP_NET_ADMIN and CAP_SYS_ADMIN (mounts, namespaces) and overlayfs; fails with the reason
# otherwise. State, logs and built images live under $FALCON_CACHE/node (logs in logs/).
#
# Network (nothing ever leaves the machine): pods get 198.18.0.0/24 (RFC 2544 benchmarking
# range) on bridge falcon0, whose address 198.18.0.1 is the host's; pods have no route but that
# subnet, IP forwarding is left as it is, no masquerading, and a `blackhole 198.18.0.0/15`
# route drops anything for the range that no local interface owns. The node's address is
# 198.18.1.1/32, a second address of falcon0 (kernels without the `dummy` driver exist).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
FALCON_CACHE="${FALCON_CACHE:-$HOME/.cache/falcon-operator}"
CLUSTER="${FALCON_E2E_CLUSTER:-falcon-e2e}"
CLUSTER_DIR="$FALCON_CACHE/kwok/clusters/$CLUSTER"
ADMIN_KUBECONFIG="$CLUSTER_DIR/kubeconfig.yaml"
PY="${PY:-$REPO/.venv/bin/python}"
[[ "$PY" == /* || "$PY" != */* ]] || PY="$REPO/$PY"

NODE_NAME=real-0
NODE_IP=198.18.1.1
BRIDGE=falcon0
POD_SUBNET=198.18.0.0/24
POD_GATEWAY=198.18.0.1
SAFETY_ROUTE=198.18.0.0/15
KUBELET_PORT=10350
KUBELET_HEALTHZ_PORT=10348
KUBELET_STARTED=0  # Unix time this run started the kubelet (0: it was already running)
CNI_BIN=/usr/lib/cni
CNI_NET=falcon-pods

NODE="$FALCON_CACHE/node"
CTRD="$NODE/containerd"
SOCK="$CTRD/containerd.sock"
KUBELET_DIR="$NODE/kubelet"
LOGS="$NODE/logs"
RUN="$NODE/run"
IMAGES="$NODE/images"

log() { echo "[node] $*" >&2; }
die() { echo "[node] error: $*" >&2; exit 1; }
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }
alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }
kubelet_bin() { "$HERE/build-tools.sh" --print | sed -n 's/^kubelet=//p'; }

# -- host checks and packages ------------------------------------------------------------------

install_packages() {
  local missing=() cmd
  for cmd in containerd:containerd runc:runc ctr:containerd iptables:iptables gcc:gcc \
             openssl:openssl ip:iproute2; do
    command -v "${cmd%%:*}" >/dev/null || missing+=("${cmd#*:}")
  done
  # gcc -static needs the static C library
  if command -v gcc >/dev/null && [[ "$(gcc -print-file-name=libc.a)" == libc.a ]]; then
    missing+=(libc6-dev)
  fi
  for cmd in bridge host-local loopback; do
    [[ -x "$CNI_BIN/$cmd" ]] || missing+=(containernetworking-plugins)
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [[ $EUID -eq 0 ]] || die "missing ${missing[*]}; install them as root (apt-get install ${missing[*]})"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  log "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" libc6-dev ||
    die "apt-get install ${missing[*]} failed"
}

preflight() {
  [[ $EUID -eq 0 ]] || die "the real node needs root (containerd, runc, mounts, network); run as root"
  local capeff
  capeff=$((16#$(awk '/^CapEff/ {print $2}' /proc/self/status)))
  (( capeff >> 12 & 1 )) || die "no CAP_NET_ADMIN: cannot create the pod bridge $BRIDGE"
  (( capeff >> 21 & 1 )) || die "no CAP_SYS_ADMIN: cannot mount container root filesystems"
  grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || true
  grep -qw overlay /proc/filesystems ||
    die "no overlayfs in this kernel (/proc/filesystems): containerd's overlayfs snapshotter needs it"
  [[ -d /sys/fs/cgroup/memory || -f /sys/fs/cgroup/cgroup.controllers ]] ||
    die "no memory cgroup under /sys/fs/cgroup: the kubelet cannot run containers"
  [[ -f "$ADMIN_KUBECONFIG" ]] || die "no cluster $CLUSTER ($ADMIN_KUBECONFIG); run cluster.sh up"
  # 198.18.0.0/15 must be ours alone (some VPNs use it): no foreign route or address in it
  local foreign
  foreign="$(ip -4 route show | grep -E '^(blackhole )?198\.1[89]\.' |
    grep -vE "dev $BRIDGE( |\$)|^blackhole $SAFETY_ROUTE" || true)"
  foreign+="$(ip -4 -o addr show | awk -v b="$BRIDGE" '$2 != b && $4 ~ /^198\.1[89]\./' || true)"
  [[ -z "$foreign" ]] || die "198.18.0.0/15 is already used on this host: $foreign"
}

# -- network -------------------------------------------------------------------------------------

network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge || die "cannot create bridge $BRIDGE (CAP_NET_ADMIN?)"
  fi
  ip addr replace "$POD_GATEWAY/${POD_SUBNET#*/}" dev "$BRIDGE"
  ip addr replace "$NODE_IP/32" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ip route replace blackhole "$SAFETY_ROUTE"
}

network_down() {
  ip link del "$BRIDGE" 2>/dev/null || true
  ip route del blackhole "$SAFETY_ROUTE" 2>/dev/null || true
}

write_cni_conf() {
  mkdir -p "$NODE/cni/net.d" "$NODE/cni/ipam"
  # isGateway false: the plugin leaves the bridge's address (set above) and IP forwarding alone;
  # no routes: pods reach only the bridge subnet
  local conf="$NODE/cni/net.d/10-$CNI_NET.conflist"
  cat >"$conf.new" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NET",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": false,
      "isDefaultGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$NODE/cni/ipam",
        "ranges": [[{"subnet": "$POD_SUBNET", "gateway": "$POD_GATEWAY"}]],
        "routes": []
      }
    },
    {"type": "loopback"}
  ]
}
EOF
  # containerd watches the directory: replace the file in one step, and only if it changed
  if cmp -s "$conf.new" "$conf"; then rm -f "$conf.new"; else mv -f "$conf.new" "$conf"; fi
}

# -- containerd ----------------------------------------------------------------------------------

write_containerd_conf() {
  mkdir -p "$CTRD/root" "$CTRD/state" "$CTRD/opt" "$LOGS" "$RUN"
  containerd config default | sed \
    -e "s#^root = .*#root = \"$CTRD/root\"#" \
    -e "s#^state = .*#state = \"$CTRD/state\"#" \
    -e "s#^  address = \"/run/containerd/containerd.sock\"#  address = \"$SOCK\"#" \
    -e "s#bin_dir = .*#bin_dir = \"$CNI_BIN\"#" \
    -e "s#conf_dir = \"/etc/cni/net.d\"#conf_dir = \"$NODE/cni/net.d\"#" \
    -e "s#restrict_oom_score_adj = .*#restrict_oom_score_adj = true#" \
    -e "s#netns_mounts_under_state_dir = .*#netns_mounts_under_state_dir = true#" \
    -e "s#SystemdCgroup = .*#SystemdCgroup = false#" \
    -e "s#Root = \"\"#Root = \"$CTRD/state/runc\"#" \
    -e "s#path = \"/opt/containerd\"#path = \"$CTRD/opt\"#" \
    >"$CTRD/config.toml.new"
  local want
  for want in "root = \"$CTRD/root\"" "address = \"$SOCK\"" "restrict_oom_score_adj = true" \
              "conf_dir = \"$NODE/cni/net.d\"" "Root = \"$CTRD/state/runc\""; do
    grep -qF "$want" "$CTRD/config.toml.new" ||
      die "containerd config default changed shape: could not set '$want' in $CTRD/config.toml"
  done
  mv -f "$CTRD/config.toml.new" "$CTRD/config.toml"
}

sandbox_image() { sed -n 's/^ *sandbox_image = "\(.*\)"/\1/p' "$CTRD/config.toml"; }

containerd_up() {
  if alive containerd && ctr --address "$SOCK" version >/dev/null 2>&1; then
    log "containerd already running (pid $(cat "$RUN/containerd.pid"))"
    return 0
  fi
  write_containerd_conf
  log "starting containerd $(containerd --version | awk '{print $3}') (socket $SOCK)"
  setsid containerd --config "$CTRD/config.toml" >>"$LOGS/containerd.log" 2>&1 </dev/null &
  echo $! >"$RUN/containerd.pid"
  local i
  for ((i = 0; i < 60; i++)); do
    ctr --address "$SOCK" version >/dev/null 2>&1 && return 0
    alive containerd || break
    sleep 0.5
  done
  tail -20 "$LOGS/containerd.log" >&2
  die "containerd did not start; log: $LOGS/containerd.log"
}

# -- images --------------------------------------------------------------------------------------

# static_image NAME SOURCE.c REF [ARG...]: build a one-binary image with gcc -static (cached by
# the source's hash) and import it as REF
static_image() {
  local name="$1" src="$2" ref="$3" key dir
  shift 3
  key="$(cat "$src" | sha256sum | cut -c1-12)"
  dir="$IMAGES/$name-$key"
  if [[ ! -f "$dir/image.tar" ]]; then
    rm -rf "$dir" && mkdir -p "$dir/rootfs"
    gcc -static -Os -o "$dir/rootfs/$name" "$src" || die "gcc -static failed for $src"
    PYTHONPATH="$REPO/e2e${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m falcon_e2e.staticimage \
      --rootfs "$dir/rootfs" --name "$ref" --out "$dir/image.tar" -- "/$name" "$@"
  fi
  import_images "$dir/image.tar" >/dev/null
}

# import_images FILE...: import OCI archives (names must be normalised, docker.io/...); prints
# the image names containerd now has from them
import_images() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || die "no image archive $f"
    ctr_ images import "$f" >/dev/null || die "ctr images import $f failed"
    tar -xOf "$f" index.json | "$PY" -c \
      'import json,sys; [print(m["annotations"]["io.containerd.image.name"]) for m in json.load(sys.stdin)["manifests"]]'
  done
}

# -- kubelet -------------------------------------------------------------------------------------

# a client certificate for system:node:<name> (group system:nodes), signed by the cluster CA
kubelet_credentials() {
  local pki="$KUBELET_DIR/pki" ca="$CLUSTER_DIR/pki"
  mkdir -p "$pki"
  [[ -f "$ca/ca.crt" && -f "$ca/ca.key" ]] || die "no cluster CA in $ca"
  if [[ -f "$pki/node.crt" ]] && openssl verify -CAfile "$ca/ca.crt" "$pki/node.crt" >/dev/null 2>&1; then
    return 0
  fi
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/node.key" 2>/dev/null
  openssl req -new -key "$pki/node.key" -subj "/O=system:nodes/CN=system:node:$NODE_NAME" \
    -out "$pki/node.csr" 2>/dev/null
  openssl x509 -req -in "$pki/node.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
    -days 365 -sha256 -out "$pki/node.crt" 2>/dev/null || die "could not sign the node certificate"
  local server
  server="$(sed -n 's/^ *server: //p' "$ADMIN_KUBECONFIG" | head -1)"
  cat >"$KUBELET_DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER
  cluster: {server: "$server", certificate-authority: "$ca/ca.crt"}
users:
- name: system:node:$NODE_NAME
  user: {client-certificate: "$pki/node.crt", client-key: "$pki/node.key"}
contexts:
- name: $NODE_NAME
  context: {cluster: $CLUSTER, user: "system:node:$NODE_NAME"}
current-context: $NODE_NAME
EOF
}

write_kubelet_conf() {
  # the apiserver calls the kubelet with the cluster's admin certificate (cluster.sh passes
  # --kubelet-client-certificate); the kubelet checks it against the cluster CA and asks the
  # apiserver (SubjectAccessReview) whether the caller may read logs, exec, ...
  cat >"$KUBELET_DIR/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$SOCK
failSwapOn: false
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
resolvConf: ""
serializeImagePulls: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "$CLUSTER_DIR/pki/ca.crt"}
authorization: {mode: Webhook}
EOF
}

kubelet_up() {
  local bin
  bin="$(kubelet_bin)"
  [[ -x "$bin" ]] || die "no kubelet at $bin; run e2e/cluster/build-tools.sh kubelet"
  local ca
  ca="$(sha256sum <"$CLUSTER_DIR/pki/ca.crt" | cut -c1-64)"
  if alive kubelet; then
    if [[ "$(cat "$RUN/kubelet.ca" 2>/dev/null)" == "$ca" ]]; then
      log "kubelet already running (pid $(cat "$RUN/kubelet.pid"))"
      return 0
    fi
    log "the cluster was recreated (new CA): restarting the kubelet"
    stop_pid kubelet
  fi
  kubelet_credentials
  echo "$ca" >"$RUN/kubelet.ca"
  write_kubelet_conf
  mkdir -p "$KUBELET_DIR/root"
  log "starting kubelet $("$bin" --version | awk '{print $2}') as node $NODE_NAME ($NODE_IP:$KUBELET_PORT)"
  KUBELET_STARTED="$(date +%s)"
  setsid "$bin" --config "$KUBELET_DIR/config.yaml" --kubeconfig "$KUBELET_DIR/kubeconfig" \
    --root-dir "$KUBELET_DIR/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" \
    --register-with-taints nvidia.com/gpu=present:NoSchedule,falcon.io/real-node=present:NoSchedule \
    >>"$LOGS/kubelet.log" 2>&1 </dev/null &
  echo $! >"$RUN/kubelet.pid"
}

up() {
  local t0=$SECONDS
  install_packages
  preflight
  mkdir -p "$LOGS" "$RUN" "$IMAGES"
  network_up
  write_cni_conf
  containerd_up
  static_image pause "$HERE/node/pause.c" "$(sandbox_image)"
  static_image falcon-echo "$HERE/node/echo.c" docker.io/falcon/echo:e2e
  kubelet_up
  # labels, GPU capacity (status patch) and Ready, with the admin credentials
  PYTHONPATH="$REPO/e2e${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m falcon_e2e.realnode \
    --kubeconfig "$ADMIN_KUBECONFIG" --node "$NODE_NAME" --since "$KUBELET_STARTED" ||
    { tail -20 "$LOGS/kubelet.log" >&2; die "node $NODE_NAME not ready; log: $LOGS/kubelet.log"; }
  log "node $NODE_NAME up in $((SECONDS - t0)) s; logs: $LOGS"
}

# -- teardown ------------------------------------------------------------------------------------

stop_pid() { # name: SIGTERM, then SIGKILL after 10 s
  local pid i
  [[ -f "$RUN/$1.pid" ]] || return 0
  pid="$(cat "$RUN/$1.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$1.pid"
}

down() {
  stop_pid kubelet
  local ids=()
  if alive containerd; then
    local id
    mapfile -t ids < <(ctr_ containers ls -q 2>/dev/null)
    for id in $(ctr_ tasks ls -q 2>/dev/null); do
      ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 1
    for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks rm -f "$id" >/dev/null 2>&1 || true; done
  fi
  stop_pid containerd
  # shims of our containerd (their command line names our socket) outlive it: end them by pid
  local p
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "-address $SOCK "; then
      kill -9 "${p#/proc/}" 2>/dev/null || true
    fi
  done
  # container rootfs (overlay), shm, netns and kubelet volume mounts, deepest first
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(
    awk -v n="$NODE/" 'index($2, n) == 1 {print $2}' /proc/mounts | sort -r)
  network_down
  rm -rf "$CTRD" "$KUBELET_DIR" "$RUN" "$NODE/cni"
  # libcni's cache of our pods' results (our network and containerd's own cni-loopback)
  rm -f /var/lib/cni/results/"$CNI_NET"-*
  for id in "${ids[@]}"; do rm -f /var/lib/cni/results/cni-loopback-"$id"-*; done
  log "node $NODE_NAME stopped; state removed (logs kept in $LOGS, images in $IMAGES)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) alive containerd && alive kubelet ;;
  import) shift; [[ $# -gt 0 ]] || die "usage: $0 import FILE..."; alive containerd ||
    die "the node's containerd is not running (cluster.sh up)"; import_images "$@" ;;
  ctr) shift; ctr_ "$@" ;;
  *) echo "usage: $0 up|down|status|import FILE...|ctr ARGS..." >&2; exit 2 ;;
esac
