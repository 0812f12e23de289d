"""One way to show defaults in every ``falcon`` help text, and sub-command registration with it.

Every option's help ends with ``(default: X)``: written by hand where the default needs words
(``(default: the whole catalog)``), else added by :class:`HelpFormatter` from the option's
default value. Options without a meaningful default (``None``, flags) get none.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

#: argparse has no public name for the object ``add_subparsers`` returns
SubParsers = argparse._SubParsersAction


def default_text(value: Any) -> str:
    """A default value as the help shows it: lists comma-separated, ``100`` for ``100.0``."""
    if isinstance(value, list | tuple):
        return ",".join(default_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions as written; appends ``(default: X)`` to options that have one.

    Help lines break between words only, never inside ``falcon-recommendation.yaml``.
    """

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "(default" in text
            or not action.option_strings
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
            or default == []
        ):
            return text
        return f"{text} (default: {default_text(default).replace('%', '%%')})"


def add_command(
    subparsers: SubParsers[argparse.ArgumentParser], name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """A sub-command with a one-line ``summary`` (in the parent's list) and a ``description``."""
    return subparsers.add_parser(
        name, help=summary, description=description, formatter_class=HelpFormatter
    )
