"""The image config a Dockerfile's final stage declares: ENV, LABEL, EXPOSE, USER, ENTRYPOINT.

The local builds run their own equivalent of each ``RUN`` step, but take the runtime config
from the Dockerfile itself, so the image that runs in the test cluster and the one ``docker
build`` would make agree on how they start.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, rest) of every instruction, continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        out.append((keyword.upper(), rest.strip()))
        pending = ""
    return out


def _pairs(rest: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(rest))


def final_stage_config(path: Path) -> dict[str, Any]:
    """The OCI ``config`` object (Env as a dict) of the Dockerfile's last stage."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, rest in _instructions(path):
        if keyword == "FROM":
            stages.append([])
        elif stages:
            stages[-1].append((keyword, rest))
    if not stages:
        raise ValueError(f"{path}: no FROM")
    env: dict[str, str] = {}
    labels: dict[str, str] = {}
    config: dict[str, Any] = {"Env": env, "Labels": labels}
    for keyword, rest in stages[-1]:
        if keyword == "ENV":
            env.update(_pairs(rest))
        elif keyword == "LABEL":
            labels.update(_pairs(rest))
        elif keyword == "EXPOSE":
            ports = config.setdefault("ExposedPorts", {})
            ports.update({(p if "/" in p else f"{p}/tcp"): {} for p in rest.split()})
        elif keyword == "USER":
            config["User"] = rest
        elif keyword == "WORKDIR":
            config["WorkingDir"] = rest
        elif keyword in ("ENTRYPOINT", "CMD"):
            value = json.loads(rest)
            if not isinstance(value, list):
                raise ValueError(f"{path}: {keyword} must be in JSON (exec) form")
            config[keyword.capitalize()] = value
    return config
