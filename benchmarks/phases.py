"""Where a training step's time goes: forward, loss, backward and update, timed apart.

    python -m benchmarks.phases --device cpu|gpu [--workloads lstm cnn ...] [--steps N]
        [--threads N] [--json out.json]

For gdl and PyTorch (the same four calls: ``opt.zero_grad()``, ``model(x)``,
``loss_fn(out, y)``, ``loss.backward()``, ``opt.step()``), each phase is timed on
its own with the device synchronised before and after it, so a phase's time
includes its kernel launches and its GPU work. Synchronising costs a little per
phase, and queued work can no longer overlap the next phase's Python: the sum of
the phases is a bit above the step time that ``benchmarks.run`` reports. Use it
to find the phase that a ratio comes from, not as the ratio itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

PHASES = ("zero_grad", "forward", "loss", "backward", "update")


def _calls(impl_name: str, obj):
    """The five phases of one step of ``obj`` (a gdl or torch step object) as callables."""
    forward = obj.model.forward if impl_name == "gdl" else obj.model
    state = {}

    def zero_grad():
        obj.opt.zero_grad()

    def run_forward():
        state["out"] = forward(obj.x)

    def loss():
        state["loss"] = obj.loss_fn(state["out"], obj.y)

    def backward():
        state["loss"].backward()

    def update():
        obj.opt.step()

    return dict(zip(PHASES, (zero_grad, run_forward, loss, backward, update)))


def time_phases(impl, steps: int, warmup: int = 3) -> dict:
    """Median milliseconds of each phase over ``steps`` steps of ``impl`` (a ``run.Impl``)."""
    calls = _calls(impl.name, impl.obj)
    for _ in range(warmup):
        for call in calls.values():
            call()
    impl.sync()
    samples = {name: [] for name in PHASES}
    for _ in range(steps):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            impl.sync()
            samples[name].append((time.perf_counter() - start) * 1e3)
    medians = {name: statistics.median(v) for name, v in samples.items()}
    medians["sum"] = sum(medians.values())
    # The same steps without a sync between phases (the device may run behind the host):
    # against "sum", this shows what the synchronisation itself costs or hides.
    start = time.perf_counter()
    for _ in range(steps):
        for call in calls.values():
            call()
    impl.sync()
    medians["free_step"] = (time.perf_counter() - start) * 1e3 / steps
    return medians


def main(argv=None):
    from benchmarks import run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--workloads", nargs="+", choices=run.WORKLOAD_NAMES, default=list(run.WORKLOAD_NAMES))
    parser.add_argument("--impls", nargs="+", choices=("gdl", "torch"), default=["gdl", "torch"])
    parser.add_argument("--steps", type=int, default=30, help="timed steps (median per phase)")
    parser.add_argument("--threads", type=int, default=run.usable_cores())
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    args = parser.parse_args(argv)
    run.set_threads(args.threads)

    results = {}
    header = f"{'workload':10} {'impl':6} " + " ".join(f"{p:>9}" for p in (*PHASES, "sum", "free_step")) + "   (ms)"
    print(header)
    for workload in args.workloads:
        for impl_name in args.impls:
            try:
                impl = run.build_impl(impl_name, workload, args.device, args.threads)
            except run.Unavailable as exc:
                print(f"{workload:10} {impl_name:6} unavailable: {exc}")
                continue
            ms = time_phases(impl, args.steps)
            results.setdefault(workload, {})[impl_name] = ms
            print(f"{workload:10} {impl_name:6} " + " ".join(f"{ms[p]:9.3f}" for p in (*PHASES, "sum", "free_step")))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "steps": args.steps, "ms": results}, f, indent=1)
    return results


if __name__ == "__main__":
    main()
