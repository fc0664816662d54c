"""gdl.testing.assert_close against torch.testing.assert_close: the same pass/fail verdicts
and the same numbers in the message, over a grid of cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdl  # noqa: E402

CASES = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], "float32", {}),
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], "float32", {}),
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], "float64", {}),
    ([1.0, 2.0], [1.0, 2.0 + 2e-7], "float64", {}),
    ([1e-6, 0.0], [0.0, 1e-6], "float32", {}),
    ([1e-4, 0.0], [0.0, 1e-6], "float32", {}),
    ([math.nan, 1.0], [math.nan, 1.0], "float64", {}),
    ([math.nan, 1.0], [math.nan, 1.0], "float64", {"equal_nan": True}),
    ([math.inf, -math.inf, 1.0], [math.inf, math.inf, 1.0], "float64", {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.1, 2.0], [3.0, 4.4]], "float32", {}),
    ([1.0, 2.0], [1.05, 2.0], "float32", {"rtol": 0.1, "atol": 0.0}),
    ([1.0, 2.0], [1.05, 2.0], "float32", {"rtol": 0.0, "atol": 0.01}),
    ([1, 2, 3], [1, 2, 4], "int64", {}),
    ([1, 2, 3], [1, 2, 3], "int64", {}),
    ([1.0, 1.001], [1.0, 1.0], "float16", {}),
]


def _lines(text):
    return [line for line in text.splitlines() if line.startswith(("Mismatched", "Greatest"))]


@pytest.mark.parametrize("a,e,dtype,kw", CASES)
def test_same_verdict_and_message_as_torch(a, e, dtype, kw):
    if dtype == "float16" and gdl.get_backend() == "array_api_strict":
        pytest.skip("the Array API standard has no float16")
    theirs = ours = None
    try:
        torch.testing.assert_close(torch.tensor(a, dtype=getattr(torch, dtype)),
                                   torch.tensor(e, dtype=getattr(torch, dtype)), **kw)
    except AssertionError as err:
        theirs = str(err)
    try:
        gdl.testing.assert_close(gdl.tensor(a, dtype=getattr(gdl, dtype)), gdl.tensor(e, dtype=getattr(gdl, dtype)),
                                 **kw)
    except AssertionError as err:
        ours = str(err)
    assert (theirs is None) == (ours is None), (theirs, ours)
    if theirs is None:
        return
    assert theirs.splitlines()[0] == ours.splitlines()[0]
    for t_line, o_line in zip(_lines(theirs), _lines(ours), strict=True):
        t_head, o_head = t_line.split(":")[0], o_line.split(":")[0]
        assert t_head == o_head
        if t_head == "Mismatched elements":
            assert t_line == o_line
        else:  # the same index and allowance; the value to float32 printing
            assert t_line.split(" at index ")[1] == o_line.split(" at index ")[1]
            t_val, o_val = (float(x.split(": ")[1].split(" at")[0]) for x in (t_line, o_line))
            assert (math.isnan(t_val) and math.isnan(o_val)) or t_val == pytest.approx(o_val, rel=1e-6)


def test_make_tensor_default_ranges_match_torch():
    torch.manual_seed(0)
    gdl.manual_seed(0)
    for dtype in ("float32", "int64", "uint8", "int8"):
        t = torch.testing.make_tensor(4000, dtype=getattr(torch, dtype), device="cpu").numpy().astype(np.float64)
        g = gdl.testing.make_tensor(4000, dtype=getattr(gdl, dtype)).numpy().astype(np.float64)
        assert abs(t.min() - g.min()) <= 0.05 and abs(t.max() - g.max()) <= 0.05, dtype
