"""Source of the Python-based Triton backend ``onnxruntime`` (``model.py``), copied into the
server root's ``backends/onnxruntime/`` by :mod:`falcon_operator.triton.install`."""
