"""falcon-trial: the trial runner (load generator) that runs next to Triton in a trial pod.

Placeholder package for now: the runner arrives with the trial-runner issue.
"""

__version__ = "0.1.0"
