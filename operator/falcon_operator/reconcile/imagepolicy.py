"""The operator's image policy: which Triton images a search may name (the confused deputy).

A search's author chooses ``spec.model.tritonImage``, and the operator creates the trial pods
(and, in output mode Apply, the recommended Deployment) with its own right to create pods. Were
any image allowed, whoever may create an InferenceConfigSearch could run any image in the
namespace without the right to create pods. The policy is the operator's setting (chart value
``imagePolicy``, ``falcon operator run --allowed-triton-image`` / ``--require-image-digests``),
never a search's:

- ``allowed``: shell-style patterns (``fnmatch``: ``*`` matches any characters, ``/`` included)
  over the image reference as written in the spec, e.g. ``nvcr.io/nvidia/tritonserver:*`` or an
  exact ``registry.example.com/triton@sha256:...``. The default is the one pinned image, the
  CRD's default ``tritonImage``.
- ``require_digest``: every image, the operator's own runner and init images included, must be
  pinned by digest (``name@sha256:<64 hex>``): a tag can be moved to other content.

The runner, prepare and storage-initializer images are the operator's settings: a search cannot
name them; with ``require_digest`` they are checked when the operator starts.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from falcon_operator.core.errors import FalconError, PermanentError
from falcon_operator.spec.constants import TRITON_IMAGE

#: condition reason of a search whose image the policy refuses
IMAGE_NOT_ALLOWED = "ImageNotAllowed"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class ImagePolicy:
    """Which images searches may run (operator setting)."""

    #: patterns of the Triton images a search may name in spec.model.tritonImage
    allowed: tuple[str, ...] = (TRITON_IMAGE,)
    #: every image must be pinned by digest (name@sha256:...)
    require_digest: bool = False

    def allows(self, image: str) -> bool:
        if self.require_digest and not DIGEST.search(image):
            return False
        return any(fnmatch.fnmatchcase(image, pattern) for pattern in self.allowed)

    def check(self, image: str, *, where: str = "spec.model.tritonImage") -> None:
        """PermanentError (reason ImageNotAllowed) unless ``image`` is allowed."""
        if self.allows(image):
            return
        why = (
            "is not pinned by digest (name@sha256:...), which the operator requires"
            if self.require_digest and not DIGEST.search(image)
            else f"matches none of the operator's allowed images ({', '.join(self.allowed)})"
        )
        raise PermanentError(
            f"{where} {image!r} {why}; ask the cluster admin to allow it (chart value "
            f"imagePolicy.allowedTritonImages, docs/security.md)",
            reason=IMAGE_NOT_ALLOWED,
        )

    def check_own(self, images: Iterable[tuple[str, str]]) -> None:
        """At start-up: with require_digest, the operator's own (setting, image) pairs must be
        pinned by digest too; a FalconError names the first that is not."""
        if not self.require_digest:
            return
        for setting, image in images:
            if not DIGEST.search(image):
                raise FalconError(
                    f"{setting} {image!r} is not pinned by digest (name@sha256:...), and "
                    f"--require-image-digests is on"
                )
