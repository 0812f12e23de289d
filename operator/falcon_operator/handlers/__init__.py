"""The kopf layer: the only code that imports kopf.

- :mod:`~falcon_operator.handlers.search` — the per-search daemon (and its error mapping).
- :mod:`~falcon_operator.handlers.app` — kopf settings, login, leader election, metrics
  server: :func:`run_operator`.

``python -m falcon_operator.handlers`` is ``falcon operator run``.
"""
