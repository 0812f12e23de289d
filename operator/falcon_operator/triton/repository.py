"""A Triton model repository on disk from any ONNX model file and a model configuration.

The configuration is either the JSON form (rendered by the trials' own
:func:`~falcon_operator.trials.modelconfig.to_pbtxt`) or config.pbtxt text exactly as the
project writes it (a trial pod's init container, the recommendation's ConfigMap). The layout is
what the trial pods' init containers leave: ``<repository>/<name>/config.pbtxt`` and
``<repository>/<name>/<version>/model.onnx``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from falcon_operator.core.space import Value
from falcon_operator.trials.modelconfig import model_config, to_pbtxt


def write_model(
    repository: Path | str,
    name: str,
    onnx_path: Path | str,
    config: Mapping[str, Any] | str,
    *,
    version: int = 1,
) -> Path:
    """Write model ``name`` (config.pbtxt + the ONNX file); returns its folder."""
    folder = Path(repository) / name
    (folder / str(version)).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx_path, folder / str(version) / "model.onnx")
    text = config if isinstance(config, str) else to_pbtxt(config)
    (folder / "config.pbtxt").write_text(text)
    return folder


def write_trial_model(
    repository: Path | str,
    name: str,
    onnx_path: Path | str,
    config: Mapping[str, Value],
    *,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """The model as a trial in the configuration ``config`` serves it (the one renderer's)."""
    return write_model(repository, name, onnx_path, model_config(name, config, extra=extra))
