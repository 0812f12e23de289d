"""Tests for configuration spaces: indexing, encoding, constraints, lazy enumeration, typing."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import numpy as np
import pytest

from falcon_operator.core.errors import SpaceError
from falcon_operator.core.space import Knob, Space, Value, space_from_columns

SMALL = Space(
    (
        Knob("a", (1, 2, 3)),
        Knob("b", (10, 20)),
        Knob("c", ("x", "y"), "categorical"),
    )
)


def _not_a2(config: Mapping[str, Value]) -> bool:
    return config["a"] != 2


CONSTRAINED = Space(SMALL.knobs, constraints=(_not_a2,))


# -- index <-> configuration ----------------------------------------------------------------


def test_index_config_round_trip_over_whole_space() -> None:
    assert SMALL.size == 12
    seen = set()
    for i in range(SMALL.size):
        cfg = SMALL.config_at(i)
        assert SMALL.index_of(cfg) == i
        seen.add(SMALL.key(cfg))
    assert len(seen) == SMALL.size  # every index is a different configuration
    assert seen == set(itertools.product((1, 2, 3), (10, 20), ("x", "y")))


@pytest.mark.parametrize("index", [-1, 12, 100])
def test_config_at_outside_the_space(index: int) -> None:
    with pytest.raises(SpaceError):
        SMALL.config_at(index)


def test_mixed_radix_order_last_knob_fastest() -> None:
    assert SMALL.radices == (3, 2, 2)
    assert SMALL.config_at(0) == {"a": 1, "b": 10, "c": "x"}
    assert SMALL.config_at(1) == {"a": 1, "b": 10, "c": "y"}
    assert SMALL.config_at(2) == {"a": 1, "b": 20, "c": "x"}
    assert SMALL.config_at(4) == {"a": 2, "b": 10, "c": "x"}
    assert SMALL.config_at(11) == {"a": 3, "b": 20, "c": "y"}
    expected = np.array(list(itertools.product(range(3), range(2), range(2))))
    np.testing.assert_array_equal(SMALL.codes(np.arange(12, dtype=np.int64)), expected)
    # configs() walks the same order as the indices
    assert list(SMALL.configs()) == [SMALL.config_at(i) for i in range(12)]


def test_index_of_canonicalises_numeric_values() -> None:
    space = Space((Knob("mem", (0.8, 1.2, 1.6)), Knob("bs", (4, 8))))
    assert space.index_of({"mem": 1.2 + 1e-12, "bs": 8.0}) == 3
    assert space.key({"mem": 1.2 + 1e-12, "bs": 8.0}) == (1.2, 8)
    with pytest.raises(SpaceError):
        space.index_of({"mem": 1.2 + 1e-6, "bs": 8})
    with pytest.raises(SpaceError):
        space.index_of({"mem": 1.2, "bs": "8"})  # a string is not a numeric value


# -- encoding ----------------------------------------------------------------------------------


def test_encode_shape_one_hot_and_rank_scaling() -> None:
    idx = np.arange(SMALL.size, dtype=np.int64)
    x = SMALL.encode(idx)
    assert SMALL.encoded_width == 4
    assert x.shape == (12, 4)
    codes = SMALL.codes(idx)
    np.testing.assert_allclose(x[:, 0], codes[:, 0] / 2)  # a: positions 0, 1, 2 -> 0, .5, 1
    np.testing.assert_allclose(x[:, 1], codes[:, 1])  # b: two values -> 0, 1
    # one-hot for the categorical: exactly one 1 per row, in the value's column
    np.testing.assert_array_equal(x[:, 2:].sum(1), np.ones(12))
    np.testing.assert_array_equal(x[:, 2:].argmax(1), codes[:, 2])
    assert set(np.unique(x[:, 2:])) == {0.0, 1.0}


def test_encode_scales_ordinals_by_rank_not_value() -> None:
    space = Space((Knob("batchsize", (4, 8, 16, 32, 128)), Knob("one", (7,))))
    x = space.encode(np.arange(5, dtype=np.int64))
    np.testing.assert_allclose(x[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(x[:, 1], np.zeros(5))  # a single-value knob encodes to 0


# -- constraints -------------------------------------------------------------------------------


def test_feasible_mask_matches_the_constraint() -> None:
    idx = np.arange(12, dtype=np.int64)
    mask = CONSTRAINED.feasible_mask(idx)
    np.testing.assert_array_equal(mask, [CONSTRAINED.config_at(i)["a"] != 2 for i in range(12)])
    assert mask.sum() == 8
    np.testing.assert_array_equal(SMALL.feasible_mask(idx), np.ones(12, dtype=bool))
    assert CONSTRAINED.feasible({"a": 1, "b": 10, "c": "x"})
    assert not CONSTRAINED.feasible({"a": 2, "b": 10, "c": "x"})


def test_iter_chunks_skips_infeasible_positions() -> None:
    chunks = list(CONSTRAINED.iter_chunks(chunk=4))
    assert len(chunks) == 3  # one per 4 positions, even when a chunk has nothing feasible
    np.testing.assert_array_equal(chunks[0], [0, 1, 2, 3])
    assert chunks[1].size == 0  # positions 4..7 all have a == 2
    np.testing.assert_array_equal(chunks[2], [8, 9, 10, 11])
    np.testing.assert_array_equal(CONSTRAINED.all_indices(), [0, 1, 2, 3, 8, 9, 10, 11])
    odd = list(CONSTRAINED.iter_chunks(chunk=5))
    assert [c.size for c in odd] == [4, 2, 2]
    np.testing.assert_array_equal(np.concatenate(odd), CONSTRAINED.all_indices())


def test_configs_yields_only_feasible_configs() -> None:
    configs = list(CONSTRAINED.configs())
    assert len(configs) == 8
    assert all(c["a"] != 2 for c in configs)
    assert [CONSTRAINED.index_of(c) for c in configs] == list(CONSTRAINED.all_indices())


def test_lazy_iteration_over_a_million_positions() -> None:
    calls = 0

    def counting(config: Mapping[str, Value]) -> bool:
        nonlocal calls
        calls += 1
        return True

    knobs = tuple(Knob(n, tuple(range(100))) for n in ("p", "q", "r"))
    big = Space(knobs, constraints=(counting,))
    assert big.size == 1_000_000
    first, second = itertools.islice(big.iter_chunks(chunk=1000), 2)
    for part in (first, second):
        assert part.dtype == np.int64
        assert 0 < part.size <= 1000
    np.testing.assert_array_equal(first, np.arange(1000))
    np.testing.assert_array_equal(second, np.arange(1000, 2000))
    assert calls == 2000  # only the two chunks taken were looked at, not the million positions
    # unconstrained: same chunks, no configuration built at all
    plain = Space(knobs)
    a, b = itertools.islice(plain.iter_chunks(chunk=1000), 2)
    np.testing.assert_array_equal(b, np.arange(1000, 2000))
    assert a.size == 1000


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        {"a": 1, "b": 10, "c": "x", "zzz": 1},  # unknown knob
        {"a": 4, "b": 10, "c": "x"},  # value not in the domain
        {"a": 1, "b": 10, "c": "z"},  # categorical value not in the domain
        {"a": 1, "b": 10},  # missing knob
    ],
)
def test_invalid_configurations_raise(config: dict[str, Value]) -> None:
    with pytest.raises(SpaceError):
        SMALL.validate(config)
    with pytest.raises(SpaceError):
        SMALL.index_of(config)


def test_space_error_is_a_value_error_and_names_the_problem() -> None:
    with pytest.raises(ValueError, match="zzz"):
        SMALL.index_of({"a": 1, "b": 10, "c": "x", "zzz": 1})
    with pytest.raises(SpaceError, match="unknown knob"):
        SMALL.knob("zzz")
    assert SMALL.knob("b").values == (10, 20)


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("empty", (), "ordinal"),
        ("repeated", (1, 2, 2), "ordinal"),
        ("text", ("a", "b"), "ordinal"),
        ("decreasing", (3, 2, 1), "ordinal"),
        ("boolean", (False, True), "ordinal"),
    ],
)
def test_bad_knobs_raise(name: str, values: tuple[Value, ...], kind: str) -> None:
    with pytest.raises(SpaceError):
        Knob(name, values, kind)  # type: ignore[arg-type]


def test_bad_spaces_raise() -> None:
    with pytest.raises(SpaceError):
        Space(())
    with pytest.raises(SpaceError):
        Space((Knob("a", (1, 2)), Knob("a", (3, 4))))


# -- typing from table columns -------------------------------------------------------------------


def test_space_from_columns_types_knobs() -> None:
    space = space_from_columns(
        {
            "batchsize": [32, 4, 16, 4, 32],
            "gpumem": [1.2, 0.8, 1.2, 2.4, 0.8],
            "gputype": ["V100", "T4", "V100", "K80", "T4"],
        }
    )
    assert space.names == ("batchsize", "gpumem", "gputype")
    bs, mem, gpu = space.knobs
    assert (bs.kind, bs.values) == ("ordinal", (4, 16, 32))  # numeric: sorted
    assert (mem.kind, mem.values) == ("ordinal", (0.8, 1.2, 2.4))
    assert (gpu.kind, gpu.values) == ("categorical", ("V100", "T4", "K80"))  # first-seen order


def test_space_from_columns_mixed_column_is_categorical_text() -> None:
    space = space_from_columns({"m": [2, "b", 1], "flag": [True, False, True]})
    assert space.knob("m").kind == "categorical"
    assert space.knob("m").values == ("2", "b", "1")
    assert space.knob("flag").kind == "categorical"  # booleans are not numbers here
    assert space.knob("flag").values == ("True", "False")


# -- description -------------------------------------------------------------------------------


def test_describe_from_description_round_trip() -> None:
    space = Space(
        (
            Knob("batchsize", (4, 8, 16)),
            Knob("gpumem", (0.8, 1.2)),
            Knob("gputype", ("T4", "V100"), "categorical"),
        )
    )
    desc = space.describe()
    assert desc["size"] == 12
    back = Space.from_description(desc)
    assert back == space
    via_json = Space.from_description(json.loads(json.dumps(desc)))
    assert via_json == space
    assert via_json.knob("gputype").kind == "categorical"
    assert [via_json.config_at(i) for i in range(12)] == [space.config_at(i) for i in range(12)]


def test_from_description_needs_knobs() -> None:
    with pytest.raises(SpaceError):
        Space.from_description({"size": 3})
