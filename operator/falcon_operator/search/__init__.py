"""The search engine: strategies (Falcon's MCTS-BO and the baselines), surrogate, acquisition.

Spaces and trial records are the core's (``core.space``, ``core.records``); the knowledge base
is ``knowledge``. No kopf, no kubernetes imports here.
"""
