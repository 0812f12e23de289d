"""The container images (Dockerfile, trial-runner/Dockerfile), checked without a Docker engine.

Each Dockerfile is parsed: the base is pinned, the build is multi-stage, the final stage runs as
a non-root user, installs nothing that compiles, and its ENTRYPOINT is a console script of
pyproject.toml that answers ``--help`` from this virtualenv. The runner image installs the
project with ``--no-deps`` and only numpy and tritonclient[http], pinned as in pyproject.toml.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
IMAGES = {"operator": REPO / "Dockerfile", "runner": REPO / "trial-runner" / "Dockerfile"}
ENTRYPOINTS = {"operator": ["falcon", "operator", "run"], "runner": ["falcon-trial"]}
#: a full version tag of the official image on a named Debian release, optionally with a digest
PINNED_BASE = re.compile(r"^python:3\.\d+\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|clang|build-essential|make|cmake|apt-get|apt|apk|python3?-dev|libc6?-dev)\b"
)
NON_ROOT_UID = 65532


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


@dataclass
class Dockerfile:
    args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def parse(path: Path) -> Dockerfile:
    """Instructions of a Dockerfile, with line continuations joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, f"{path}: dangling line continuation"
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            base = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m[1] or m[2]], words[0])
            stages.append(Stage(base, name))
        elif keyword == "ARG" and not stages:
            key, _, default = rest.partition("=")
            args[key] = default
        else:
            assert stages, f"{path}: {keyword} before FROM"
            stages[-1].instructions.append((keyword, rest))
    return Dockerfile(args, stages)


def console_scripts() -> dict[str, str]:
    return dict(PYPROJECT["project"]["scripts"])


def pins() -> dict[str, str]:
    """name (with extras) -> exact version, from [project].dependencies."""
    out = {}
    for dep in PYPROJECT["project"]["dependencies"]:
        name, _, version = dep.partition("==")
        out[name.strip()] = version.strip()
    return out


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_base_is_pinned_and_the_build_is_multi_stage(image: str) -> None:
    df = parse(IMAGES[image])
    assert len(df.stages) >= 2, "multi-stage: a builder and the final image"
    names = {s.name for s in df.stages if s.name}
    for stage in df.stages:
        if stage.base in names:
            continue
        assert PINNED_BASE.match(stage.base), f"{image}: base {stage.base!r} is not pinned"
        minor = re.match(r"python:3\.(\d+)", stage.base)
        assert minor and f"py3{minor[1]}" == PYPROJECT["tool"]["ruff"]["target-version"]
    assert df.final.name is None or df.final.name not in {s.base for s in df.stages}
    # the final stage installs what the builder made, never builds itself
    runs = " ".join(df.final.all("RUN"))
    builder = df.stages[0].name
    assert builder and f"from={builder}" in runs
    assert not BUILD_TOOLS.search(runs), f"{image}: build tools in the final stage: {runs}"


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_final_stage_runs_as_a_non_root_user(image: str) -> None:
    final = parse(IMAGES[image]).final
    users = final.all("USER")
    assert users, f"{image}: no USER in the final stage"
    user = users[-1].split(":")
    assert user[0] == str(NON_ROOT_UID) and user[-1] == str(NON_ROOT_UID)
    # nothing after USER needs root
    keywords = [kw for kw, _ in final.instructions]
    assert "RUN" not in keywords[keywords.index("USER") :]


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_entrypoint_is_a_console_script_that_answers_help(image: str) -> None:
    entry = parse(IMAGES[image]).final.all("ENTRYPOINT")
    assert len(entry) == 1
    argv = json.loads(entry[0])  # exec form: a JSON array, so signals reach Python
    assert argv == ENTRYPOINTS[image]
    assert argv[0] in console_scripts()
    script = Path(sys.executable).parent / argv[0]
    assert script.exists(), f"{script}: install the project into this virtualenv (make venv)"
    proc = subprocess.run(
        [str(script), *argv[1:], "--help"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage:")


def test_runner_image_has_only_numpy_and_tritonclient_pinned_as_in_pyproject() -> None:
    final = parse(IMAGES["runner"]).final
    installs = [
        shlex.split(cmd)
        for run in final.all("RUN")
        for cmd in re.sub(r"^(--\S+\s+)+", "", run).split("&&")
        if cmd.split()[:2] == ["pip", "install"]
    ]
    assert len(installs) == 2
    packages = [w for words in installs for w in words[2:] if not w.startswith("-")]
    packages = [p for p in packages if "/wheels" not in p]  # paths of find-links and the wheel
    assert sorted(packages) == sorted(
        f"{name}=={version}"
        for name, version in pins().items()
        if name in ("numpy", "tritonclient[http]")
    )
    project = next(words for words in installs if any(".whl" in w for w in words))
    assert "--no-deps" in project
    # the builder downloads the same two pins
    builder_runs = " ".join(parse(IMAGES["runner"]).stages[0].all("RUN"))
    for package in packages:
        assert f'"{package}"' in builder_runs


def test_operator_image_installs_the_project_with_its_dependencies() -> None:
    runs = " ".join(parse(IMAGES["operator"]).final.all("RUN"))
    assert "pip install --no-index --find-links /wheels falcon-operator" in runs
    assert "--no-deps" not in runs


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the patterns used here (last match wins, ! re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pat) for p in prefixes) or (
            pat.startswith("**/") and any(fnmatch.fnmatch(x, pat[3:]) for x in parts)
        ):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_every_copied_path_exists_and_is_in_the_build_context(image: str) -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert _ignored(".venv/bin/python", patterns) and _ignored("bench/results/x", patterns)
    for stage in parse(IMAGES[image]).stages:
        for copy in stage.all("COPY"):
            words = [w for w in copy.split() if not w.startswith("--")]
            if "--from=" in copy:
                continue
            for src in words[:-1]:
                src = src.rstrip("/")
                assert (REPO / src).exists(), f"{image}: COPY {src}: no such path"
                assert not _ignored(src, patterns), f"{image}: {src} is in .dockerignore"
    assert _ignored("operator/falcon_operator/__pycache__/x.pyc", patterns)


#: what the operator image has and the runner image must never import
OPERATOR_ONLY = [
    "falcon_operator",
    "scipy",
    "sklearn",
    "onnxruntime",
    "onnx",
    "kopf",
    "kubernetes",
    "matplotlib",
    "rich",
    "prometheus_client",
    "yaml",
]
_BLOCKED_RUNNER = f"""
import importlib, pkgutil, sys
BLOCK = {set(OPERATOR_ONLY)!r}
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCK:
            raise ImportError("the runner image has no " + name)
        return None
sys.meta_path.insert(0, Blocker())
import falcon_trial
for info in pkgutil.walk_packages(falcon_trial.__path__, "falcon_trial."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
import tritonclient.http
from falcon_trial.cli import main
main(["--help"])
"""


def test_the_runner_needs_nothing_but_numpy_and_tritonclient() -> None:
    """Every falcon_trial module imports with the operator's deps gone."""
    proc = subprocess.run(
        [sys.executable, "-c", _BLOCKED_RUNNER], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: falcon-trial")
