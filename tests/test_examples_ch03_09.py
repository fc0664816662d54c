"""The book's chapters 3-9 as scripts (``examples/``): each runs, and its figures move the right way.

Every script is run in a subprocess with ``--quick`` (small, fast settings). It
prints machine-readable ``RESULT {json}`` lines (format: ``examples/_common.py``),
which are checked here: the figure reaches its target where one is given, and
moved from its starting value the way it should (accuracy up, error down).

The ``slow`` tests run the book's full settings and assert the book's figures
(minutes each on a CPU): ``pytest -m slow tests/test_examples_ch03_09.py``.
``GDL_EXAMPLES_BACKEND=cupy`` runs the scripts on CuPy.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from examples_support import EXAMPLES, ROOT, _common, assert_all_good, by_metric, run_script

SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not SHARED_MNIST.is_dir() and not os.environ.get("GDL_DATA_DIR"),
    reason=f"the full MNIST files are not present ({SHARED_MNIST}); the replays need the first 1,000 images",
)


# -- the RESULT format ----------------------------------------------------------------------------


def test_result_format_round_trips(capsys):
    _common.result("acc", 0.9, start=0.1, book=0.85, target=0.8, better="higher", epochs=3)
    _common.result("err", 2.0, start=1.0, better="lower")
    recs = _common.parse_results(capsys.readouterr().out)
    assert recs[0] == {"metric": "acc", "value": 0.9, "book": 0.85, "target": 0.8, "better": "higher",
                       "start": 0.1, "epochs": 3}
    assert _common.check_result(recs[0]) == []
    assert _common.check_result(recs[1]) == ["err: moved from 1.0 to 2.0, not lower"]


def test_compare_agrees_to_the_printed_digits(capsys):
    assert _common.compare("x", 0.0196, 0.01959999999999997)          # the book printed 3 digits
    assert _common.compare("x", 0.8500000000000001, 0.8500000000000001)
    assert not _common.compare("x", 0.0013135188, 0.0013135199)
    assert not _common.compare("x", 0.818, 0.81, at_least=True)
    assert "exact" in capsys.readouterr().out


# -- quick runs (the default test suite) ---------------------------------------------------------------


def test_ch03_reaches_the_books_predictions_to_float_precision():
    _, recs = run_script("ch03_forward_propagation.py", "--quick")
    assert_all_good(recs)
    m = by_metric(recs)
    assert m["book_figures_mismatched"]["value"] == 0
    assert m["max_abs_diff_vs_book"]["value"] <= 1e-15


def test_ch04_05_reproduces_printed_errors_and_checks_autograd():
    _, recs = run_script("ch04_05_gradient_descent.py", "--quick")
    assert_all_good(recs)
    m = by_metric(recs)
    assert m["book_figures_mismatched"]["value"] == 0
    assert m["max_hand_vs_autograd_diff"]["value"] <= 1e-12
    assert m["alpha_run_error"]["value"] == pytest.approx(1.485277170987127e-10, rel=1e-9)


def test_ch06_deep_network_learns_the_streetlights():
    _, recs = run_script("ch06_backpropagation.py", "--quick")
    assert_all_good(recs)
    m = by_metric(recs)
    assert m["book_figures_mismatched"]["value"] == 0
    assert m["deep_net_last_error"]["value"] < 0.0002
    assert m["deep_net_last_error"]["value"] == pytest.approx(1.5055622665134859e-05, rel=1e-9)


def test_ch08_quick_runs_learn():
    out, recs = run_script("ch08_regularization.py", "--quick")
    assert_all_good(recs)  # test accuracy rose from the untrained network's in every run
    m = by_metric(recs)
    assert set(m) == {"baseline_test_acc", "dropout_test_acc", "batch_test_acc"}
    for r in recs:
        assert r["value"] >= 0.5, r  # far above chance (0.1) after a few epochs
    assert "I:0 Train-Err:" in out


@needs_mnist
def test_ch08_book_relu_derivative_replays_the_books_first_line():
    # The book's gradient (straight-through ReLU) and starting weights give its printed I:0 line.
    out, recs = run_script("ch08_regularization.py", "--runs", "baseline", "--book-relu-deriv", "--epochs", "1")
    assert "I:0 Train-Err:0.722 Train-Acc:0.537 Test-Err:0.601 Test-Acc:0.6488" in out


def test_ch09_quick_run_learns_and_checks_autograd():
    _, recs = run_script("ch09_activations.py", "--quick")
    assert_all_good(recs)
    m = by_metric(recs)
    assert m["test_acc"]["value"] >= 0.5
    assert m["hand_vs_autograd_diff"]["value"] <= 1e-10


@needs_mnist
def test_ch09_book_gradient_replays_the_books_first_line():
    # The book's update rule (its hidden-layer gradient, its dropout masks) on gdl: its I:0 line.
    out, _ = run_script("ch09_activations.py", "--book-gradient", "--epochs", "1")
    assert "I:0 Test-Acc:0.394 Train-Acc:0.156" in out


# -- the book's full settings (slow: minutes on a CPU) --------------------------------------------------


@pytest.mark.slow
def test_ch08_full_reaches_the_books_figures():
    _, recs = run_script("ch08_regularization.py", timeout=3 * 3600)
    assert_all_good(recs)  # dropout >= 0.818 and batch >= 0.80 at the book's last printed epoch
    m = by_metric(recs)
    base = m["baseline_test_acc"]
    # Overfitting: train accuracy 100 %, test accuracy below its early peak. With the true
    # ReLU derivative this ends near 0.83, above the book's 0.7073 (see the script's notes).
    assert base["train_acc"] >= 0.99
    assert base["peak_test_acc"] - base["final_test_acc"] >= 0.02
    assert base["value"] >= 0.70
    assert m["dropout_test_acc"]["value"] >= 0.818
    assert m["batch_test_acc"]["value"] >= 0.80


@pytest.mark.slow
def test_ch08_book_relu_derivative_replays_the_books_overfit_run():
    _, recs = run_script("ch08_regularization.py", "--runs", "baseline", "--book-relu-deriv", timeout=3 * 3600)
    base = by_metric(recs)["baseline_test_acc"]
    assert base["value"] == pytest.approx(0.7073, abs=0.002)
    assert base["peak_test_acc"] == pytest.approx(0.8114, abs=0.002)
    assert base["train_acc"] == 1.0


@pytest.mark.slow
def test_ch09_full_with_the_true_gradient():
    # The true gradient at the book's equivalent learning rate (0.02 on the mean cross-entropy)
    # levels off near 0.867, just under the book's 0.8701: the book's figure owes about 0.003 to
    # its hidden-layer gradient bug (see the script's notes and the replay test below).
    _, recs = run_script("ch09_activations.py", timeout=3 * 3600)
    m = by_metric(recs)["test_acc"]
    assert m["value"] >= 0.86
    assert m["value"] > m["start"]


@pytest.mark.slow
def test_ch09_book_gradient_replays_the_books_figures():
    _, recs = run_script("ch09_activations.py", "--book-gradient", timeout=3 * 3600)
    assert_all_good(recs)
    m = by_metric(recs)["test_acc"]
    assert m["value"] >= 0.870
    assert m["value"] == pytest.approx(0.8701, abs=0.002)


# -- CuPy (on a GPU machine: pytest -m gpu) --------------------------------------------------------------

QUICK_SCRIPTS = ["ch03_forward_propagation.py", "ch04_05_gradient_descent.py", "ch06_backpropagation.py",
                 "ch08_regularization.py", "ch09_activations.py"]


@pytest.mark.gpu
@pytest.mark.parametrize("script", QUICK_SCRIPTS)
def test_quick_runs_on_cupy(script):
    import gdl

    if not gdl.is_usable("cupy"):
        pytest.skip("CuPy is not usable here")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--backend", "cupy", "--quick"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = _common.parse_results(proc.stdout)
    assert recs
    assert_all_good(recs)
