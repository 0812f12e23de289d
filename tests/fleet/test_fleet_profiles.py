"""The shipped source-model profiles (fleet/profiles.py) equal a fresh profiling of the source
models, round-trip through JSON exactly, and are what the fleet knowledge is built from."""

from __future__ import annotations

import json

from falcon_operator.fleet import knowledge
from falcon_operator.fleet.models import SOURCES
from falcon_operator.fleet.profiles import (
    SHIPPED,
    from_document,
    profile_models,
    shipped_source_profiles,
    to_document,
)


def test_the_shipped_profiles_are_current() -> None:
    fresh = json.loads(json.dumps(to_document(profile_models(SOURCES))))
    assert json.loads(SHIPPED.read_text()) == fresh, (
        "data/fleet/source-profiles.json is stale: run make docs"
    )


def test_the_document_round_trips() -> None:
    profiles = shipped_source_profiles()
    assert from_document(json.loads(json.dumps(to_document(profiles)))) == profiles
    assert [p.name for p in profiles] == list(SOURCES)


def test_the_fleet_knowledge_starts_from_the_shipped_profiles(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def refuse(*_: object) -> None:
        raise AssertionError("fleet_knowledge profiled the source models again")

    monkeypatch.setattr(knowledge, "profile_models", refuse)
    assert knowledge.shipped_source_profiles is shipped_source_profiles
