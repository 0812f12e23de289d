"""falcon-trial: the trial runner (load generator) that runs next to Triton in a trial pod.

It waits for the server, builds random inputs from the model's metadata, drives closed-loop load
(a fixed concurrency, or a sweep that stops at the knee) with ``tritonclient``, measures in
windows until stable and leaves a JSON report on stdout and in the Kubernetes termination
message. It depends on the standard library, numpy and tritonclient only (never on
falcon_operator): it ships in its own small image. See docs/trial-runner.md.
"""

__version__ = "0.1.0"
