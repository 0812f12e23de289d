"""``falcon --help``: every command described, every option explained, defaults one way, fast.

Fast means: building the parser loads none of the heavy libraries (checked in a fresh
interpreter); the time itself is measured by hand (``time falcon --help``), not here.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from falcon_operator.cli.main import build_parser

HEAVY = ("sklearn", "scipy", "optuna", "kopf", "kubernetes", "matplotlib", "onnx", "onnxruntime")


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the tree with its command path, the top level first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*path, name))


ALL = list(commands(build_parser()))


def test_the_tree_has_every_command() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"kb build", "replay", "bench", "analyze", "search", "calibrate", "operator run"} <= (
        names
    )
    assert {"export", "report"} <= names


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) or "falcon" for p, _ in ALL])
def test_every_command_has_a_description_and_every_option_help(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    assert parser.description and len(parser.description) > 20
    assert "``" not in parser.description
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help, f"{path} {choice.dest}: no summary"
            continue
        assert action.help and action.help.strip(), f"{path} {action.option_strings}: no help"


@pytest.mark.parametrize(("path", "parser"), ALL, ids=[" ".join(p) or "falcon" for p, _ in ALL])
def test_defaults_are_shown_one_way(path: tuple[str, ...], parser: argparse.ArgumentParser) -> None:
    text = parser.format_help()
    flat = " ".join(text.split())
    assert not re.search(r"\(default [^:]", flat), flat  # "(default 12)"
    assert not re.search(r"default: [^)]*\(default", flat)
    for action in parser._actions:
        if not action.option_strings or argparse.SUPPRESS in (action.help, action.default):
            continue
        default = action.default
        shown = isinstance(default, str | int | float | list) and not isinstance(default, bool)
        if shown and default != [] and "(default" not in (action.help or ""):
            assert "(default: " in flat.split(action.option_strings[-1], 1)[1], action.dest


def test_defaults_read_naturally() -> None:
    parsers = {" ".join(p): parser for p, parser in ALL}
    search = " ".join(parsers["search"].format_help().split())
    assert "trial budget (default: 12)" in search
    assert "where to write the manifests (default: falcon-recommendation.yaml)" in search
    bench = " ".join(parsers["bench"].format_help().split())
    assert "trial-count checkpoints (default: 6,15,30)" in bench
    assert "(default: None)" not in bench and "(default: False)" not in bench


def test_building_the_parser_loads_no_heavy_library() -> None:
    code = (
        "import sys; from falcon_operator.cli.main import build_parser; build_parser(); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_the_help_runs_as_a_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "falcon_operator.cli.main", "search", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("usage: falcon search")
    assert max(len(line) for line in out.splitlines()) <= 100
