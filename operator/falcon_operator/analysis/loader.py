"""Loading an ONNX model for analysis: parse, validate, infer shapes.

Every way a file can be unusable ends as a one-line :class:`ModelError`, never a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path

import onnx
import onnx.checker
import onnx.defs
import onnx.shape_inference

from falcon_operator.analysis.errors import ModelError, one_line

#: what protobuf raises for bytes that are not a ModelProto (imported untyped: no stubs needed)
DecodeError: type[Exception] = importlib.import_module("google.protobuf.message").DecodeError

#: oldest default-domain opset the analysis accepts (shape inference is unreliable before it)
MIN_OPSET = 7
#: most elements one request may put in (or get from) one declared input or output: 2^31
#: (8 GiB of float32). Beyond it no serving configuration is sane, and sizes computed from it
#: overflow downstream; the batch dimension counts as 1.
MAX_ELEMENTS = 2**31


def _declared_elements(value: onnx.ValueInfoProto) -> tuple[int, list[str]]:
    """(elements per request, the shape as written) of a declared graph input or output; a
    symbolic or unknown dimension (the batch) counts as 1."""
    dims = value.type.tensor_type.shape.dim if value.type.HasField("tensor_type") else []
    total, shape = 1, []
    for dim in dims:
        if dim.HasField("dim_value"):
            total *= max(int(dim.dim_value), 1)
            shape.append(str(dim.dim_value))
        else:
            shape.append(dim.dim_param or "?")
    return total, shape


def _refuse_oversized(
    tensors: Iterable[tuple[str, onnx.ValueInfoProto]], *, verb: str, source: str
) -> None:
    """ModelError naming the first (kind, tensor) of more than :data:`MAX_ELEMENTS` elements
    per request ("input 'x' declares ...", "intermediate tensor 'y' has ...")."""
    for kind, value in tensors:
        total, shape = _declared_elements(value)
        if total > MAX_ELEMENTS:
            raise ModelError(
                f"{source}: {kind} {value.name!r} {verb} {total:,} elements per request "
                f"(shape [{', '.join(shape)}]), over the limit of {MAX_ELEMENTS:,} (2^31)"
            )


def check_tensor_sizes(model: onnx.ModelProto, *, source: str = "model") -> None:
    """Refuse a declared input or output of more than :data:`MAX_ELEMENTS` elements per
    request, naming it (a hostile or broken model, not one a configuration can serve)."""
    weights = {t.name for t in model.graph.initializer}
    declared = [("input", i) for i in model.graph.input if i.name not in weights]
    declared += [("output", o) for o in model.graph.output]
    _refuse_oversized(declared, verb="declares", source=source)


def default_opset(model: onnx.ModelProto) -> int | None:
    """The model's ``ai.onnx`` opset version, or None when it imports none."""
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return None


def validate_model(model: onnx.ModelProto, *, source: str = "model") -> None:
    """Refuse a model the analysis cannot handle; :class:`ModelError` says why, in one line."""
    if model.ir_version <= 0 and not model.graph.node:
        raise ModelError(f"{source}: not an ONNX model (no IR version and no graph)")
    if not model.graph.node:
        raise ModelError(f"{source}: the ONNX graph has no nodes")
    opset = default_opset(model)
    max_opset = onnx.defs.onnx_opset_version()
    if opset is None:
        raise ModelError(f"{source}: the model imports no ai.onnx opset")
    if not MIN_OPSET <= opset <= max_opset:
        raise ModelError(
            f"{source}: unsupported opset {opset} (this analysis supports {MIN_OPSET}..{max_opset}"
            f", onnx {onnx.__version__})"
        )
    weights = {t.name for t in model.graph.initializer}
    if not [i for i in model.graph.input if i.name not in weights]:
        raise ModelError(f"{source}: the ONNX graph has no inputs")
    check_tensor_sizes(model, source=source)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        raise ModelError(f"{source}: invalid ONNX model: {one_line(exc)}") from exc


def prepare_model(model: onnx.ModelProto, *, source: str = "model") -> onnx.ModelProto:
    """Validate ``model`` and return a copy with inferred shapes (strict mode off)."""
    validate_model(model, source=source)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False)
    except (onnx.shape_inference.InferenceError, ValueError, RuntimeError) as exc:
        raise ModelError(f"{source}: shape inference failed: {one_line(exc)}") from exc
    # what the declared sizes imply inside the graph
    inside = [("intermediate tensor", v) for v in inferred.graph.value_info]
    _refuse_oversized(inside, verb="has", source=source)
    return inferred


def load_model(path: Path | str) -> onnx.ModelProto:
    """Read an ONNX file, check it, and infer the shapes of its intermediate tensors.

    A dynamic batch dimension (symbolic, or 0/-1/absent in the first dimension of an input) is
    normal. :class:`ModelError` for a missing or empty file, bytes that are not an ONNX protobuf,
    a graph without nodes or inputs, an opset outside ``MIN_OPSET`` .. the installed onnx's
    newest, a model the ONNX checker rejects, or failing shape inference.
    """
    p = Path(path)
    if p.is_dir():
        raise ModelError(f"{p}: is a directory, not an ONNX model file")
    if not p.is_file():
        raise ModelError(f"{p}: no such model file")
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: empty file, not an ONNX model")
    try:
        model = onnx.load(str(p))
    except DecodeError as exc:
        raise ModelError(f"{p}: not an ONNX model (corrupt protobuf: {one_line(exc)})") from exc
    except (OSError, ValueError, RuntimeError, onnx.checker.ValidationError) as exc:
        raise ModelError(f"{p}: cannot read ONNX model: {one_line(exc)}") from exc
    return prepare_model(model, source=str(p))
