#!/usr/bin/env bash
# Install NVIDIA's perf_analyzer (the reference load generator) into
# $FALCON_CACHE/perf_analyzer/$PA_VERSION/, for `make bench-runner`. Idempotent: a warm cache
# returns at once. Nothing goes into .venv (it pins tritonclient 2.73, whose wheel has no
# perf_analyzer). Prints the path of the launcher script `perf_analyzer` on success.
#   - bin/perf_analyzer: from the tritonclient==$PA_VERSION manylinux wheel (the last wheels that
#     ship it; PyPI's perf-analyzer package is a placeholder);
#   - lib/libcudart.so.12: from PyPI's nvidia-cuda-runtime-cu12 (perf_analyzer links it even
#     when no GPU is used);
#   - Debian's libb64-0d (apt-get install when missing).
set -euo pipefail

PA_VERSION="${PA_VERSION:-2.41.0}"
CUDART_VERSION="${CUDART_VERSION:-12.3.101}"
CACHE="${FALCON_CACHE:-$HOME/.cache/falcon-operator}"
DEST="$CACHE/perf_analyzer/$PA_VERSION"
PIP="${PIP:-${PY:-.venv/bin/python} -m pip}"
LAUNCHER="$DEST/perf_analyzer"

if [[ -x "$LAUNCHER" && -x "$DEST/bin/perf_analyzer" && -e "$DEST/lib/libcudart.so.12" ]] \
    && ldconfig -p | grep -q 'libb64\.so\.0d'; then
  echo "$LAUNCHER"
  exit 0
fi

if ! ldconfig -p | grep -q 'libb64\.so\.0d'; then
  echo "perf-analyzer: installing Debian's libb64-0d" >&2
  command -v apt-get >/dev/null || { echo "error: libb64-0d is missing and apt-get is not available" >&2; exit 1; }
  apt-get install -y -q libb64-0d >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q libb64-0d >/dev/null; } \
    || { echo "error: apt-get install libb64-0d failed" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "perf-analyzer: downloading tritonclient==$PA_VERSION and nvidia-cuda-runtime-cu12==$CUDART_VERSION" >&2
# shellcheck disable=SC2086
$PIP download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
  --python-version 3.11 -d "$work" "tritonclient==$PA_VERSION" \
  "nvidia-cuda-runtime-cu12==$CUDART_VERSION" >&2

mkdir -p "$work/out/bin" "$work/out/lib"
unzip -q -j -o "$work"/tritonclient-"$PA_VERSION"-*.whl \
  "tritonclient-$PA_VERSION.data/data/bin/perf_analyzer" \
  "tritonclient-$PA_VERSION.data/data/LICENSE.txt" -d "$work/out/bin"
unzip -q -j -o "$work"/nvidia_cuda_runtime_cu12-*.whl 'nvidia/cuda_runtime/lib/libcudart.so.12' \
  -d "$work/out/lib"
mv "$work/out/bin/LICENSE.txt" "$work/out/LICENSE.txt"
chmod 0755 "$work/out/bin/perf_analyzer"
cat > "$work/out/perf_analyzer" <<'LAUNCH'
#!/usr/bin/env bash
# perf_analyzer with its bundled libcudart on the library path.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$here/bin/perf_analyzer" "$@"
LAUNCH
chmod 0755 "$work/out/perf_analyzer"
"$work/out/perf_analyzer" --version >/dev/null 2>"$work/err" || {
  echo "error: perf_analyzer does not start: $(head -1 "$work/err")" >&2
  exit 1
}
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$work/out" "$DEST"
echo "$LAUNCHER"
