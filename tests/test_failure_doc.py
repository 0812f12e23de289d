"""docs/troubleshooting.md's failure kinds are generated from the one policy table and current.

``make docs`` (``python -m falcon_operator.core.failure_doc``) rewrites the table; these tests
fail (so CI catches drift) while the committed table differs from :data:`records.POLICY`, or the
hand-written advice for failed trials leaves out a failed kind or names one that is gone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from falcon_operator.core import failure_doc
from falcon_operator.core.errors import DataError
from falcon_operator.core.records import FailureKind, Outcome

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "troubleshooting.md"


def test_the_failure_kind_table_is_current() -> None:
    assert failure_doc.OUTPUT_PATH == DOC
    text = DOC.read_text()
    assert failure_doc.update(text) == text, "stale: run make docs"
    assert failure_doc.main(["--check"]) == 0


def test_the_table_states_each_kinds_policy() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| `(\w+)` \| (yes|no) \| (.+) \|$", failure_doc.render(),
                      re.MULTILINE)  # fmt: skip
    assert [r[0] for r in rows] == [k.value for k in FailureKind]
    for value, outcome, counts, when in rows:
        kind = FailureKind(value)
        assert outcome == kind.outcome.value and when == kind.description
        assert (counts == "yes") is kind.counts_against_budget


def test_a_stale_table_is_caught_and_rewritten(tmp_path: Path) -> None:
    doc = tmp_path / "troubleshooting.md"
    stale = DOC.read_text().replace("| `oom` | `infeasible` | no |", "| `oom` | `failed` | yes |")
    assert stale != DOC.read_text()
    doc.write_text(stale)
    assert failure_doc.main(["--check", "--out", str(doc)]) == 1
    assert failure_doc.main(["--out", str(doc)]) == 0
    assert doc.read_text() == DOC.read_text()
    with pytest.raises(DataError, match="markers"):
        failure_doc.update("# no table here\n")


def test_the_advice_on_failed_trials_covers_every_failed_kind() -> None:
    text = DOC.read_text()
    section = text[text.index("## Failed trials and TooManyFailedTrials") :]
    section = section[: section.index("\n## ", 1)]
    advice = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.MULTILINE))
    assert advice == {k.value for k in FailureKind if k.outcome is Outcome.FAILED}
