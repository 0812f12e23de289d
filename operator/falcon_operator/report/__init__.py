"""A search explained: the why of its winner, its messages, and its HTML report with plots.

Pure code over a search's trial history and its engine's knowledge (no Kubernetes, no kopf): the
CLI layer fetches the data (``falcon report``, ``falcon search --report``), the operator writes
the why line into the status. Modules: messages, why (the search's estimate for what it did not
try), data, plots and page (the report); numbers are printed with ``core.numbers``.
"""
