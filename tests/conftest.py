"""Test configuration: every backend-aware test runs on each selected backend.

``GDL_TEST_BACKENDS`` (comma-separated) selects the backends; by default all
usable ones (numpy and array_api_strict on a CPU machine, cupy too on a GPU one).
``nox -s tests_cupy`` sets it to ``cupy`` and fails if CuPy cannot run.

Under ``CI`` the hypothesis tests draw the same examples on every run (``derandomize``):
a commit that passed once passes again. Elsewhere they draw new ones each run, to keep
finding bugs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

import gdl

settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def selected_backends() -> list[str]:
    env = os.environ.get("GDL_TEST_BACKENDS")
    if env:
        names = [n.strip() for n in env.split(",") if n.strip()]
        for name in names:
            gdl.get_backend_object(name)  # fail loudly: a requested backend must work
        return names
    return [n for n in ("numpy", "array_api_strict", "cupy") if gdl.is_usable(n)]


BACKENDS = selected_backends()


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The backend name; new tensors are created on it during the test."""
    with gdl.use_backend(request.param):
        gdl.manual_seed(0)
        yield request.param


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data sets not present at {SHARED_DATA}")
    return SHARED_DATA


def pytest_report_header(config):
    return f"gdl test backends: {', '.join(BACKENDS)}"
