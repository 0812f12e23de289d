"""The operator's image policy (reconcile/imagepolicy.py): patterns, digests, and a search that
names a disallowed Triton image ending Failed (ImageNotAllowed) before any trial pod exists."""

from __future__ import annotations

import asyncio
import functools

import pytest
from fake_kube import FakeKube, Never, search_body

from falcon_operator.core.errors import FalconError, PermanentError
from falcon_operator.reconcile import search
from falcon_operator.reconcile.imagepolicy import IMAGE_NOT_ALLOWED, ImagePolicy
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec.constants import TRITON_IMAGE
from falcon_operator.trials.simulated import SimulationSettings

DIGEST = "sha256:" + "ab" * 32


def test_the_default_allows_the_pinned_triton_image_only() -> None:
    policy = ImagePolicy()
    assert policy.allows(TRITON_IMAGE)
    assert not policy.allows("nvcr.io/nvidia/tritonserver:24.09-py3")
    assert not policy.allows("docker.io/attacker/miner:latest")


def test_patterns_match_the_whole_reference() -> None:
    policy = ImagePolicy(allowed=("nvcr.io/nvidia/tritonserver:*", "mirror.local/triton@*"))
    assert policy.allows("nvcr.io/nvidia/tritonserver:24.09-py3")
    assert policy.allows(f"mirror.local/triton@{DIGEST}")
    assert not policy.allows("nvcr.io/nvidia/tritonserver-evil:1")  # ':' is in the pattern
    assert not policy.allows("evil.io/nvcr.io/nvidia/tritonserver:1")  # anchored at the start


def test_require_digest_refuses_tags_even_when_the_pattern_matches() -> None:
    policy = ImagePolicy(allowed=("mirror.local/triton*",), require_digest=True)
    assert policy.allows(f"mirror.local/triton@{DIGEST}")
    assert not policy.allows("mirror.local/triton:2.51")
    with pytest.raises(PermanentError, match="not pinned by digest") as err:
        policy.check("mirror.local/triton:2.51")
    assert err.value.reason == IMAGE_NOT_ALLOWED


def test_the_refusal_names_the_field_the_image_and_the_setting() -> None:
    with pytest.raises(PermanentError) as err:
        ImagePolicy().check("docker.io/attacker/miner:latest")
    text = str(err.value)
    assert "spec.model.tritonImage 'docker.io/attacker/miner:latest'" in text
    assert TRITON_IMAGE in text and "imagePolicy.allowedTritonImages" in text


def test_the_operators_own_images_need_digests_only_when_required() -> None:
    own = [("--runner-image", "ghcr.io/falcon-operator/falcon-trial:0.1.0")]
    ImagePolicy().check_own(own)
    with pytest.raises(FalconError, match=r"--runner-image .ghcr\.io/falcon-operator/falcon-trial"):
        ImagePolicy(require_digest=True).check_own(own)
    ImagePolicy(require_digest=True).check_own([("--runner-image", f"r/trial@{DIGEST}")])


def test_a_search_naming_a_disallowed_image_fails_before_any_pod() -> None:
    api = FakeKube()
    body = search_body()
    body["spec"]["model"]["tritonImage"] = "docker.io/attacker/miner:latest"
    settings = ControllerSettings(poll_s=0.05, simulate=SimulationSettings(0.05))
    with pytest.raises(PermanentError):
        asyncio.run(search.run_search(api.kube, settings, body, stop=Never()))
    status = api.status["resnet-mini"]
    assert status["phase"] == "Failed"
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == IMAGE_NOT_ALLOWED and "attacker/miner" in failed["message"]
    assert api.created_pods == [] and api.reasons()[-1] == IMAGE_NOT_ALLOWED


def test_an_allowed_pattern_lets_the_search_run_with_that_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        search, "prepare", functools.partial(prepare, knowledge=lambda _: shipped_knowledge())
    )
    api = FakeKube()
    body = search_body(budget={"maxTrials": 1})
    body["spec"]["model"]["tritonImage"] = "mirror.local/tritonserver:24.08-py3"
    settings = ControllerSettings(
        poll_s=0.05,
        simulate=SimulationSettings(0.05),
        image_policy=ImagePolicy(allowed=("mirror.local/tritonserver:*",)),
    )
    fin = asyncio.run(search.run_search(api.kube, settings, body, stop=Never()))
    assert fin is not None and fin.phase == "Succeeded"
    assert len(api.created_pods) == 1
    deployment = api.status["resnet-mini"]["recommendation"]
    images = [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]
    assert "mirror.local/tritonserver:24.08-py3" in images
