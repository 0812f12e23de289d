"""``falcon operator run``'s arguments become the trial pods' settings (images included)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from falcon_operator.cli import operator
from falcon_operator.cli.main import main
from falcon_operator.cli.operator import add_run_arguments, settings_from
from falcon_operator.trials.source import SourceImages


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    return parser.parse_args(list(argv))


def test_init_container_images_default_to_source_images() -> None:
    pods = settings_from(_parse()).controller.pods
    assert pods.images == SourceImages()


def test_init_container_images_come_from_the_flags() -> None:
    args = _parse(
        "--prepare-image=mirror.local/busybox:1.35.0",
        "--storage-initializer-image=mirror.local/storage-initializer:v0.14.1",
        "--runner-image=mirror.local/falcon-trial:0.1.0",
    )
    pods = settings_from(args).controller.pods
    assert pods.images.prepare == "mirror.local/busybox:1.35.0"
    assert pods.images.storage_initializer == "mirror.local/storage-initializer:v0.14.1"
    assert pods.runner_image == "mirror.local/falcon-trial:0.1.0"


@pytest.mark.parametrize("entry", ["falcon", "falcon-operator"])
def test_no_usable_kubeconfig_is_a_one_line_error(
    entry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*argv: str) -> int:
        if entry == "falcon":
            return main(["operator", "run", *argv])
        return operator.main(list(argv))

    base = ("--no-leader-election", "--metrics-port", "0")
    assert run("--kubeconfig", str(tmp_path / "nope"), *base) == 2
    err = capsys.readouterr().err
    assert err == f"{entry}: error: kubeconfig {tmp_path / 'nope'} does not exist\n"
    (tmp_path / "empty").write_text("")
    assert run("--kubeconfig", str(tmp_path / "empty"), *base) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{entry}: error: no usable kubeconfig ({tmp_path / 'empty'}): ")
    assert len(err.splitlines()) == 1


def test_the_image_policy_comes_from_the_flags() -> None:
    default = settings_from(_parse()).controller.image_policy
    assert default.allowed == ("nvcr.io/nvidia/tritonserver:24.08-py3",)
    assert not default.require_digest
    digest = "@sha256:" + "0" * 64
    args = _parse(
        "--allowed-triton-image=mirror.local/triton:*",
        "--allowed-triton-image=nvcr.io/nvidia/tritonserver@*",
        "--require-image-digests",
        f"--runner-image=r/trial{digest}",
        f"--prepare-image=r/busybox{digest}",
        f"--storage-initializer-image=r/si{digest}",
    )
    policy = settings_from(args).controller.image_policy
    assert policy.allowed == ("mirror.local/triton:*", "nvcr.io/nvidia/tritonserver@*")
    assert policy.require_digest


def test_required_digests_refuse_an_operator_image_by_tag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--require-image-digests", "--no-leader-election", "--metrics-port", "0"]
    assert operator.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("falcon-operator: error: --runner-image ") and "digest" in err
    assert "Traceback" not in err
