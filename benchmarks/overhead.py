"""Python overhead per op of gdl's autograd engine, against the raw array calls.

    python -m benchmarks.overhead --device cpu|gpu [--ops 1000] [--repeats 30] [--json out.json]

A chain of ``--ops`` small ops on a (16,) float32 tensor, ``x = x * 1.0001 + 0.0001``
(two ops per line), is run

- raw: the same calls on bare NumPy/CuPy arrays; its "backward" is the hand-written
  chain rule (``g = g * 1.0001`` per multiply; an add passes the gradient through),
- gdl under ``gdl.no_grad()`` (forward only: the op wrappers, no graph),
- gdl with ``requires_grad=True``: forward (builds the graph) and ``.sum().backward()``,
- PyTorch eager the same way, for reference (when torch is installed).

The arrays are tiny, so the time is almost all per-op overhead: Python, the array
library's dispatch and, on the GPU, one kernel launch per op. Reported: microseconds
per op (median over ``--repeats`` chains), and gdl's excess over the raw calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time


def _median_time(fn, repeats, sync):
    fn()
    sync()
    ts = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _chain(x, lines):
    for _ in range(lines):
        x = x * 1.0001 + 0.0001
    return x


def _raw(xp, sync, ops, repeats, size):
    lines = ops // 2
    x0 = xp.ones(size, dtype=xp.float32)

    def fwd():
        return _chain(x0, lines)

    def bwd():
        g = xp.ones(size, dtype=xp.float32)
        for _ in range(lines):
            g = g * 1.0001
        return g

    f = _median_time(fwd, repeats, sync)
    b = _median_time(bwd, repeats, sync)
    return {"forward_us": f, "backward_us": b}


def _gdl(backend, ops, repeats, size):
    import numpy as np

    import gdl

    be = gdl.get_backend_object(backend)
    sync = be.synchronize
    lines = ops // 2
    x0 = gdl.tensor(np.ones(size, dtype=np.float32), backend=backend)
    xg = gdl.tensor(np.ones(size, dtype=np.float32), backend=backend, requires_grad=True)

    def nograd():
        with gdl.no_grad():
            return _chain(x0, lines)

    f_nograd = _median_time(nograd, repeats, sync)
    fwd_ts, bwd_ts = [], []
    for r in range(repeats + 1):
        xg.grad = None
        sync()
        t0 = time.perf_counter()
        y = _chain(xg, lines).sum()
        sync()
        t1 = time.perf_counter()
        y.backward()
        sync()
        t2 = time.perf_counter()
        if r:  # the first run is warm-up
            fwd_ts.append(t1 - t0)
            bwd_ts.append(t2 - t1)
    return (
        {"forward_us": f_nograd},
        {"forward_us": statistics.median(fwd_ts), "backward_us": statistics.median(bwd_ts)},
    )


def _torch(device, ops, repeats, size):
    import torch

    dev = "cpu" if device == "cpu" else "cuda"
    sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
    lines = ops // 2
    x0 = torch.ones(size, dtype=torch.float32, device=dev)
    xg = torch.ones(size, dtype=torch.float32, device=dev, requires_grad=True)

    def nograd():
        with torch.no_grad():
            return _chain(x0, lines)

    f_nograd = _median_time(nograd, repeats, sync)
    fwd_ts, bwd_ts = [], []
    for r in range(repeats + 1):
        xg.grad = None
        sync()
        t0 = time.perf_counter()
        y = _chain(xg, lines).sum()
        sync()
        t1 = time.perf_counter()
        y.backward()
        sync()
        t2 = time.perf_counter()
        if r:
            fwd_ts.append(t1 - t0)
            bwd_ts.append(t2 - t1)
    return (
        {"forward_us": f_nograd},
        {"forward_us": statistics.median(fwd_ts), "backward_us": statistics.median(bwd_ts)},
    )


def run_all(device="cpu", ops=1000, repeats=30, size=16):
    """Rows of microseconds per op; unavailable libraries get a ``status`` line."""
    rows = []

    def add(name, res, status="ok", reason=None):
        row = {"impl": name, "status": status}
        if res:
            for k, v in res.items():
                row[k.replace("_us", "_us_per_op")] = 1e6 * v / ops
            if "backward_us" in res:
                row["total_us_per_op"] = 1e6 * (res["forward_us"] + res["backward_us"]) / ops
        if reason:
            row["reason"] = reason
        rows.append(row)

    if device == "cpu":
        import numpy as xp

        lib, backend = "NumPy", "numpy"

        def sync():
            pass
    else:
        try:
            import cupy as xp
        except ImportError as exc:
            return {
                "device": device,
                "ops": ops,
                "size": size,
                "rows": [{"impl": "raw CuPy", "status": "unavailable", "reason": str(exc)}],
            }
        lib, backend = "CuPy", "cupy"

        def sync():
            xp.cuda.get_current_stream().synchronize()

    add(f"raw {lib}", _raw(xp, sync, ops, repeats, size))
    try:
        nograd, graph = _gdl(backend, ops, repeats, size)
        add(f"gdl ({backend}) no_grad", nograd)
        add(f"gdl ({backend}) autograd", graph)
    except Exception as exc:  # gdl or one of its ops not there yet
        add(f"gdl ({backend})", None, "unavailable", f"{type(exc).__name__}: {exc}")
    try:
        nograd, graph = _torch(device, ops, repeats, size)
        add(f"PyTorch ({'CPU' if device == 'cpu' else 'CUDA'}) no_grad", nograd)
        add(f"PyTorch ({'CPU' if device == 'cpu' else 'CUDA'}) autograd", graph)
    except Exception as exc:
        add("PyTorch", None, "unavailable", f"{type(exc).__name__}: {exc}")

    raw = rows[0]
    raw["total_us_per_op"] = raw["forward_us_per_op"] + raw["backward_us_per_op"]
    for row in rows[1:]:
        if row.get("status") == "ok" and "total_us_per_op" in row:
            row["excess_over_raw_us_per_op"] = row["total_us_per_op"] - raw["total_us_per_op"]
    return {"device": device, "ops": ops, "size": size, "repeats": repeats, "rows": rows}


_COLS = (
    ("forward_us_per_op", "forward us/op"),
    ("backward_us_per_op", "backward us/op"),
    ("total_us_per_op", "total us/op"),
    ("excess_over_raw_us_per_op", "excess over raw us/op"),
)


def _cells(row):
    if row.get("status") != "ok":
        return [row["impl"], row["status"] + ": " + row.get("reason", "")[:60], "", "", ""]
    return [row["impl"]] + [f"{row[k]:.2f}" if k in row else "-" for k, _ in _COLS]


def text_table(res) -> str:
    head = [f"chain of {res['ops']} ops on ({res['size']},) float32"] + [h for _, h in _COLS]
    rows = [_cells(r) for r in res["rows"]]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def fmt(r):
        return "  ".join(str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(r, widths)))

    return "\n".join([fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def markdown_table(res) -> str:
    head = ["implementation"] + [h for _, h in _COLS]
    lines = [
        f"Chain of {res['ops']} ops (`x = x * 1.0001 + 0.0001`) on a ({res['size']},) float32 "
        f"tensor, forward + `.sum().backward()`; median of {res.get('repeats')} chains.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in res["rows"]]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--ops", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--size", type=int, default=16)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    from benchmarks.run import set_threads, usable_cores

    set_threads(usable_cores())
    res = run_all(args.device, args.ops, args.repeats, args.size)
    print(text_table(res))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
