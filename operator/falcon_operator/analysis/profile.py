"""A model's operator profile from its ONNX graph: FLOPs, bytes, estimated time shares, KOPs.

``analyze(path)`` loads a file; ``profile_model(model)`` takes a ``ModelProto``. Each node's parts
(:mod:`~falcon_operator.analysis.costs`) are timed on a :class:`Roofline`, summed per operator and
normalised to shares of the estimated time. An operator missing from ``known_operators`` (e.g.
``Knowledge.operators``; by default the operator table's own names) is *unseen*: it is reported and
counted as the known operator of its intensity class (:func:`opmap.fallback`), so ``shares()`` and
``kops`` only name operators the knowledge base has curves for (when it has one of that class).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import onnx

from falcon_operator.analysis import opmap
from falcon_operator.analysis.costs import NodeCost, node_cost
from falcon_operator.analysis.errors import ModelError, one_line
from falcon_operator.analysis.loader import load_model, prepare_model
from falcon_operator.analysis.parts import Part
from falcon_operator.analysis.result import ModelProfile, OperatorRow
from falcon_operator.analysis.roofline import Roofline
from falcon_operator.analysis.shapes import TensorTable
from falcon_operator.knowledge.kops import select_kops


def analyze(
    path: Path | str,
    *,
    batch_size: int = 1,
    kop_threshold: float = 0.8,
    known_operators: Collection[str] | None = None,
    roofline: Roofline | None = None,
) -> ModelProfile:
    """Profile the ONNX file at ``path`` (see :func:`profile_model`); named after the file."""
    model = load_model(path)
    return _profile(model, Path(path).stem, batch_size, kop_threshold, known_operators, roofline)


def profile_model(
    model: onnx.ModelProto,
    *,
    name: str | None = None,
    batch_size: int = 1,
    kop_threshold: float = 0.8,
    known_operators: Collection[str] | None = None,
    roofline: Roofline | None = None,
) -> ModelProfile:
    """Operator profile of ``model`` at ``batch_size`` (substituted for a symbolic batch dim).

    KOPs are chosen by :func:`~falcon_operator.knowledge.kops.select_kops` at ``kop_threshold``.
    :class:`ModelError` for an unusable model or a batch size below 1.
    """
    prepared = prepare_model(model, source=name or model.graph.name or "model")
    label = name or model.graph.name or "model"
    return _profile(prepared, label, batch_size, kop_threshold, known_operators, roofline)


def _cost(node: onnx.NodeProto, tensors: TensorTable) -> NodeCost:
    """The node's cost; a node whose attributes or shapes defeat the formulas costs nothing."""
    try:
        return node_cost(node, tensors)
    except (ValueError, IndexError, TypeError, KeyError, ZeroDivisionError) as exc:
        note = f"not costed ({one_line(exc)})"
        part = Part(node.op_type, "elementwise", 0.0, 0.0)
        return NodeCost(node.name, node.op_type, (part,), False, (note,))


@dataclass
class _Acc:
    kind: opmap.Kind
    flops: float = 0.0
    nbytes: float = 0.0
    time: float = 0.0
    nodes: set[int] = field(default_factory=set)
    ops: set[str] = field(default_factory=set)


def _profile(
    model: onnx.ModelProto,
    name: str,
    batch_size: int,
    kop_threshold: float,
    known_operators: Collection[str] | None,
    roofline: Roofline | None,
) -> ModelProfile:
    if batch_size < 1:
        raise ModelError(f"batch size must be >= 1, got {batch_size}")
    gpu = roofline or Roofline()
    tensors = TensorTable(model.graph, batch_size=batch_size)
    nodes = [_cost(n, tensors) for n in model.graph.node]
    acc: dict[str, _Acc] = {}
    for i, node in enumerate(nodes):
        for part in node.parts:
            a = acc.setdefault(part.operator, _Acc(part.kind))
            a.flops += part.flops
            a.nbytes += part.bytes
            a.time += gpu.time(part.flops, part.bytes, launches=part.launches)
            a.nodes.add(i)
            a.ops.add(node.onnx_op)
    total = sum(a.time for a in acc.values())
    if total <= 0:
        raise ModelError(f"{name}: no node of the model does any estimated work")
    known = set(known_operators) if known_operators is not None else opmap.table_vocabulary()
    mapped: dict[str, str | None] = {
        op: opmap.fallback(a.kind, known)
        for op, a in acc.items()
        if op not in known and a.kind != "view"
    }
    shares: dict[str, float] = {}
    for op, a in acc.items():
        effective = mapped.get(op) or op
        if a.time > 0:
            shares[effective] = shares.get(effective, 0.0) + a.time / total
    kops = select_kops(shares, kop_threshold=kop_threshold)
    rows = [
        OperatorRow(
            operator=op,
            count=len(a.nodes),
            flops=a.flops,
            bytes=a.nbytes,
            est_time=a.time,
            share=a.time / total,
            is_kop=a.time > 0 and (mapped.get(op) or op) in kops,
            onnx_ops=tuple(sorted(a.ops)),
            unseen=op in mapped,
            mapped_to=mapped.get(op),
        )
        for op, a in sorted(acc.items(), key=lambda kv: (-kv[1].time, kv[0]))
    ]
    return ModelProfile(
        model=name,
        batch_size=batch_size,
        dynamic_batch=tensors.dynamic_batch,
        rows=tuple(rows),
        kops=tuple(kops),
        unseen=mapped,
        warnings=_warnings(nodes, mapped, tensors.dynamic_batch, batch_size),
        nodes=tuple(nodes),
        roofline=gpu,
    )


def _warnings(
    nodes: list[NodeCost], mapped: dict[str, str | None], dynamic: bool, batch_size: int
) -> tuple[str, ...]:
    out: list[str] = []
    if not dynamic and batch_size != 1:
        out.append(f"the model's batch dimension is fixed: batch size {batch_size} is ignored")
    unknown = [n.name or n.onnx_op for n in nodes if not n.shapes_known]
    if unknown:
        more = f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else ""
        out.append(
            f"{len(unknown)} node(s) with unknown shapes (counted as 0 bytes) or not costed: "
            f"{', '.join(unknown[:5])}{more}"
        )
    out += [
        f"unseen operator {op!r}: no known operator of its class"
        for op, to in mapped.items()
        if to is None
    ]
    return tuple(out)
