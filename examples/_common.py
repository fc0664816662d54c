"""Shared helpers for the book's chapter scripts (``examples/chNN_*.py``).

Every chapter script uses the same few things, so they live here:

* :func:`make_parser` / :func:`parse_args`: the common command line
  (``--backend numpy|cupy``, ``--seed``, ``--quick``, and ``--data-dir`` for
  chapters that read data). Inside Jupyter the notebook's own argv is ignored,
  so a script can be stepped through cell by cell.
* :func:`setup`: choose the backend, seed gdl, print one header line.
* :func:`data_dir`: where the book's data sets are (``--data-dir``, else
  ``$GDL_DATA_DIR``, else ``../shared/data`` next to the repository if present).
* :func:`mnist_arrays`: the book's MNIST slices, from the IDX files or, when no
  data folder is found and the slice allows it, from the subset bundled with gdl.
* :func:`book_reviews`: the IMDB reviews in the order of the book's ``reviews.txt``.
* :func:`compare`: one line "book figure vs gdl figure", in one format for every chapter.
* :func:`result` / :func:`parse_results`: the machine-readable last lines
  (``RESULT {json}``) that the tests read.
* :class:`Timer`: wall-clock timing (device work is synchronised first).

This module is example code (user code), not part of the ``gdl`` package.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULT_PREFIX = "RESULT "

# -- command line ----------------------------------------------------------------------


def make_parser(description: str, *, data: bool = False, seed: int = 1) -> argparse.ArgumentParser:
    """The options every chapter script takes.

    ``--seed`` defaults to 1, the book's ``np.random.seed(1)``.
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--backend",
        choices=("numpy", "cupy"),
        default=os.environ.get("GDL_BACKEND", "numpy"),
        help="array library to run on (default: $GDL_BACKEND or numpy)",
    )
    p.add_argument("--seed", type=int, default=seed, help=f"random seed (default {seed}, the book's)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="small, fast settings (used by the tests) instead of the book's full settings",
    )
    if data:
        p.add_argument(
            "--data-dir",
            default=None,
            help="folder holding the data sets (default: $GDL_DATA_DIR, else ../shared/data "
            "next to the repository if it exists)",
        )
    return p


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


def parse_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse ``argv`` (default ``sys.argv[1:]``; nothing inside Jupyter, so defaults apply)."""
    if argv is None and _in_notebook():
        argv = []
    return parser.parse_args(argv)


def setup(args: argparse.Namespace, chapter: str) -> None:
    """Make ``args.backend`` the default backend, seed gdl, and print a header line."""
    import gdl

    gdl.set_backend(args.backend)
    gdl.manual_seed(args.seed)
    mode = "quick settings" if args.quick else "the book's full settings"
    print(f"== {chapter} | backend {args.backend} | seed {args.seed} | {mode}")


# -- data ----------------------------------------------------------------------------------


def data_dir(arg: str | None = None, required: bool = True) -> Path | None:
    """The data folder: ``arg``, else ``$GDL_DATA_DIR``, else ``<repo>/../shared/data`` if it exists."""
    if arg:
        path = Path(arg).expanduser()
        if not path.is_dir():
            raise SystemExit(f"--data-dir {arg}: no such folder")
        return path
    env = os.environ.get("GDL_DATA_DIR")
    if env:
        return Path(env).expanduser()
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    if required:
        raise SystemExit(
            "no data folder: pass --data-dir, set GDL_DATA_DIR, or put the data in "
            f"{shared} (see gdl.data.datasets for the expected layout)"
        )
    return None


def mnist_arrays(args: argparse.Namespace, n_train: int, n_test: int):
    """The book's MNIST slices as host arrays: ``(train_images, train_labels, test_images, test_labels)``.

    Images are uint8 ``(N, 784)`` (scale them yourself, as the book does with ``/255``),
    labels int64 ``(N,)``. The first ``n_train`` training images and the first
    ``n_test`` test images, as the book's ``x_train[0:1000]`` and ``x_test``.

    Read from the IDX files in the data folder (see :func:`data_dir`). When there is
    no data folder and the slice fits in the subset that ships inside gdl (first
    10,000 training and 2,000 test images), that subset is used instead and a
    note says so.
    """
    from gdl.data.datasets import EMBEDDED_MNIST, MNIST

    root = data_dir(getattr(args, "data_dir", None), required=False)
    if root is None:
        if n_train > EMBEDDED_MNIST["train"] or n_test > EMBEDDED_MNIST["test"]:
            data_dir(None, required=True)  # raises with the explanation
        print(f"(no data folder found: using the MNIST subset bundled with gdl, test images 0-{n_test - 1})")
        kw = dict(source="embedded")
    else:
        kw = dict(root=root)
    train = MNIST(train=True, flatten=True, **kw)
    test = MNIST(train=False, flatten=True, **kw)
    if n_train > len(train) or n_test > len(test):
        raise SystemExit(f"MNIST: asked for {n_train}/{n_test} images, have {len(train)}/{len(test)}")
    return (
        train.images[:n_train].reshape(n_train, 784),
        train.labels[:n_train],
        test.images[:n_test].reshape(n_test, 784),
        test.labels[:n_test],
    )



def book_reviews(imdb) -> tuple[list[str], list[int]]:
    """The IMDB training reviews in the order of the book's ``reviews.txt``: ``(texts, labels)``.

    Positive, negative, positive, ... (``labels.txt`` starts "positive"), each
    class in the order of its file names sorted as text: ``0_9.txt``,
    ``10000_8.txt``, ``10001_10.txt``, ... (the first six lines of
    ``reviews.txt`` are those files). So the book's last 1,000 (test) reviews
    are the same here.
    """
    by_name = sorted(range(len(imdb)), key=lambda k: imdb.names[k])
    pos = [imdb.texts[k] for k in by_name if imdb.labels[k] == 1]
    neg = [imdb.texts[k] for k in by_name if imdb.labels[k] == 0]
    texts = [text for pair in zip(pos, neg) for text in pair]
    return texts, [1, 0] * (len(texts) // 2)

# -- book figure vs gdl figure ---------------------------------------------------------------


def _as_plain(x):
    """Python numbers / nested lists from gdl tensors, NumPy arrays and scalars."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [_as_plain(v) for v in x]
    return x


def _flat(x) -> list:
    x = _as_plain(x)
    if isinstance(x, list):
        out = []
        for v in x:
            out.extend(_flat(v))
        return out
    return [x]


def fmt(x) -> str:
    """A figure as Python prints it (``repr`` of floats: every digit, as the book's ``str()``)."""
    x = _as_plain(x)
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    return str(x)


def _sig_digits(x: float) -> int:
    """Significant digits in the shortest repr of ``x`` (0.0196 -> 3)."""
    mant = repr(float(abs(x))).split("e")[0].replace(".", "").lstrip("0")
    return max(1, len(mant))


def _agrees(book, ours, rel: float) -> bool:
    """``ours`` equals ``book`` to the digits the book printed, or to ``rel`` relative error."""
    if isinstance(book, str) or isinstance(ours, str):
        return book == ours
    if math.isclose(book, ours, rel_tol=rel, abs_tol=rel):
        return True
    n = _sig_digits(book)
    return n < 15 and f"{book:.{n - 1}e}" == f"{ours:.{n - 1}e}"


def compare(label: str, book, ours, *, rel: float = 1e-12, at_least: bool = False,
            at_most: bool = False, info: bool = False, book_text: str | None = None) -> bool:
    """Print ``label | book <figure> | gdl <figure> | <verdict>`` and return whether it passes.

    Verdicts: ``exact`` (every number equal), ``match`` (equal to the digits the
    book printed, e.g. 0.0196 for 0.01959999999999997, or within ``rel`` relative
    error where it printed every digit and the last bit differs), ``reached``
    (``at_least``/``at_most``: a target to reach rather than a figure to repeat),
    else ``DIFFERS`` / ``NOT REACHED``. With ``info=True`` the figures are shown
    side by side without a verdict, only the difference (gdl - book): for runs
    that are not expected to repeat the book's number (say why nearby).
    """
    b, o = _flat(book), _flat(ours)
    if info:
        ok = True
        verdict = "gdl - book: " + ", ".join(f"{ov - bv:+.4g}" for bv, ov in zip(b, o))
        shown_book = book_text or fmt(book)
    elif at_least or at_most:
        ok = all((ov >= bv) if at_least else (ov <= bv) for bv, ov in zip(b, o)) and len(b) == len(o)
        verdict = "reached" if ok else "NOT REACHED"
        sign = ">=" if at_least else "<="
        shown_book = f"{sign} {book_text or fmt(book)}"
    else:
        if len(b) != len(o):
            ok, verdict = False, "DIFFERS"
        elif all(bv == ov for bv, ov in zip(b, o)):
            ok, verdict = True, "exact"
        else:
            ok = all(_agrees(bv, ov, rel) for bv, ov in zip(b, o))
            verdict = "match" if ok else "DIFFERS"
        shown_book = book_text or fmt(book)
    print(f"  {label:<44} | book {shown_book:<26} | gdl {fmt(ours):<26} | {verdict}")
    return ok


def section(title: str) -> None:
    """A heading in the printed output (one per notebook section)."""
    print(f"\n-- {title}")


# -- machine-readable results ------------------------------------------------------------------


def result(metric: str, value, *, book=None, target=None, better: str | None = None,
           start=None, **extra) -> dict:
    """Print one ``RESULT {json}`` line (the tests parse these; a script may print several).

    Keys: ``metric`` (name), ``value`` (the figure gdl reached), ``book`` (the book's
    figure, if any), ``target`` (the figure to reach: ``value >= target`` when
    ``better == "higher"``, ``<=`` when ``"lower"``), ``start`` (the metric before
    training, so a test can check it moved the ``better`` way), plus any ``extra``
    settings (seed, epochs, seconds ...).
    """
    if better not in (None, "higher", "lower"):
        raise ValueError(f"result(): better must be 'higher', 'lower' or None, got {better!r}")
    rec = {"metric": metric, "value": _as_plain(value)}
    for key, v in (("book", book), ("target", target), ("better", better), ("start", start)):
        if v is not None:
            rec[key] = _as_plain(v)
    rec.update({k: _as_plain(v) for k, v in extra.items()})
    print(RESULT_PREFIX + json.dumps(rec, sort_keys=False))
    sys.stdout.flush()
    return rec


def parse_results(text: str) -> list[dict]:
    """Every ``RESULT {json}`` record in a script's output, in order."""
    return [json.loads(line[len(RESULT_PREFIX):]) for line in text.splitlines() if line.startswith(RESULT_PREFIX)]


def check_result(rec: dict) -> list[str]:
    """What is wrong with one record (empty if nothing): target missed, or moved the wrong way."""
    problems = []
    better, value = rec.get("better"), rec["value"]
    if better and "target" in rec:
        ok = value >= rec["target"] if better == "higher" else value <= rec["target"]
        if not ok:
            problems.append(f"{rec['metric']}: {value} does not reach the target {rec['target']} ({better} is better)")
    if better and "start" in rec:
        ok = value > rec["start"] if better == "higher" else value < rec["start"]
        if not ok:
            problems.append(f"{rec['metric']}: moved from {rec['start']} to {value}, not {better}")
    return problems


# -- timing ---------------------------------------------------------------------------------------


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``; waits for queued device work before reading the clock."""

    def __enter__(self):
        _sync()
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        _sync()
        self.seconds = time.perf_counter() - self.start
        return False

    @property
    def elapsed(self) -> float:
        """Seconds since the start (while still inside the ``with`` block)."""
        return time.perf_counter() - self.start


def _sync():
    try:
        import gdl

        gdl.synchronize()
    except Exception:  # noqa: BLE001  (timing must never break a run)
        pass


def fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min ({s:.0f} s)"
