"""gdl.random: get_rng_state/set_rng_state snapshots and fork_rng, on every test backend."""

from __future__ import annotations

import numpy as np
import pytest

import gdl
from gdl import nn


def test_a_snapshot_replays_the_same_numbers(backend):
    gdl.manual_seed(3)
    gdl.rand(4)  # move the stream first: the snapshot is of the position, not of the seed
    state = gdl.get_rng_state()
    first = [gdl.rand(5).numpy(), gdl.randn(2, 3).numpy(), gdl.randint(0, 100, (6,)).numpy()]
    gdl.set_rng_state(state)
    again = [gdl.rand(5).numpy(), gdl.randn(2, 3).numpy(), gdl.randint(0, 100, (6,)).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    gdl.set_rng_state(state)  # a snapshot can be used twice
    np.testing.assert_array_equal(gdl.rand(5).numpy(), first[0])


def test_dropout_masks_replay(backend):
    drop = nn.Dropout(0.5)
    x = gdl.ones(200)
    state = gdl.get_rng_state()
    a = drop(x).numpy()
    gdl.set_rng_state(state)
    np.testing.assert_array_equal(drop(x).numpy(), a)


def test_fork_rng_leaves_the_outer_stream_where_it_was(backend):
    gdl.manual_seed(0)
    expected = gdl.rand(3).numpy()
    gdl.manual_seed(0)
    with gdl.random.fork_rng():
        inside = gdl.rand(3).numpy()
        gdl.rand(100)
    np.testing.assert_array_equal(inside, expected)
    np.testing.assert_array_equal(gdl.rand(3).numpy(), expected)
    gdl.manual_seed(0)
    with gdl.random.fork_rng(enabled=False):
        gdl.rand(3)
    assert not np.array_equal(gdl.rand(3).numpy(), expected)


def test_fork_rng_restores_even_after_an_error(backend):
    gdl.manual_seed(5)
    expected = gdl.rand(2).numpy()
    gdl.manual_seed(5)
    with pytest.raises(KeyError):
        with gdl.random.fork_rng():
            gdl.rand(10)
            raise KeyError("boom")
    np.testing.assert_array_equal(gdl.rand(2).numpy(), expected)


def test_the_state_names_its_backend_and_bad_states_are_refused(backend):
    state = gdl.get_rng_state()
    assert state.backend == backend and backend in repr(state)
    with pytest.raises(TypeError, match="gdl.get_rng_state"):
        gdl.set_rng_state({"seed": 1})
    assert gdl.random.initial_seed is gdl.initial_seed and gdl.random.manual_seed is gdl.manual_seed


def test_a_state_goes_back_to_its_own_backend():
    with gdl.use_backend("numpy"):
        gdl.manual_seed(2)
        state = gdl.get_rng_state()
        a = gdl.rand(3).numpy()
    with gdl.use_backend("array_api_strict"):
        gdl.set_rng_state(state)  # restores numpy's generator, whatever the current backend
    with gdl.use_backend("numpy"):
        np.testing.assert_array_equal(gdl.rand(3).numpy(), a)
