"""handlers/memory.py: the malloc-arena cap is applied through glibc's mallopt, in a fresh
process (it is process-wide), and left alone where the environment sets it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import sys
from falcon_operator.handlers.memory import limit_malloc_arenas
arg = sys.argv[1]
print(limit_malloc_arenas(None if arg == "none" else int(arg)))
"""


def _run(arg: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, arg], capture_output=True, text=True, env=clean | env,
        check=True,
    )  # fmt: skip
    return proc.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_cap_is_set_through_mallopt() -> None:
    assert _run("2") == "True"


def test_none_leaves_glibcs_default() -> None:
    assert _run("none") == "False"


def test_the_environment_wins() -> None:
    assert _run("2", MALLOC_ARENA_MAX="4") == "False"


def test_the_operator_caps_at_two_by_default() -> None:
    from falcon_operator.settings import OperatorSettings

    assert OperatorSettings().malloc_arenas == 2
