"""The domain core: the concepts every other layer shares, each defined once.

Errors (``core.errors``), configuration spaces (``core.space``), the knob registry and the one
space builder (``core.knobs``: each knob's CRD field, domain and rendering), trial records with
their failure kinds and one failure policy (``core.records``), the GPU and price catalog
(``core.catalog``), price tables with a search's overrides (``core.prices``), the objective
that prices and scores configurations for the judge, the fleet, the knowledge and the priors
(``core.objective``), and the one number format of everything a user reads (``core.numbers``).
The core imports nothing else of ``falcon_operator``; every other layer may import it
(import-linter contracts in ``pyproject.toml`` enforce both).
"""
