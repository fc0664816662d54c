"""The harness's arithmetic: ratios pair the windows of one round.

Run: ``python -m pytest benchmarks/test_run.py`` (no PyTorch needed).
"""

from __future__ import annotations

from benchmarks.run import ratios


def _ok(windows):
    return {"status": "ok", "windows_ms": windows, "ms_per_step": sorted(windows)[len(windows) // 2]}


def test_paired_ratio_cancels_a_machine_that_changes_speed_between_rounds():
    # gdl takes 1.1x hand in every round, while the machine runs 2x slower in rounds 2 and 3
    hand = [1.0, 2.0, 2.0, 1.0, 1.0]
    res = {"handwritten": _ok(hand), "gdl": _ok([1.1 * t for t in hand]), "torch": {"status": "unavailable"}}
    assert ratios(res)["gdl/handwritten"] == 1.1
    assert ratios(res)["gdl/torch"] is None


def test_ratio_of_medians_when_rounds_do_not_pair():
    hand = [1.0, 3.0, 2.0]
    gdl = [2.0, 2.5, 3.5, 4.0]  # a different number of windows: no pairing
    res = {"handwritten": _ok(hand), "gdl": _ok(gdl), "torch": {"status": "error"}}
    assert ratios(res)["gdl/handwritten"] == round(3.5 / 2.0, 3)
    # and on request, even when they pair
    res["gdl"] = _ok([2.0, 9.0, 3.0])
    assert ratios(res, paired=False)["gdl/handwritten"] == 1.5
    assert ratios(res)["gdl/handwritten"] == 2.0  # the median of 2/1, 9/3, 3/2


def test_phases_run_whole_training_steps():
    import numpy as np

    from benchmarks.phases import PHASES, time_phases
    from benchmarks.run import build_impl

    impl = build_impl("gdl", "mlp_small", "cpu", threads=1)
    before = np.array(impl.obj.model.fc1.weight.numpy())
    ms = time_phases(impl, steps=2, warmup=1)
    assert set(ms) == {*PHASES, "sum", "free_step"}
    assert all(ms[p] > 0 for p in (*PHASES, "free_step"))
    assert abs(ms["sum"] - sum(ms[p] for p in PHASES)) < 1e-9
    # five updates ran (1 warm-up, 2 timed by phase, 2 free-running): the weights moved, a gradient is there
    assert not np.array_equal(before, impl.obj.model.fc1.weight.numpy())
    assert impl.obj.model.fc1.weight.grad is not None
