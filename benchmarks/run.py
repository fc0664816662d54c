"""Time one training step of each workload in gdl, hand-written NumPy/CuPy and PyTorch.

    python -m benchmarks.run --device cpu|gpu [--workloads mlp_small cnn ...]
        [--repeats N] [--window SECONDS] [--threads N] [--json out.json]
        [--markdown out.md] [--no-memory] [--overhead]

Method (see benchmarks/README.md):

- All implementations of a workload start from the same weights and batch. The
  first step of each is run untimed and its loss recorded, so a wrong
  implementation shows up as a different ``first_loss``.
- Warm-up: each implementation steps until it has run ``--warmup`` steps and at
  least a quarter of ``--window`` seconds; that also sizes its timed window
  (steps per window ~ ``--window`` seconds).
- Timing: ``--repeats`` rounds; in each round every implementation runs one timed
  window, round-robin, starting one place later each round. The GPU (CuPy and
  torch) is synchronised before and after every window. Reported: the median
  time per step over the windows (and min/max).
- Memory: CPU: peak RSS growth of a fresh subprocess per implementation (after
  its imports: the high-water mark is reset, then the model is built and a few
  steps run); GPU: in-use peak of the CuPy pool (a memory hook) or
  ``torch.cuda.max_memory_allocated``, with each implementation built afresh.

Nothing is imported before the thread counts are set: the BLAS libraries read
``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS`` when loaded.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

IMPLS = ("handwritten", "torch", "gdl")
WORKLOAD_NAMES = ("mlp_small", "mlp_large", "cnn", "lstm")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_threads(n: int) -> dict:
    """Set the thread counts for every library; call before importing NumPy/torch."""
    before = {v: os.environ.get(v) for v in THREAD_VARS}
    for v in THREAD_VARS:
        os.environ[v] = str(n)
    return before


def label(impl: str, device: str) -> str:
    if impl == "handwritten":
        return "hand-written " + ("NumPy" if device == "cpu" else "CuPy")
    if impl == "torch":
        return "PyTorch " + ("CPU" if device == "cpu" else "CUDA")
    return "gdl (" + ("numpy" if device == "cpu" else "cupy") + ")"


# -- implementations ---------------------------------------------------------------


class Unavailable(Exception):
    """The implementation cannot run here (library or API missing)."""


class Impl:
    """Uniform wrapper: ``step()``, ``sync()``, ``loss_value()``."""

    def __init__(self, name, device, obj, sync):
        self.name, self.device, self.obj, self._sync = name, device, obj, sync

    def step(self):
        self.obj.step()

    def sync(self):
        self._sync()

    def loss_value(self):
        return self.obj.loss_value()


def _cupy_sync():
    import cupy

    cupy.cuda.get_current_stream().synchronize()


def _torch_cuda_sync():
    import torch

    torch.cuda.synchronize()


def _noop():
    pass


def build_impl(
    impl: str, workload_name: str, device: str, threads: int, seed: int = 0, batch_size: int | None = None
) -> Impl:
    """Build one implementation; raises :class:`Unavailable` when it cannot run here.

    ``batch_size`` overrides the workload's (the memory probe's warm-up uses 2).
    """
    import dataclasses

    from benchmarks.workloads import WORKLOADS, init_params, make_batch

    w = WORKLOADS[workload_name]
    if batch_size is not None:
        w = dataclasses.replace(w, batch=batch_size)
    params, batch = init_params(workload_name, seed), make_batch(workload_name, seed + 1, w.batch)
    if impl == "handwritten":
        from benchmarks import handwritten

        xp = "numpy" if device == "cpu" else "cupy"
        try:
            handwritten.get_xp(xp)
        except ImportError as exc:
            raise Unavailable(f"{xp} is not installed ({exc})") from exc
        return Impl(
            impl,
            device,
            handwritten.build(w, params, batch, xp, seed),
            _noop if device == "cpu" else _cupy_sync,
        )
    if impl == "torch":
        try:
            import torch
        except ImportError as exc:
            raise Unavailable(f"torch is not installed ({exc})") from exc
        torch.set_num_threads(threads)
        if device == "gpu" and not torch.cuda.is_available():
            raise Unavailable("torch has no CUDA device (CPU-only build or no GPU)")
        from benchmarks import torch_impl

        return Impl(
            impl,
            device,
            torch_impl.build(w, params, batch, "cpu" if device == "cpu" else "cuda", seed),
            _noop if device == "cpu" else _torch_cuda_sync,
        )
    if impl == "gdl":
        backend = "numpy" if device == "cpu" else "cupy"
        try:
            from benchmarks import gdl_impl
        except (ImportError, AttributeError) as exc:
            raise Unavailable(f"gdl import failed: {type(exc).__name__}: {exc}") from exc
        try:
            obj = gdl_impl.build(w, params, batch, backend, seed)
        except (ImportError, AttributeError, NotImplementedError) as exc:
            raise Unavailable(f"gdl API missing: {type(exc).__name__}: {exc}") from exc
        except RuntimeError as exc:
            if "not usable" in str(exc):  # gdl's message for a missing backend library
                raise Unavailable(str(exc)) from exc
            raise
        return Impl(impl, device, obj, obj.sync)
    raise ValueError(f"unknown implementation {impl!r}")


def sync_all(device: str):
    """Wait for all queued GPU work of every library (no-op on CPU)."""
    if device != "gpu":
        return
    if "cupy" in sys.modules:
        _cupy_sync()
    if "torch" in sys.modules:
        import torch

        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()


def _short(exc: BaseException) -> str:
    msg = f"{type(exc).__name__}: {exc}"
    return msg if len(msg) < 300 else msg[:297] + "..."


# -- timing ------------------------------------------------------------------------------


def time_workload(workload_name, device, impls, args, log):
    """Time every implementation of one workload, interleaved. Returns a result dict."""
    res = {}
    live = {}
    for name in impls:
        try:
            live[name] = build_impl(name, workload_name, device, args.threads, args.seed)
            res[name] = {"status": "ok"}
        except Unavailable as exc:
            res[name] = {"status": "unavailable", "reason": str(exc)}
        except Exception as exc:  # a bug in an implementation must not stop the others
            res[name] = {"status": "error", "reason": _short(exc), "traceback": traceback.format_exc()}
        if res[name]["status"] != "ok":
            log(f"  {label(name, device)}: {res[name]['status']}: {res[name]['reason']}")

    def fail(name, exc):
        res[name] = {"status": "error", "reason": _short(exc), "traceback": traceback.format_exc()}
        live.pop(name, None)
        log(f"  {label(name, device)}: error: {res[name]['reason']}")

    # first step from the shared initial weights: the loss must agree
    for name in list(live):
        try:
            live[name].step()
            sync_all(device)
            res[name]["first_loss"] = live[name].loss_value()
        except Exception as exc:
            fail(name, exc)

    # warm-up, and size each implementation's window
    steps_per_window = {}
    for name in list(live):
        impl = live[name]
        try:
            sync_all(device)
            n, t0 = 0, time.perf_counter()
            while n < args.warmup or time.perf_counter() - t0 < args.window / 4:
                impl.step()
                n += 1
                sync_all(device)
            per_step = (time.perf_counter() - t0) / n
            steps_per_window[name] = max(1, min(args.max_steps, round(args.window / per_step)))
        except Exception as exc:
            fail(name, exc)

    # timed windows, round-robin, rotating the starting implementation
    times = {name: [] for name in live}
    for r in range(args.repeats):
        order = list(live)
        if not order:
            break
        k = r % len(order)
        for name in order[k:] + order[:k]:
            if name not in live:
                continue
            impl, n = live[name], steps_per_window[name]
            try:
                gc.collect()
                sync_all(device)
                t0 = time.perf_counter()
                for _ in range(n):
                    impl.step()
                sync_all(device)
                times[name].append((time.perf_counter() - t0) / n)
            except Exception as exc:
                fail(name, exc)

    for name in list(live):
        ts = times[name]
        res[name].update(
            ms_per_step=1e3 * statistics.median(ts),
            ms_min=1e3 * min(ts),
            ms_max=1e3 * max(ts),
            windows_ms=[round(1e3 * t, 4) for t in ts],
            steps_per_window=steps_per_window[name],
        )
    live.clear()
    gc.collect()
    return res


# -- memory ------------------------------------------------------------------------------


def _proc_status_kb(field: str):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_hwm() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _malloc_trim():
    """Give freed heap memory back to the OS (glibc), so RSS baselines are honest."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def memory_probe(workload_name, impl, device, threads, seed, steps):
    """Run inside a fresh process: peak RSS growth of building + stepping one impl.

    1. import the implementation's libraries;
    2. warm the library up with the same workload at batch size 2 (two steps), then
       free it: this loads what a library initialises lazily on first use (e.g.
       PyTorch's oneDNN/MKL kernels and OpenMP thread pool), which is a per-process
       cost, not the workload's; its size is reported as ``first_use_mb``;
    3. reset the RSS high-water mark, build the full-size model and batch, run
       ``steps`` training steps; ``peak_mb`` = high-water mark - RSS before 3.
    """
    import numpy  # noqa: F401

    for lib in {"torch": ("torch",), "gdl": ("gdl",)}.get(impl, ()):
        try:
            __import__(lib)
        except ImportError:
            pass
    gc.collect()
    _malloc_trim()
    after_import_kb = _proc_status_kb("VmRSS")
    try:
        tiny = build_impl(impl, workload_name, device, threads, seed, batch_size=2)
        for _ in range(2):
            tiny.step()
        del tiny
        gc.collect()
        _malloc_trim()
        before_kb = _proc_status_kb("VmRSS")
        reset = _reset_hwm()
        obj = build_impl(impl, workload_name, device, threads, seed)
        for _ in range(steps):
            obj.step()
    except Unavailable as exc:
        return {"status": "unavailable", "reason": str(exc)}
    except Exception as exc:
        return {"status": "error", "reason": _short(exc)}
    peak_kb = _proc_status_kb("VmHWM") if reset else None
    if peak_kb is not None:
        method = "VmHWM (reset after a batch-2 warm-up) minus VmRSS before the build"
    else:  # no /proc or no reset: the process-wide peak, imports included
        import resource

        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        method = "ru_maxrss (includes imports and warm-up) minus VmRSS before the build"
    return {
        "status": "ok",
        "method": method,
        "rss_after_import_mb": after_import_kb / 1024 if after_import_kb else None,
        "first_use_mb": (before_kb - after_import_kb) / 1024 if before_kb and after_import_kb else None,
        "peak_rss_mb": peak_kb / 1024,
        "peak_mb": (peak_kb - (before_kb or 0)) / 1024,
    }


def memory_cpu(workload_name, impl, args):
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--_memory-probe",
        workload_name,
        impl,
        "--device",
        "cpu",
        "--threads",
        str(args.threads),
        "--seed",
        str(args.seed),
        "--memory-steps",
        str(args.memory_steps),
    ]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=600, cwd=root, env=os.environ.copy()
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            return {"status": "error", "reason": (proc.stderr or proc.stdout)[-300:]}
        return json.loads(lines[-1])
    except Exception as exc:
        return {"status": "error", "reason": _short(exc)}


def memory_gpu(workload_name, impl, args):
    """In-process: each implementation built afresh; the others already freed."""
    gc.collect()
    sync_all("gpu")
    out = {}
    hook = None
    try:
        import cupy
    except ImportError:
        cupy = None
    if cupy is not None:
        pool = cupy.get_default_memory_pool()
        pool.free_all_blocks()
        pool_base = pool.total_bytes()

        class PeakHook(cupy.cuda.MemoryHook):
            name = "gdl_benchmarks_peak"

            def __init__(self):
                self.cur = 0
                self.peak = 0

            def malloc_postprocess(self, **kw):
                self.cur += kw["mem_size"]
                self.peak = max(self.peak, self.cur)

            def free_postprocess(self, **kw):
                self.cur -= kw["mem_size"]

        hook = PeakHook()
    torch = sys.modules.get("torch")
    if impl == "torch" and torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        torch_base = torch.cuda.memory_allocated()
        torch_base_reserved = torch.cuda.memory_reserved()
    try:
        if hook is not None and impl != "torch":
            with hook:
                obj = build_impl(impl, workload_name, "gpu", args.threads, args.seed)
                for _ in range(args.memory_steps):
                    obj.step()
                obj.sync()
                del obj
                gc.collect()
        else:
            obj = build_impl(impl, workload_name, "gpu", args.threads, args.seed)
            for _ in range(args.memory_steps):
                obj.step()
            obj.sync()
            del obj
    except Unavailable as exc:
        return {"status": "unavailable", "reason": str(exc)}
    except Exception as exc:
        return {"status": "error", "reason": _short(exc)}
    if impl == "torch":
        out.update(
            status="ok",
            method="torch.cuda.max_memory_allocated (growth)",
            peak_mb=(torch.cuda.max_memory_allocated() - torch_base) / 2**20,
            reserved_mb=(torch.cuda.max_memory_reserved() - torch_base_reserved) / 2**20,
        )
    else:
        out.update(
            status="ok",
            method="CuPy pool in-use peak (MemoryHook)",
            peak_mb=hook.peak / 2**20,
            pool_held_mb=(pool.total_bytes() - pool_base) / 2**20,
        )
        pool.free_all_blocks()
    return out


# -- environment ------------------------------------------------------------------------


def _openblas_info():
    """Thread count and core type that NumPy's OpenBLAS actually uses (best effort)."""
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            libs = {ln.split()[-1] for ln in f if "openblas" in ln.lower() and ln.split()[-1].startswith("/")}
    except OSError:
        return {}
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_", ""):
            for suffix in ("64_", ""):
                try:
                    nthreads = getattr(lib, f"{prefix}get_num_threads{suffix}")
                    corename = getattr(lib, f"{prefix}get_corename{suffix}")
                except AttributeError:
                    continue
                corename.restype = ctypes.c_char_p
                return {"library": os.path.basename(path), "threads": nthreads(), "core": corename().decode()}
    return {}


def environment(device, threads, env_before):
    import numpy as np

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "usable_cores": usable_cores(),
        "loadavg_start": _loadavg(),
        "threads": threads,
        "thread_env_before": env_before,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "numpy": np.__version__,
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        pass
    info["openblas_runtime"] = _openblas_info()
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if device == "gpu" and torch.cuda.is_available():
            info["torch_cuda"] = torch.version.cuda
            info["cudnn"] = torch.backends.cudnn.version()
    except ImportError:
        info["torch"] = None
    if device == "gpu":
        try:
            import cupy

            info["cupy"] = cupy.__version__
            props = cupy.cuda.runtime.getDeviceProperties(0)
            info["gpu"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            info["cuda_runtime"] = cupy.cuda.runtime.runtimeGetVersion()
        except Exception as exc:
            info["cupy"] = f"unavailable ({_short(exc)})"
    try:
        import gdl  # noqa: F401

        info["gdl"] = getattr(gdl, "__version__", "present")
    except Exception as exc:
        info["gdl"] = f"unavailable ({_short(exc)})"
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=os.path.dirname(os.path.abspath(__file__)),
            timeout=10,
        )
        info["git"] = rev.stdout.strip() or None
    except Exception:
        info["git"] = None
    return info


def _loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


# -- reporting -------------------------------------------------------------------------------


def ratios(res, paired: bool = True):
    """Time ratios between implementations.

    ``paired=True`` (what the tables show): the median over rounds of the ratio of
    the two windows timed in the same round. The implementations of one round run
    back to back, so a machine that speeds up or slows down between rounds (a
    shared one does, by 20 % or more) cancels out; the ratio of the two medians
    (``paired=False``, also kept in the JSON) does not. Falls back to the ratio of
    medians when the rounds do not pair up (an implementation failed midway).
    """

    def windows(name):
        r = res.get(name, {})
        return r.get("windows_ms") if r.get("status") == "ok" else None

    out = {}
    for num, den, key in (
        ("gdl", "handwritten", "gdl/handwritten"),
        ("gdl", "torch", "gdl/torch"),
        ("handwritten", "torch", "handwritten/torch"),
    ):
        a, b = windows(num), windows(den)
        if not a or not b:
            out[key] = None
        elif paired and len(a) == len(b):
            out[key] = round(statistics.median(x / y for x, y in zip(a, b)), 3)
        else:
            out[key] = round(res[num]["ms_per_step"] / res[den]["ms_per_step"], 3)
    return out


def _fmt_ms(r):
    if r.get("status") != "ok":
        return r.get("status", "-")
    return f"{r['ms_per_step']:.3f}"


def _fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def _fmt_mem(r):
    m = r.get("memory") or {}
    return f"{m['peak_mb']:.1f}" if m.get("status") == "ok" else "-"


def table(report):
    device = report["device"]
    cols = [label(i, device) for i in report["impls"]]
    head = ["workload"] + [f"{c} ms" for c in cols] + ["gdl/hand", "gdl/torch", "hand/torch"]
    if report["settings"]["memory"]:
        head += [f"{c} MB" for c in cols]
    rows = []
    for w, res in report["results"].items():
        row = [w] + [_fmt_ms(res[i]) for i in report["impls"]]
        rt = res["ratios"]
        row += [
            _fmt_ratio(rt["gdl/handwritten"]),
            _fmt_ratio(rt["gdl/torch"]),
            _fmt_ratio(rt["handwritten/torch"]),
        ]
        if report["settings"]["memory"]:
            row += [_fmt_mem(res[i]) for i in report["impls"]]
        rows.append(row)
    return head, rows


def text_table(report) -> str:
    head, rows = table(report)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def line(r):
        return "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))

    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def markdown(report) -> str:
    env, s = report["environment"], report["settings"]
    head, rows = table(report)
    md = [f"# gdl benchmarks: {report['device'].upper()}", ""]
    where = env.get("gpu") if report["device"] == "gpu" else env.get("cpu")
    md.append(
        f"- date: {env['date']}; machine: {where}; {env['usable_cores']} usable cores, "
        f"{env['threads']} threads for every library"
    )
    md.append(
        f"- numpy {env['numpy']} ({env.get('numpy_blas')}; runtime {env.get('openblas_runtime')}), "
        f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE')}; torch {env.get('torch')}"
        + (f"; cupy {env.get('cupy')}" if report["device"] == "gpu" else "")
        + f"; gdl {env.get('gdl')} (git {env.get('git')})"
    )
    md.append(
        f"- load average (1, 5, 15 min) at start {env.get('loadavg_start')}, "
        f"at end {env.get('loadavg_end')}: other work on the machine slows every column"
    )
    md.append(
        f"- median of {s['repeats']} timed windows of ~{s['window']} s per implementation, "
        f"interleaved round-robin after warm-up; GPU synchronised around each window; "
        f"ratios: median over rounds of the two windows' ratio in the same round"
    )
    if s["memory"]:
        md.append(
            "- memory: "
            + (
                "peak RSS growth of a fresh process per implementation (after its imports "
                "and a batch-2 warm-up; see benchmarks/README.md)"
                if report["device"] == "cpu"
                else "in-use peak of the CuPy pool / torch.cuda.max_memory_allocated"
            )
        )
    md += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    md.append("")
    notes = []
    for w, res in report["results"].items():
        losses = {
            label(i, report["device"]): res[i].get("first_loss")
            for i in report["impls"]
            if res[i].get("first_loss") is not None
        }
        if losses:
            notes.append(f"- {w} first-step loss: " + ", ".join(f"{k} {v:.5f}" for k, v in losses.items()))
        for i in report["impls"]:
            if res[i].get("status") != "ok":
                notes.append(
                    f"- {w} / {label(i, report['device'])}: {res[i]['status']}: {res[i].get('reason')}"
                )
    md += notes
    if report.get("overhead"):
        from benchmarks.overhead import markdown_table

        md += ["", "## Python overhead per op", "", markdown_table(report["overhead"])]
    return "\n".join(md) + "\n"


def check_losses(res, workload_name, log):
    """Warn when first-step losses from identical weights disagree (dropout aside)."""
    losses = {
        i: r["first_loss"] for i, r in res.items() if isinstance(r, dict) and r.get("first_loss") is not None
    }
    if len(losses) < 2:
        return
    ref = next(iter(losses.values()))
    tol = 0.05 if workload_name == "mlp_small" else 1e-3  # dropout masks differ
    for v in losses.values():
        if abs(v - ref) > tol * max(1.0, abs(ref)):
            log(f"  WARNING: {workload_name}: first-step losses disagree: {losses}")
            return


# -- main --------------------------------------------------------------------------------


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--workloads", nargs="+", choices=WORKLOAD_NAMES, default=list(WORKLOAD_NAMES))
    ap.add_argument(
        "--impls",
        nargs="+",
        choices=IMPLS,
        default=list(IMPLS),
        help="implementations to time (default: all)",
    )
    ap.add_argument("--repeats", type=int, default=7, help="timed windows per implementation (median)")
    ap.add_argument("--window", type=float, default=0.3, help="seconds per timed window (about)")
    ap.add_argument("--warmup", type=int, default=3, help="minimum warm-up steps")
    ap.add_argument("--max-steps", type=int, default=1000, help="cap on steps per window")
    ap.add_argument(
        "--threads",
        type=int,
        default=usable_cores(),
        help="threads for NumPy's BLAS, torch and gdl (default: usable cores)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", help="write the full results as JSON")
    ap.add_argument("--markdown", metavar="PATH", help="write the table as markdown")
    ap.add_argument("--no-memory", dest="memory", action="store_false", help="skip the memory pass")
    ap.add_argument("--memory-steps", type=int, default=2)
    ap.add_argument("--overhead", action="store_true", help="also run benchmarks/overhead.py")
    ap.add_argument("--_memory-probe", nargs=2, metavar=("WORKLOAD", "IMPL"), help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    env_before = set_threads(args.threads)
    if args._memory_probe:
        w, impl = args._memory_probe
        print(json.dumps(memory_probe(w, impl, args.device, args.threads, args.seed, args.memory_steps)))
        return 0

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    report = {
        "device": args.device,
        "impls": list(args.impls),
        "settings": {
            "repeats": args.repeats,
            "window": args.window,
            "warmup": args.warmup,
            "threads": args.threads,
            "memory": args.memory,
            "memory_steps": args.memory_steps,
            "seed": args.seed,
        },
        "results": {},
    }
    if args.device == "cpu":
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    report["environment"] = environment(args.device, args.threads, env_before)
    load = report["environment"].get("loadavg_start")
    if load and load[0] > report["environment"]["usable_cores"]:
        log(
            f"WARNING: load average {load[0]} exceeds the {report['environment']['usable_cores']} usable "
            f"cores: other processes compete for the CPU; timings are rough (try --threads 1)"
        )
    for w in args.workloads:
        log(f"{w}: timing {', '.join(args.impls)} on {args.device} ...")
        res = time_workload(w, args.device, args.impls, args, log)
        check_losses(res, w, log)
        if args.memory:
            for i in args.impls:
                if res[i]["status"] == "ok":
                    res[i]["memory"] = (memory_cpu if args.device == "cpu" else memory_gpu)(w, i, args)
        res["ratios"] = ratios(res)
        res["ratios_of_medians"] = ratios(res, paired=False)
        report["results"][w] = res
        log("  " + ", ".join(f"{label(i, args.device)} {_fmt_ms(res[i])} ms" for i in args.impls))
    report["environment"]["loadavg_end"] = _loadavg()
    if args.overhead:
        from benchmarks import overhead

        report["overhead"] = overhead.run_all(args.device)
    print(text_table(report))
    if report.get("overhead"):
        from benchmarks.overhead import text_table as ot

        print()
        print(ot(report["overhead"]))
    if args.json:
        _write(args.json, json.dumps(report, indent=1, default=str) + "\n")
    if args.markdown:
        _write(args.markdown, markdown(report))
    return 0


def _write(path, text):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
