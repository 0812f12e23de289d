#!/usr/bin/env bash
# Install NVIDIA Triton Model Analyzer (the reference configuration search) into its own
# virtual environment, $FALCON_CACHE/model-analyzer/$MA_VERSION/venv, for the live head-to-head
# (docs/live.md). Idempotent: a warm cache returns at once. Nothing goes into .venv or
# pyproject.toml (MA pins its own numpy, optuna and tritonclient). Made with python3.11 (MA 1.58
# supports 3.8 to 3.12; the Triton stub is 3.11 too). Prints the path of `model-analyzer`.
# perf_analyzer is not bundled: `make perf-analyzer` installs the one MA is pointed at.
set -euo pipefail

MA_VERSION="${MA_VERSION:-1.58.0}"
CACHE="${FALCON_CACHE:-$HOME/.cache/falcon-operator}"
DEST="$CACHE/model-analyzer/$MA_VERSION"
VENV="$DEST/venv"
BIN="$VENV/bin/model-analyzer"
MARKER="$DEST/installed"
PYTHON="${MA_PYTHON:-python3.11}"

if [[ -x "$BIN" && "$(cat "$MARKER" 2>/dev/null)" == "triton-model-analyzer==$MA_VERSION" ]]; then
  echo "$BIN"
  exit 0
fi

command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON is not on PATH (Model Analyzer's venv needs it)" >&2; exit 1; }
echo "model-analyzer: installing triton-model-analyzer==$MA_VERSION into $VENV" >&2
rm -rf "$DEST"
mkdir -p "$DEST"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip >&2
"$VENV/bin/python" -m pip install -q "triton-model-analyzer==$MA_VERSION" >&2
"$BIN" --help >/dev/null 2>"$DEST/err" || {
  echo "error: model-analyzer does not start: $(tail -1 "$DEST/err")" >&2
  exit 1
}
rm -f "$DEST/err"
echo "triton-model-analyzer==$MA_VERSION" > "$MARKER"
echo "$BIN"
