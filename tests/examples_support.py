"""Shared by the tests of ``examples/``: run a chapter script, read its RESULT lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED_DATA = ROOT.parent / "shared" / "data"
BACKEND = os.environ.get("GDL_EXAMPLES_BACKEND", "numpy")

sys.path.insert(0, str(EXAMPLES))
import _common  # noqa: E402  (the RESULT format lives beside the scripts)

sys.path.remove(str(EXAMPLES))


def script_env(**extra) -> dict:
    """The environment for a script: this checkout importable, one BLAS thread."""
    env = dict(os.environ)
    env.pop("GDL_BACKEND", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    # The quick runs are small: BLAS threads only add contention on a busy 2-core machine.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.update(extra)
    return env


def run_script(name: str, *args: str, backend: str = BACKEND, timeout: float = 600, env: dict | None = None,
               python_args: tuple = ()) -> tuple[str, list[dict]]:
    """Run ``examples/name`` with ``args``; assert it exits 0 and prints RESULT lines."""
    cmd = [sys.executable, *python_args, str(EXAMPLES / name), "--backend", backend, *args]
    proc = subprocess.run(cmd, cwd=ROOT, env=env or script_env(), capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{name} {' '.join(args)} exited {proc.returncode}:\n{out[-4000:]}"
    records = _common.parse_results(proc.stdout)
    assert records, f"{name} printed no RESULT line:\n{out[-4000:]}"
    return proc.stdout, records


def by_metric(records: list[dict]) -> dict[str, dict]:
    return {r["metric"]: r for r in records}


def assert_all_good(records: list[dict]) -> None:
    problems = [p for r in records for p in _common.check_result(r)]
    assert not problems, "\n".join(problems)
