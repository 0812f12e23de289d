"""Argument types shared by the ``falcon`` sub-commands (argparse ``type=`` callables)."""

from __future__ import annotations

import argparse


def fraction(text: str) -> float:
    """A number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def positive(text: str) -> int:
    """A positive integer."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text)


def positive_float(text: str) -> float:
    """A positive number."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def csv(text: str) -> list[str]:
    """Comma-separated names."""
    return [x.strip() for x in text.split(",") if x.strip()]


def csv_counts(text: str) -> tuple[int, ...]:
    """Comma-separated non-negative integers (``0,500,2000``)."""
    parts = [x.strip() for x in text.split(",") if x.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 0, got {text!r}")
    return tuple(int(p) for p in parts)
