"""Automation: ``nox -s tests``, ``tests_strict``, ``tests_cupy``, ``lint``, ``examples``, ``benchmarks``."""

from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session):
    """The suite on NumPy (backend-aware tests also run on array_api_strict)."""
    session.install("-e", ".[test,cli]")
    session.run("pytest", *session.posargs)


@nox.session
def tests_strict(session):
    """The whole suite on array_api_strict: proves no NumPy-ism left gdl/backends/."""
    session.install("-e", ".[test,cli]")
    session.run(
        "pytest", *session.posargs,
        env={"GDL_BACKEND": "array_api_strict", "GDL_TEST_BACKENDS": "array_api_strict"},
    )


@nox.session
def tests_cupy(session):
    """The whole suite on CuPy. Fails (does not skip) when CuPy or a GPU is missing."""
    session.install("-e", ".[test,cli]")
    session.run("python", "-c", "import gdl; gdl.set_backend('cupy'); print(gdl.get_backend_object().device)")
    session.run(
        "pytest", "-m", "not slow", *session.posargs,
        env={"GDL_BACKEND": "cupy", "GDL_TEST_BACKENDS": "cupy"},
    )


@nox.session
def lint(session):
    session.install("ruff")
    session.run("ruff", "check", "gdl", "tests", "examples", "benchmarks")


@nox.session
def examples(session):
    """The book's chapters with their full settings (long: see examples/README.md)."""
    session.install("-e", ".[test,cli,federated]")
    files = sorted(str(p) for p in Path("tests").glob("test_examples_*.py"))
    session.run("pytest", "-m", "slow", *files, *session.posargs)


@nox.session
def benchmarks(session):
    """One training step of mlp_small, mlp_large, cnn and lstm: gdl vs hand-written
    NumPy/CuPy vs PyTorch eager, interleaved, median of timed windows, with
    gdl/hand-written and gdl/PyTorch ratios and peak memory (benchmarks/README.md).
    torch is benchmark-only. Options after --, e.g.
    nox -s benchmarks -- --device gpu --json benchmarks/results/gpu.json --markdown benchmarks/results/gpu.md"""
    session.install("-e", ".[test]")
    session.install("torch==2.13.0")
    session.run("pytest", "-q", "benchmarks/test_baselines.py", "benchmarks/test_run.py")
    session.run("python", "-m", "benchmarks.run", *(session.posargs or ["--device", "cpu"]))
