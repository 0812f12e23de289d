"""Falcon operator: find a near-optimal serving configuration for an unseen model in a few trials.

Layers (only ``handlers`` will import kopf; the search engine imports neither kopf nor kubernetes):

- :mod:`falcon_operator.search` — configuration space, trial records, strategies (MCTS-BO and
  baselines), surrogate, acquisition.
- :mod:`falcon_operator.knowledge` — the offline knowledge base (KOPs, KOP-RCs, PCA pruning,
  source tables) and the region tree built from it.
- :mod:`falcon_operator.backends` — things that answer "run this configuration" (table oracle).
- :mod:`falcon_operator.bench` — the benchmark harness and its reports.
- :mod:`falcon_operator.cli` — the ``falcon`` command.
"""

__version__ = "0.1.0"
