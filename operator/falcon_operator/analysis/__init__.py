"""Unseen models from their ONNX file: FLOPs, bytes and estimated operator shares per operator.

``analyze(path)`` / ``profile_model(model)`` turn an ONNX graph into a :class:`ModelProfile`:
per-node FLOPs and bytes moved, mapped to the knowledge base's operator vocabulary (TVM Relay
names), timed on a reference-GPU roofline, and normalised to operator shares from which the
key operators are chosen. Operators the knowledge base has never seen are mapped to a known
operator of the same intensity class and reported.
"""

from falcon_operator.analysis.errors import ModelError
from falcon_operator.analysis.loader import load_model
from falcon_operator.analysis.profile import analyze, profile_model
from falcon_operator.analysis.result import ModelProfile, OperatorRow
from falcon_operator.analysis.roofline import Roofline

__all__ = [
    "ModelError",
    "ModelProfile",
    "OperatorRow",
    "Roofline",
    "analyze",
    "load_model",
    "profile_model",
]
