"""One independent random stream per (method, target, seed) of a benchmark.

A strategy's randomness is a function of the integer seed it is built with (search/strategy.py
``derive_rng``, the GPs' ``random_state``). Handing every search the bare seed ``0, 1, …`` would
give two targets (and two methods) the *same* stream, so N targets × S seeds would be only about
S independent draws. Here the strategy's seed is drawn from numpy's
:class:`~numpy.random.SeedSequence` with the run's seed as entropy and a spawn key made of
stable hashes of the method and target names::

    SeedSequence(entropy=seed, spawn_key=(name_key(method), name_key(target)))
        .generate_state(1, uint32)[0]

``name_key`` is the first 4 bytes of the name's SHA-256 (big-endian), so the stream does not
depend on Python's per-process ``hash`` randomisation, on the order of the jobs or on the number
of workers. The result is a 32-bit integer, the range every consumer accepts (scikit-learn's
``random_state``). ``falcon replay --seed STREAM_SEED`` reproduces one run: results.json records
each run's ``stream_seed``.
"""

from __future__ import annotations

import hashlib

import numpy as np


def name_key(name: str) -> int:
    """A stable 32-bit key of ``name``: the first 4 bytes of its SHA-256, big-endian."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big")


def stream_seed(seed: int, method: str, target: str) -> int:
    """The strategy seed of run ``seed`` of ``method`` on ``target`` (see the module docstring)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"a benchmark seed must be an integer >= 0, got {seed!r}")
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(name_key(method), name_key(target)))
    return int(sequence.generate_state(1, dtype=np.uint32)[0])
