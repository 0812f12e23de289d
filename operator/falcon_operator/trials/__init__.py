"""Trials: a configuration → its pod, its load and measurement, and its record.

- :mod:`~falcon_operator.trials.naming` — deterministic names, labels, selectors.
- :mod:`~falcon_operator.trials.manifest` — the trial pod (Triton + trial runner).
- :mod:`~falcon_operator.trials.container` — the one Triton container (trial pod and Deployment).
- :mod:`~falcon_operator.trials.source` — init containers that fetch the model.
- :mod:`~falcon_operator.trials.modelconfig` — the one Triton model-config renderer (JSON, pbtxt).
- :mod:`~falcon_operator.trials.readback` — a pod read back (:class:`PodView`).
- :mod:`~falcon_operator.trials.load` — a reused pod's load: the trial runner as a subprocess.
- :mod:`~falcon_operator.trials.outcome` — report + Triton metrics → the trial's record.
- :mod:`~falcon_operator.trials.history` — the history ConfigMap's records.
- :mod:`~falcon_operator.trials.simulated` — the simulated fleet's measurement (KWOK clusters).
- :mod:`~falcon_operator.trials.reload` — Triton's repository API (pod reuse).
"""
