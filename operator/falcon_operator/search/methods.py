"""The names of the search strategies, importable without the strategies (for parsers and --help).

:mod:`falcon_operator.search.registry` builds them; this module imports nothing heavy, so the
spec parser and the ``falcon`` command line can check a name without loading scikit-learn.
"""

from __future__ import annotations

METHODS = (
    "falcon",
    "random",
    "gp-bo",
    "transfer-prior",
    "morphling",
    "optuna-tpe",
    "optuna-random",
    "triton-quick",
    "gp-ei",
    "source-rank",
    "vesta",
    "ernest",
    "heterbo",
)
