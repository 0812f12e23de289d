"""Settings validate themselves: an invalid value is a SettingsError (exit code 2)."""

from __future__ import annotations

import pytest

from falcon_trial.errors import SettingsError
from falcon_trial.settings import (
    InputSettings,
    LoadSettings,
    MeasureSettings,
    ServerSettings,
    split_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", ("127.0.0.1:8000", False)),
        ("https://triton:8443/", ("triton:8443", True)),
        ("127.0.0.1:8001", ("127.0.0.1:8001", False)),
        ("grpc://triton:8001", ("triton:8001", False)),
    ],
)
def test_split_url(url: str, expected: tuple[str, bool]) -> None:
    assert split_url(url) == expected


@pytest.mark.parametrize("url", ["", "ftp://x:1", "http://", "http://a://b"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(SettingsError):
        split_url(url)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ServerSettings(model=""),
        lambda: ServerSettings(model="m", protocol="udp"),  # type: ignore[arg-type]
        lambda: ServerSettings(model="m", ready_timeout_s=0),
        lambda: ServerSettings(model="m", request_timeout_s=float("nan")),
        lambda: InputSettings(batch_size=0),
        lambda: InputSettings(dynamic_dim=-1),
        lambda: MeasureSettings(window_s=0),
        lambda: MeasureSettings(warmup_s=-1),
        lambda: MeasureSettings(max_windows=2, stable_windows=3),
        lambda: MeasureSettings(max_error_fraction=1.0),
        lambda: LoadSettings(concurrency=0),
        lambda: LoadSettings(concurrency=5000),
        lambda: LoadSettings(sweep_max=0),
        lambda: LoadSettings(slo_p99_ms=-5),
    ],
)
def test_invalid_values_are_refused(make: object) -> None:
    with pytest.raises(SettingsError):
        make()  # type: ignore[operator]


def test_settings_are_frozen() -> None:
    s = ServerSettings(model="m")
    with pytest.raises(AttributeError):
        s.model = "other"  # type: ignore[misc]
