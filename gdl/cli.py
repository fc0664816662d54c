"""The ``gdl`` command: ``gdl train mnist`` and ``gdl info``.

``gdl train mnist`` with no options trains a small MLP on the MNIST subset that
ships inside the package (no download, under two minutes on two CPU cores) and
prints train and test accuracy after every epoch. Bad options give a one-line
error and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import gdl
from gdl import nn, optim


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


# -- models -------------------------------------------------------------------------


def build_model(name: str) -> nn.Module:
    """``mlp``: 784-128 ReLU-10. ``cnn``: 3x3x16 conv, ReLU, 2x2 max-pool, linear 10."""
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 13 * 13, 10)
        )
    raise CLIError(f"unknown model {name!r}; choose mlp or cnn")


def build_optimizer(name: str, params, lr: float):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(params, lr=lr)
    raise CLIError(f"unknown optimizer {name!r}; choose sgd or adam")


DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3}


# -- data -----------------------------------------------------------------------------


def load_mnist(source: str, data_dir: str | None, download: bool):
    from gdl.data.datasets import MNIST

    kind = "embedded" if source == "embedded" else "files"
    try:
        train = MNIST(root=data_dir, train=True, source=kind, download=download)
        test = MNIST(root=data_dir, train=False, source=kind, download=download)
    except FileNotFoundError as exc:
        raise CLIError(f"{exc} (or use --data embedded, or --download)") from None
    except OSError as exc:
        raise CLIError(str(exc).splitlines()[0]) from None
    return train, test


# -- training ----------------------------------------------------------------------------


def accuracy(model, loader) -> float:
    model.eval()
    correct = total = 0
    with gdl.no_grad():
        for x, y in loader:
            pred = model(x).argmax(axis=1)
            correct += int((pred == y).sum().item())
            total += y.shape[0]
    model.train()
    return correct / max(total, 1)


def _progress(iterable, total, desc, quiet):
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable, None
    bar = tqdm(iterable, total=total, desc=desc, unit="batch", leave=True, disable=quiet, dynamic_ncols=True)
    return bar, bar


def train_mnist(args) -> int:
    if args.epochs < 0:
        raise CLIError(f"--epochs must be >= 0, got {args.epochs}")
    if args.batch_size < 1:
        raise CLIError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.lr is not None and args.lr <= 0:
        raise CLIError(f"--lr must be > 0, got {args.lr}")
    if args.resume and not os.path.isfile(args.resume):
        raise CLIError(f"checkpoint file not found: {args.resume}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib: pip install 'gdl[plot]'") from None
    try:
        gdl.set_backend(args.backend)
    except (ValueError, RuntimeError) as exc:
        raise CLIError(str(exc)) from None

    from gdl.data import DataLoader
    from gdl.io import CheckpointError, load_checkpoint, save_checkpoint

    gdl.manual_seed(args.seed)
    train_set, test_set = load_mnist(args.data, args.data_dir, args.download)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = build_model(args.model)
    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    opt = build_optimizer(args.optimizer, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    history = {"epoch": [], "loss": [], "train_acc": [], "test_acc": []}
    start_epoch = 0
    if args.resume:
        try:
            ckpt = load_checkpoint(args.resume, model=model, optimizer=opt)
        except (CheckpointError, KeyError, ValueError) as exc:
            raise CLIError(f"cannot resume from {args.resume}: {exc}") from None
        start_epoch = int(ckpt.get("epoch") or 0)
        history = ckpt.get("extra", {}).get("history", history)
        print(f"resumed from {args.resume} after epoch {start_epoch}")

    print(
        f"gdl {gdl.__version__} | backend {args.backend} | model {args.model} | "
        f"data {args.data} ({len(train_set)} train, {len(test_set)} test) | "
        f"{args.optimizer} lr={lr} batch={args.batch_size} seed={args.seed}"
    )
    done_epoch = start_epoch
    try:
        for epoch in range(start_epoch + 1, args.epochs + 1):
            t0 = time.perf_counter()
            batches, bar = _progress(train_loader, len(train_loader), f"epoch {epoch}/{args.epochs}", args.quiet)
            seen = correct = 0
            loss_sum = 0.0
            for x, y in batches:
                logits = model(x)
                loss = loss_fn(logits, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                n = y.shape[0]
                seen += n
                loss_sum += loss.item() * n
                correct += int((logits.argmax(axis=1) == y).sum().item())
                if bar is not None:
                    bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False)
            if bar is not None:
                bar.close()
            train_acc = correct / max(seen, 1)
            test_acc = accuracy(model, test_loader)
            elapsed = time.perf_counter() - t0
            history["epoch"].append(epoch)
            history["loss"].append(loss_sum / max(seen, 1))
            history["train_acc"].append(train_acc)
            history["test_acc"].append(test_acc)
            print(
                f"epoch {epoch}: loss {loss_sum / max(seen, 1):.4f}  train acc {train_acc:.4f}  "
                f"test acc {test_acc:.4f}  ({seen / elapsed:.0f} images/s)",
                flush=True,
            )
            done_epoch = epoch
            if args.save:
                save_checkpoint(args.save, model=model, optimizer=opt, epoch=epoch, history=history)
    except KeyboardInterrupt:
        where = f"; checkpoint of epoch {done_epoch} in {args.save}" if args.save and done_epoch else ""
        print(f"\ninterrupted during epoch {done_epoch + 1}{where}", file=sys.stderr)
        return 130
    if args.plot and history["epoch"]:
        plot_curves(history, args.plot)
        print(f"curves written to {args.plot}")
    final = history["test_acc"][-1] if history["test_acc"] else accuracy(model, test_loader)
    print(f"final test accuracy: {final:.4f}")
    return 0


def plot_curves(history, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(history["epoch"], history["loss"], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax2.plot(history["epoch"], history["train_acc"], marker="o", label="train")
    ax2.plot(history["epoch"], history["test_acc"], marker="o", label="test")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# -- info ---------------------------------------------------------------------------------


def info(_args) -> int:
    print(f"gdl {gdl.__version__}")
    for name in gdl.available_backends():
        try:
            be = gdl.get_backend_object(name)
        except (RuntimeError, ValueError) as exc:
            print(f"  {name:17s} unavailable: {str(exc).splitlines()[0]}")
            continue
        line = f"  {name:17s} available"
        if name == "cupy":
            line += f" ({_gpu_description(be)})"
        print(line)
    print(f"current backend: {gdl.get_backend()}")
    return 0


def _gpu_description(backend) -> str:
    from gdl.backends.cupy_backend import describe_device

    return describe_device()


# -- entry point ----------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gdl", description="gdl: a small deep-learning framework (Grokking Deep Learning).")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = sub.add_parser("train", help="train a model on a data set")
    train.add_argument("dataset", choices=["mnist"], help="the data set (mnist)")
    train.add_argument("--backend", default=os.environ.get("GDL_BACKEND", "numpy"), help="numpy (default) or cupy")
    train.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=None, help="learning rate (sgd 0.05, adam 0.001)")
    train.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--data", choices=["embedded", "full"], default="embedded",
                       help="embedded: the subset inside gdl (default); full: the MNIST files")
    train.add_argument("--data-dir", default=None, help="folder with the MNIST files (default $GDL_DATA_DIR or ~/.cache/gdl)")
    train.add_argument("--download", action="store_true", help="download missing MNIST files (with --data full)")
    train.add_argument("--save", metavar="CHECKPOINT", help="save a checkpoint after every epoch")
    train.add_argument("--resume", metavar="CHECKPOINT", help="resume from a checkpoint")
    train.add_argument("--plot", metavar="PNG", help="write loss and accuracy curves (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=train_mnist)
    inf = sub.add_parser("info", help="version, backends and GPU")
    inf.set_defaults(func=info)
    return parser


def main(argv=None) -> int:
    try:
        args = make_parser().parse_args(argv)
        return args.func(args)
    except CLIError as exc:
        print(f"gdl: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
