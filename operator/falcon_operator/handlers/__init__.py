"""The kopf layer: the only code that imports kopf.

- :mod:`~falcon_operator.handlers.search` — the per-search daemon (and its error mapping).
- :mod:`~falcon_operator.handlers.app` — kopf settings, login, leader election, metrics
  server: :func:`run_operator`.

The command line that starts it is ``falcon operator run`` (:mod:`falcon_operator.cli.operator`,
also ``python -m falcon_operator.cli.operator``): handlers import nothing of the CLI.
"""
