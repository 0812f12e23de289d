"""``falcon operator run``'s arguments become the trial pods' settings (images included)."""

from __future__ import annotations

import argparse

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
