"""The controller: one InferenceConfigSearch from its spec to its recommendation, async.

``search`` runs prepare → loop → finish; ``prepare`` parses and resolves the spec and builds the
knowledge; ``engine`` the strategy; ``loop`` and ``plan`` (pure) decide every poll; ``trial``,
``measure`` and ``active`` run trial pods; ``store`` and ``status`` record them; ``finish`` and
``output`` write the recommendation; ``lease`` elects the leader; ``kube`` is the one Kubernetes
client module. No kopf here (``handlers`` maps its errors to kopf).
"""
