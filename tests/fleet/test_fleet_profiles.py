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
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.core.objective import Objective
    from falcon_operator.fleet.backend import fleet_space
    from falcon_operator.fleet.performance import FleetModel

    def refuse(*_: object) -> None:
        raise AssertionError("fleet_knowledge profiled the source models again")

    monkeypatch.setattr(knowledge, "profile_models", refuse)
    catalog = load_catalog()
    space = fleet_space(catalog, gpus=["T4"], mig=False, batches=(1, 8))
    kb = knowledge.fleet_knowledge(FleetModel(catalog), space, objective=Objective.of(catalog))
    assert sorted(kb.profiles) == sorted(SOURCES)
    assert kb.profiles["bert-s"] == dict(shipped_source_profiles()[3].shares)
