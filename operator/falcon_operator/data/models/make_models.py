"""Regenerate the demo ONNX models shipped next to this script.

    .venv/bin/python operator/falcon_operator/data/models/make_models.py

The builders live in :mod:`falcon_operator.analysis.zoo` (deterministic weights from a numpy
seed), so tests analyse exactly what ships. Each file is kept under 1 MB.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import onnx
import onnx.checker

from falcon_operator.analysis.zoo import resnet_cnn
from falcon_operator.fleet.models import vgg_cnn

HERE = Path(__file__).resolve().parent
MAX_BYTES = 1 << 20
#: resnet-mini: the test suite's CNN; vgg-plain: a held-out architecture (not among the fleet's
#: source models), the one ``make demo`` searches for
MODELS: dict[str, Callable[[], onnx.ModelProto]] = {
    "resnet-mini.onnx": resnet_cnn,
    "vgg-plain.onnx": vgg_cnn,
}


def main() -> int:
    for name, build in MODELS.items():
        model = build()
        onnx.checker.check_model(model)
        data = model.SerializeToString(deterministic=True)
        if len(data) >= MAX_BYTES:
            print(f"{name}: {len(data)} bytes is over the 1 MB limit", file=sys.stderr)
            return 1
        (HERE / name).write_bytes(data)
        print(f"wrote {HERE / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
