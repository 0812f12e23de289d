#!/usr/bin/env bash
# Build the test world's container images as OCI archives under $FALCON_CACHE/images/
# (docs/images.md). Needs root (mmdebstrap, overlay mounts, chroot). Arguments go to
# `python -m images.build`: --only operator,runner,triton,busybox and --list.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
py="${PY:-$repo/.venv/bin/python}"
if [ "$(id -u)" != 0 ]; then
    echo "error: building images needs root (mmdebstrap --mode=root, overlay mounts, chroot)" >&2
    exit 2
fi
PYTHONPATH="$repo/e2e${PYTHONPATH:+:$PYTHONPATH}" exec "$py" -m images.build "$@"
