"""Cross-checks against PyTorch for the bugs fixed in the new nn layers (see test_nn_bughunt.py)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_support import close, g64, t64  # noqa: E402

import gdl.nn.functional as F  # noqa: E402
from gdl.nn.functional import pooling  # noqa: E402

TF = torch.nn.functional


def _both(gfn, tfn, a):
    gx, tx = g64(a, grad=True), t64(a, grad=True)
    go, to = gfn(gx), tfn(tx)
    go = go[0] if isinstance(go, tuple) else go
    to = to[0] if isinstance(to, tuple) else to
    close(go, to, "output")
    up = np.random.default_rng(7).standard_normal(tuple(to.shape))
    go.backward(g64(up))
    to.backward(torch.tensor(up))
    close(gx.grad, tx.grad, "input grad")


@pytest.mark.parametrize("length, out", [(6000, 1), (5000, 2999), (4001, 1000), (300, 299)])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool1d_long_inputs_match_torch(length, out, kind):
    a = np.random.default_rng(length).standard_normal((2, 3, length))
    g, t = (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d) if kind == "avg" else (F.adaptive_max_pool1d,
                                                                                    TF.adaptive_max_pool1d)
    _both(lambda x: g(x, out), lambda x: t(x, out), a)


@pytest.mark.parametrize("shape, out", [((2, 3, 9, 7), (4, 3)), ((3, 5, 6), (5, 1)), ((1, 2, 1, 8), (1, 3)),
                                        ((2, 2, 7, 7), (7, 7)), ((1, 1, 300, 2), (120, 2))])
@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pool2d_gather_path_matches_torch(monkeypatch, shape, out, kind):
    monkeypatch.setattr(pooling, "_MATRIX_ENTRIES", 0)
    a = np.random.default_rng(sum(shape)).standard_normal(shape)
    g, t = (F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d) if kind == "avg" else (F.adaptive_max_pool2d,
                                                                                    TF.adaptive_max_pool2d)
    _both(lambda x: g(x, out), lambda x: t(x, out), a)
    gi = F.adaptive_max_pool2d(g64(a), out, return_indices=True)[1]
    ti = TF.adaptive_max_pool2d(t64(a), out, return_indices=True)[1]
    np.testing.assert_array_equal(gi.numpy(), ti.numpy())


@pytest.mark.parametrize("name, gfn, tfn, shape", [
    ("adaptive_avg_pool2d same size", lambda x: F.adaptive_avg_pool2d(x, (3, 4)),
     lambda x: TF.adaptive_avg_pool2d(x, (3, 4)), (2, 2, 3, 4)),
    ("pixel_shuffle r=1", lambda x: F.pixel_shuffle(x, 1), lambda x: TF.pixel_shuffle(x, 1), (1, 4, 3, 3)),
    ("pixel_shuffle 1x1", lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), (2, 4, 1, 1)),
    ("pixel_unshuffle one block", lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2),
     (1, 3, 2, 2)),
    ("unfold 1x1", lambda x: F.unfold(x, 1), lambda x: TF.unfold(x, 1), (1, 2, 3, 3)),
    ("unfold one block", lambda x: F.unfold(x, 3), lambda x: TF.unfold(x, 3), (1, 2, 3, 3)),
])
def test_outputs_stay_put_when_the_input_changes_in_place_as_torch(name, gfn, tfn, shape):
    a = np.random.default_rng(0).standard_normal(shape)
    gx, tx = g64(a), t64(a)
    go, to = gfn(gx), tfn(tx)
    gx.add_(1.0)
    tx.add_(1.0)
    close(go, to, name)
    _both(gfn, tfn, a)
