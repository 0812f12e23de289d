"""Settings of the controller (per operator process, not per search): frozen, documented."""

from __future__ import annotations

from dataclasses import dataclass, field

from falcon_operator.reconcile.imagepolicy import ImagePolicy
from falcon_operator.trials.manifest import TrialPodSettings
from falcon_operator.trials.simulated import SimulationSettings


@dataclass(frozen=True)
class ControllerSettings:
    """How the per-search loop runs."""

    #: seconds between two looks at a search's trial pods
    poll_s: float = 2.0
    #: trials listed in status.recentTrials
    recent_trials: int = 10
    #: run trials in simulated mode (the simulated fleet measures them); None: real trials
    simulate: SimulationSettings | None = None
    #: images and fixed resources of trial pods
    pods: TrialPodSettings = field(default_factory=TrialPodSettings)
    #: the Triton images searches may name, and whether images need digests (docs/security.md)
    image_policy: ImagePolicy = field(default_factory=ImagePolicy)
    #: seconds to wait before retrying after a transient error (API server unreachable)
    retry_s: float = 5.0
    #: searches that prepare at once (read and analyse their model, build their strategy):
    #: a burst of new searches waits its turn rather than analysing every model at once
    max_preparing: int = 4
    #: real trials: seconds to wait for the runner's report after the pod is ready
    report_timeout_s: float = 1800.0
