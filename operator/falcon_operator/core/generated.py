"""Generated documentation files: write one, or (``--check``) say that the committed one is stale.

Shared by the generators of ``make docs`` (``falcon_operator.crd_reference``,
``falcon_operator.core.failure_doc``), so that each fails the same way while its output is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(out: Path, text: str, *, check: bool, what: str) -> int:
    """Write ``text`` to ``out``; with ``check``, write nothing and return 1 when ``out`` differs
    (a one-line message on stderr names ``what`` is stale and how to regenerate it)."""
    if check:
        current = out.read_text() if out.exists() else ""
        if current != text:
            print(f"{out}: {what} is stale: run make docs", file=sys.stderr)
            return 1
        return 0
    out.write_text(text)
    return 0
