"""Key operators (KOPs): the few operators that take most of a model's running time.

``read_operator_shares`` reads a model's ``operators.csv`` (``op_name,running time percentage``)
into canonical operator names and fractions of running time; ``select_kops`` picks the smallest
prefix of operators, by decreasing share, whose cumulative share reaches a threshold.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

from falcon_operator.core.errors import DataError, KnowledgeError
from falcon_operator.knowledge.curves import canonical_operator

_CUMULATIVE_TOL = 1e-9


class KopSelectionError(KnowledgeError, ValueError):
    """KOP selection was asked for something impossible (bad threshold, no operators)."""


def read_operator_shares(path: Path | str) -> dict[str, float]:
    """Operator -> fraction of running time (summing to 1) from an ``operators.csv`` file.

    A first row whose second cell is not a number is a header. Names are canonicalised
    (``nn.dense`` -> ``dense``), cells are stripped, and the shares are normalised by their total.
    :class:`DataError` for a missing or empty file, a malformed row, a negative, non-finite or
    repeated entry, or an all-zero total.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such operator-share file")
    try:
        rows = list(csv.reader(p.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot read operator-share file ({exc})") from exc
    shares: dict[str, float] = {}
    for n, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) < 2 or not cells[0]:
            raise DataError(f"{p}:{n}: need 'operator,percentage', got {row}")
        try:
            share = float(cells[1])
        except ValueError as exc:
            if n == 1:
                continue  # header
            raise DataError(f"{p}:{n}: share {cells[1]!r} is not a number") from exc
        if not math.isfinite(share) or share < 0:
            raise DataError(f"{p}:{n}: share must be finite and >= 0, got {cells[1]!r}")
        op = canonical_operator(cells[0])
        if op in shares:
            raise DataError(f"{p}:{n}: operator {op!r} is listed twice")
        shares[op] = share
    total = sum(shares.values())
    if not shares or total <= 0:
        raise DataError(f"{p}: no operator with a positive share")
    return {op: s / total for op, s in shares.items()}


def select_kops(
    shares: Mapping[str, float], *, kop_threshold: float = 0.8, max_kops: int | None = None
) -> list[str]:
    """The key operators: the shortest prefix by share that covers ``kop_threshold`` of the time.

    Operators are sorted by share, descending (ties by name, ascending), and taken one by one
    until their cumulative share (shares are normalised by their total first, so percentages work
    too) reaches ``kop_threshold`` (a fraction in (0, 1], compared with a 1e-9 tolerance). At least
    one operator is always returned; ``max_kops`` caps the count. With ``kop_threshold=1``
    operators with a zero share are not taken.

    Raises :class:`KopSelectionError` (a ``KnowledgeError`` and a ``ValueError``) for a threshold
    outside (0, 1], ``max_kops < 1``, no operators, or negative / non-finite / all-zero shares.
    """
    if not 0.0 < kop_threshold <= 1.0:
        raise KopSelectionError(f"kop_threshold must be in (0, 1], got {kop_threshold}")
    if max_kops is not None and max_kops < 1:
        raise KopSelectionError(f"max_kops must be >= 1, got {max_kops}")
    if not shares:
        raise KopSelectionError("no operators to select KOPs from")
    if any(not math.isfinite(s) or s < 0 for s in shares.values()):
        raise KopSelectionError(f"shares must be finite and >= 0: {dict(shares)}")
    total = sum(shares.values())
    if total <= 0:
        raise KopSelectionError("all operator shares are zero")
    ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
    limit = len(ranked) if max_kops is None else min(max_kops, len(ranked))
    kops: list[str] = []
    covered = 0.0
    for op, share in ranked[:limit]:
        kops.append(op)
        covered += share / total
        if covered >= kop_threshold - _CUMULATIVE_TOL:
            break
    return kops
