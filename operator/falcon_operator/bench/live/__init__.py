"""Live head-to-heads on real Triton on this host (docs/live.md).

``analyzer`` runs NVIDIA Triton Model Analyzer's quick and brute searches against a real CPU
Triton and reads back every measurement it made, in order, for the comparison with
``falcon search --live``.
"""
