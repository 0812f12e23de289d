"""Falcon operator: find a near-optimal serving configuration for an unseen model in a few trials.

The packages are layered, top first: ``cli`` → ``handlers`` (the only importer of kopf) →
``settings`` → ``reconcile`` → ``recommend``/``report`` → ``trials`` → ``spec`` → ``fleet``,
``search``, ``metrics``, ``backends``, ``telemetry`` → ``analysis`` → ``knowledge`` → ``core``
(the domain core). import-linter's contracts in ``pyproject.toml`` enforce them (``make lint``);
docs/architecture.md explains each package's place.
"""

__version__ = "0.1.0"
