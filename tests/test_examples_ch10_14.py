"""The book's chapters 10, 13 and 14 as scripts (``examples/``): each runs, and its figures move the right way.

Every script is run in a subprocess with ``--quick`` (small, fast settings) and
its ``RESULT {json}`` lines (format: ``examples/_common.py``) are checked: each
figure reaches its target where one is given and moved from its starting value
the way it should (accuracy up, perplexity down).

The ``slow`` tests run the book's full settings and assert the book's figures
(minutes each on a CPU): ``pytest -m slow tests/test_examples_ch10_14.py``.
``GDL_EXAMPLES_BACKEND=cupy`` runs the scripts on CuPy.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from examples_support import SHARED_DATA, assert_all_good, by_metric, run_script

import gdl


def data_present(*parts: str) -> bool:
    env = os.environ.get("GDL_DATA_DIR")
    roots = [Path(env)] if env else [SHARED_DATA]
    return any((r.joinpath(*parts)).exists() for r in roots)


needs_babi = pytest.mark.skipif(not data_present("babi"), reason="bAbI data not present (../shared/data/babi)")
needs_shakespeare = pytest.mark.skipif(not data_present("shakespeare", "shakespear.txt"),
                                       reason="the book's shakespear.txt not present (../shared/data/shakespeare)")
needs_tiny = pytest.mark.skipif(not data_present("shakespeare", "tinyshakespeare.txt"),
                                reason="tinyshakespeare.txt not present (../shared/data/shakespeare)")


# -- quick runs (the default test suite) ---------------------------------------------------------------


def test_ch10_quick_run_learns_and_matches_the_hand_convolution():
    out, recs = run_script("ch10_convolution.py", "--quick")
    assert_all_good(recs)  # test accuracy rose; hand-written conv/gradient == Conv2d/autograd
    m = by_metric(recs)
    assert m["test_acc"]["value"] >= 0.4, m["test_acc"]
    assert m["test_acc"]["settings"]["positions"] == "26x26"
    assert m["hand_vs_autograd_diff"]["value"] <= 1e-4
    assert "I:0 Test-Acc:" in out


@needs_babi
def test_ch13_quick_reproduces_the_toy_losses_and_the_rnn_learns():
    out, recs = run_script("ch13_framework.py", "--quick")
    assert_all_good(recs)
    m = by_metric(recs)
    # every printed figure of the tour (x + x, gradients, sum/expand, the six toy trainings'
    # first and last losses with the book's replayed starting weights, index_select)
    assert m["book_figures_mismatched"]["value"] == 0, m["book_figures_mismatched"]["which"]
    assert m["toy_losses_fell"]["value"] == 6
    assert m["babi_accuracy"]["value"] >= 0.25
    assert m["babi_accuracy"]["ceiling"] == 0.37
    assert m["babi_accuracy_all_rows"]["value"] > m["babi_accuracy_all_rows"]["start"]


@needs_shakespeare
def test_ch14_quick_gradient_demo_and_lstm_perplexity_falls():
    out, recs = run_script("ch14_lstm.py", "--quick", "--holdout", "0.1")
    assert_all_good(recs)  # perplexity fell from its start; the demo's gradients match autograd and vanish
    m = by_metric(recs)
    ppl = m["perplexity"]
    assert ppl["start"] == pytest.approx(62.0, rel=1e-5)  # zero output layer: uniform over 62 characters
    assert ppl["value"] < 40
    assert ppl["heldout_ppl"] is not None and ppl["heldout_ppl"] < 62
    assert ppl["history"][-1][1] < ppl["history"][0][1]
    assert m["gradient_demo_autograd_diff"]["value"] <= 1e-15
    assert "9315234.18" in out  # the fresh-run relu activations (not the book's stale ones)
    assert "greedy:" in out and "sampled (temperature" in out


@needs_shakespeare
def test_ch14_quick_lstm_cell_loop_gives_the_same_training_as_nn_lstm():
    _, layer = run_script("ch14_lstm.py", "--quick", "--epochs", "1")
    _, cell = run_script("ch14_lstm.py", "--quick", "--epochs", "1", "--cell")
    a, b = by_metric(layer)["perplexity"], by_metric(cell)["perplexity"]
    assert b["settings"]["layer"] == "LSTMCell loop"
    assert b["value"] == pytest.approx(a["value"], rel=1e-4)


# -- the book's full settings (slow: minutes on a CPU) --------------------------------------------------


@pytest.mark.slow
def test_ch10_full_reaches_the_books_figure():
    _, recs = run_script("ch10_convolution.py", timeout=3 * 3600)
    assert_all_good(recs)
    assert by_metric(recs)["test_acc"]["value"] >= 0.877


@pytest.mark.slow
@needs_babi
def test_ch13_full_reaches_the_books_figure():
    _, recs = run_script("ch13_framework.py", timeout=3600)
    assert_all_good(recs)
    m = by_metric(recs)
    assert m["babi_accuracy"]["value"] >= 0.37
    assert m["book_figures_mismatched"]["value"] == 0


@pytest.mark.slow
@needs_shakespeare
def test_ch14_full_beats_the_books_perplexity():
    _, recs = run_script("ch14_lstm.py", timeout=3 * 3600)
    assert_all_good(recs)
    ppl = by_metric(recs)["perplexity"]
    assert ppl["value"] < 9.9
    assert ppl["epochs_to_book_best"] is not None and ppl["epochs_to_book_best"] <= 5


@pytest.mark.slow
@needs_tiny
def test_ch14_tiny_shakespeare_one_epoch():
    _, recs = run_script("ch14_lstm.py", "--text", "tiny", timeout=3 * 3600)
    ppl = by_metric(recs)["perplexity"]
    assert ppl["value"] < ppl["start"]
    assert ppl["heldout_ppl"] < 8


# -- CuPy (on a GPU machine: pytest -m gpu) --------------------------------------------------------------

QUICK = [("ch10_convolution.py", ()), ("ch13_framework.py", ()), ("ch14_lstm.py", ("--holdout", "0.1"))]


@pytest.mark.gpu
@pytest.mark.parametrize("script,extra", QUICK, ids=[s for s, _ in QUICK])
def test_quick_runs_on_cupy(script, extra):
    if not gdl.is_usable("cupy"):
        pytest.skip("CuPy is not usable here")
    if script == "ch13_framework.py" and not data_present("babi"):
        pytest.skip("bAbI data not present")
    if script == "ch14_lstm.py" and not data_present("shakespeare", "shakespear.txt"):
        pytest.skip("shakespear.txt not present")
    _, recs = run_script(script, "--quick", *extra, backend="cupy")
    assert_all_good(recs)
