"""Live search on this host: real Triton per trial, measured by ``falcon-trial`` (docs/live.md).

- :mod:`.space`: the live space (instance count, batch size, queue delay, onnxruntime threads,
  pinned CPU cores, client concurrency), declared with the knob registry;
- :mod:`.judge`: a trial's record from the runner's report and Triton's metrics, scored as
  throughput per core under the p99 SLO;
- :mod:`.trial`: one trial end to end (:class:`~.trial.LiveBackend`);
- :mod:`.profiling`: the source models profiled live into a knowledge base (``falcon kb build
  --live``), cached under ``$FALCON_CACHE``.
"""
