"""PyTorch cross-checks of the bug-hunt fixes (tests/test_misc_bughunt.py): autograd's
capture points with hooks, .grad memory never shared, pad_packed_sequence's total_length."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from torch_support import close, g64, t64  # noqa: E402

import gdl  # noqa: E402
from gdl.nn.utils import rnn as grnn  # noqa: E402


def test_grad_of_hooked_non_leaf_matches_torch_with_and_without_lower_inputs():
    out = {}
    for lib, mk in ((gdl, g64), (torch, t64)):
        x = mk([1.0, -2.0], grad=True)
        y = x * 2.0
        y.register_hook(lambda g: g * 3.0)
        x.register_hook(lambda g: g + 1.0)
        z = (y * y * y).sum()
        out[lib] = (
            lib.autograd.grad(z, y, retain_graph=True),
            lib.autograd.grad(z, x, retain_graph=True),
            lib.autograd.grad(z, [x, y], retain_graph=True),
            lib.autograd.grad(z, [y, x]),
        )
    for ours, theirs in zip(out[gdl], out[torch]):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            close(a, b)


def test_grad_memory_is_not_shared_as_torch():
    # the cases where PyTorch's AccumulateGrad copies (it may take a view of a caller's
    # array it no longer counts as referenced; gdl never shares, so that case is not compared)
    def run(lib, mk):
        leaf = mk([1.0, 2.0], grad=True)
        g = mk([1.0, 1.0])
        leaf.backward(g)
        leaf.grad.mul_(5.0)
        a, b = mk([1.0, 1.0], grad=True), mk([1.0, 1.0], grad=True)
        lib.autograd.backward([a + b], [mk([1.0, 1.0])], inputs=[a, b])
        a.grad.zero_()
        x = mk(np.ones((2, 2)), grad=True)
        y = x.reshape(4)
        y.retain_grad()
        (y * mk([0.0, 1.0, 2.0, 3.0])).sum().backward()
        x.grad.zero_()
        return g, leaf.grad, b.grad, y.grad

    for ours, theirs in zip(run(gdl, g64), run(torch, t64)):
        close(ours, theirs)


def test_pad_packed_sequence_numpy_total_length_as_torch():
    seqs = [np.arange(3.0), np.arange(1.0)]
    total = np.max([3, 1]) + 2
    ours, ours_len = grnn.pad_packed_sequence(grnn.pack_sequence([g64(s) for s in seqs]), True, 0.0, total)
    theirs, theirs_len = torch.nn.utils.rnn.pad_packed_sequence(
        torch.nn.utils.rnn.pack_sequence([t64(s) for s in seqs]), True, 0.0, total)
    close(ours, theirs)
    assert ours_len.tolist() == theirs_len.tolist()
