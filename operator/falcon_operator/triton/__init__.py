"""Real Triton Inference Server on this machine, with the simulated GPU as its ONNX backend.

- :mod:`~falcon_operator.triton.install` — lay out a self-contained *server root* (Triton 2.51.0
  from the ``nvidia-pytriton`` wheel) under ``$FALCON_CACHE/triton/2.51.0/server``.
- :mod:`~falcon_operator.triton.server` — start ``tritonserver`` on loopback, wait for it, stop
  it, read its log; repository API calls (load, unload, config).
- :mod:`~falcon_operator.triton.repository` — a model repository from an ONNX file and a model
  config (the trials' own ``model_config``/``to_pbtxt``, or any config.pbtxt text).
- :mod:`~falcon_operator.triton.simgpu` — the simulated GPU: the fleet model's per-batch time,
  memory limits and one GPU shared by every model instance of a server.
- :mod:`~falcon_operator.triton.onnxio` — an ONNX graph's inputs/outputs as Triton config entries.
- ``backend/model.py`` — the Python-based backend ``onnxruntime`` (copied into the server root):
  serves every ``platform: "onnxruntime_onnx"`` model with onnxruntime on CPU, holding each batch
  for the simulated GPU's time.

Nothing here imports kopf or kubernetes. See docs/triton.md.
"""
