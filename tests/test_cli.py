"""The ``gdl`` command, run as a user would: through a subprocess."""

import os
import signal
import subprocess
import sys
import time

import pytest

import gdl

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", PYTHONUNBUFFERED="1")


def gdl_cmd(*args, timeout=240, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "gdl", *args], capture_output=True, text=True, timeout=timeout, env=ENV, cwd=cwd
    )


def test_info_lists_version_and_backends():
    out = gdl_cmd("info")
    assert out.returncode == 0, out.stderr
    assert f"gdl {gdl.__version__}" in out.stdout
    for name in ("numpy", "cupy", "array_api_strict"):
        assert name in out.stdout


def test_short_training_run_learns(tmp_path):
    out = gdl_cmd("train", "mnist", "--epochs", "1", "--batch-size", "100", "--quiet", "--seed", "3")
    assert out.returncode == 0, out.stderr
    assert "epoch 1:" in out.stdout and "test acc" in out.stdout
    final = float(out.stdout.strip().splitlines()[-1].split()[-1])
    assert final > 0.80  # one epoch on the embedded 10,000 images


def test_save_then_resume_continues_from_the_checkpoint(tmp_path):
    ckpt = tmp_path / "run.safetensors"
    first = gdl_cmd("train", "mnist", "--epochs", "1", "--quiet", "--save", str(ckpt), "--model", "mlp")
    assert first.returncode == 0, first.stderr
    assert ckpt.is_file()
    second = gdl_cmd("train", "mnist", "--epochs", "2", "--quiet", "--resume", str(ckpt))
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stdout and "after epoch 1" in second.stdout
    assert "epoch 2:" in second.stdout and "epoch 1:" not in second.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--backend", "tpu"], "unknown backend 'tpu'"),
        (["--epochs", "-2"], "--epochs must be >= 0"),
        (["--batch-size", "0"], "--batch-size must be >= 1"),
        (["--resume", "/nonexistent/ckpt.safetensors"], "checkpoint file not found"),
        (["--model", "transformer"], "invalid choice"),
    ],
)
def test_bad_options_give_one_line_errors(args, message):
    out = gdl_cmd("train", "mnist", *args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_data_folder_without_files_is_a_one_line_error(tmp_path):
    out = gdl_cmd("train", "mnist", "--data", "full", "--data-dir", str(tmp_path))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "mnist" in out.stderr.lower()
    assert len(out.stderr.strip().splitlines()) == 1


def test_corrupt_checkpoint_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a checkpoint")
    out = gdl_cmd("train", "mnist", "--resume", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "bad.safetensors" in out.stderr


def test_plot_without_matplotlib_is_clear(tmp_path):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        out = gdl_cmd("train", "mnist", "--epochs", "1", "--plot", str(tmp_path / "c.png"))
        assert out.returncode == 2 and "matplotlib" in out.stderr
    else:
        out = gdl_cmd("train", "mnist", "--epochs", "1", "--quiet", "--plot", str(tmp_path / "c.png"))
        assert out.returncode == 0 and (tmp_path / "c.png").stat().st_size > 1000


def test_ctrl_c_leaves_the_last_completed_epoch_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gdl", "train", "mnist", "--epochs", "50", "--quiet", "--save", str(ckpt)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        deadline = time.time() + 180
        while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert ckpt.exists(), "no checkpoint after the first epoch"
        time.sleep(0.5)  # interrupt somewhere inside a later epoch (or while saving)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    ckpt_state = gdl.load_checkpoint(ckpt)
    assert ckpt_state["epoch"] >= 1
    model = __import__("gdl.cli", fromlist=["build_model"]).build_model("mlp")
    gdl.load_checkpoint(ckpt, model=model)  # loads into a fresh model
