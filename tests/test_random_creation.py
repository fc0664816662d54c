"""randint and randperm with PyTorch's signatures: randint(high, size), dtype=."""

from __future__ import annotations

import pytest

import gdl


def test_randint_high_and_size_starts_at_zero(backend):
    x = gdl.randint(3, (1000,))
    assert x.dtype == gdl.int64 and x.shape == (1000,)
    assert sorted(set(x.tolist())) == [0, 1, 2]


def test_randint_low_high_and_dtype(backend):
    x = gdl.randint(-2, 2, (50, 4), dtype=gdl.int32)
    assert x.dtype == gdl.int32 and x.shape == (50, 4)
    assert set(x.reshape(-1).tolist()) == {-2, -1, 0, 1}
    f = gdl.randint(0, 10, (200,), dtype=gdl.float32)
    assert f.dtype == gdl.float32
    assert all(v == int(v) and 0 <= v < 10 for v in f.tolist())


def test_randint_follows_the_seed(backend):
    gdl.manual_seed(5)
    a = gdl.randint(0, 100, (20,)).tolist()
    gdl.manual_seed(5)
    assert gdl.randint(0, 100, (20,)).tolist() == a


@pytest.mark.parametrize("args, error, words", [
    ((3, 3, (2,)), ValueError, "low < high"),
    ((3,), TypeError, "size"),
    ((2, 5), TypeError, "size"),
])
def test_randint_bad_arguments_name_the_problem(args, error, words):
    with pytest.raises(error, match=words):
        gdl.randint(*args)


def test_randperm_dtype(backend):
    p = gdl.randperm(10, dtype=gdl.int32)
    assert p.dtype == gdl.int32
    assert sorted(p.tolist()) == list(range(10))
    assert gdl.randperm(5).dtype == gdl.int64
