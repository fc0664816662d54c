"""Worker processes of a :class:`~gdl.data.DataLoader` with ``num_workers > 0``.

Each worker is a :mod:`multiprocessing` process running :func:`worker_loop`: it
reads tasks (the indices of one batch) from its own queue, fetches and collates
the batch on the host and sends it back through its own pipe. In the main
process a :class:`WorkerPool` hands the tasks out round-robin, keeps
``prefetch_factor`` of them per worker in flight, puts the results back in task
order, and turns a worker's exception, death or silence (``timeout``) into an
error there. Workers never touch a GPU: they load on a host backend and send
NumPy arrays; the main process moves each batch to its backend.

>>> from gdl.data import DataLoader, IterableDataset, get_worker_info
>>> get_worker_info() is None  # in the main process
True
>>> class Shards(IterableDataset):
...     def __iter__(self):
...         info = get_worker_info()
...         return iter(range(info.id, 6, info.num_workers))  # each worker its share
>>> [b.tolist() for b in DataLoader(Shards(), batch_size=2, num_workers=2)]
[[0, 2], [1, 3], [4], [5]]
"""

from __future__ import annotations

import dataclasses
import itertools
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
import weakref
from collections.abc import Callable, Iterator, Mapping
from multiprocessing import connection

from gdl import dtypes
from gdl.backends import created_backends, host_data, manual_seed, set_backend
from gdl.tensor import Tensor

__all__ = ["ExceptionWrapper", "WorkerInfo", "WorkerPool", "WorkerSpec", "get_worker_info", "host_copy"]

HOST_BACKENDS = ("numpy", "array_api_strict")  # backends whose arrays live in host memory
_WATCHDOG_S = 1.0  # how often an idle worker checks that the main process is still there
_SHUTDOWN_S = 5.0  # how long workers get to finish before they are terminated

_NO_TASK = object()
_worker_info: WorkerInfo | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class WorkerInfo:
    """Who a worker process is: its ``id`` (0 to ``num_workers - 1``), ``num_workers``,
    the ``seed`` its generators got, and its own copy of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info() -> WorkerInfo | None:
    """This worker's :class:`WorkerInfo` inside a DataLoader worker process, None in the
    main process. An :class:`~gdl.data.IterableDataset` uses it to give each worker its
    own share of the stream (as ``torch.utils.data.get_worker_info``)."""
    return _worker_info


class _KeyErrorMessage(str):
    """A message that ``KeyError`` shows as it is (it shows other strings with ``repr``)."""

    def __repr__(self):
        return str(self)


class ExceptionWrapper:
    """An exception caught in a worker, sent to the main process and raised there.

    It keeps the exception's type and its traceback as text (tracebacks cannot be
    pickled); :meth:`reraise` raises the same type with the worker's traceback in
    the message, or a ``RuntimeError`` where the type cannot be made from a message.
    """

    def __init__(self, where: str):
        exc_type, exc, tb = sys.exc_info()
        self.where = where
        self.name = exc_type.__name__
        self.text = "".join(traceback.format_exception(exc_type, exc, tb))
        try:
            pickle.dumps(exc_type)
        except Exception:  # a class defined in a function: raised as a RuntimeError
            exc_type = RuntimeError
        self.exc_type = exc_type

    def reraise(self):
        message = f"Caught {self.name} {self.where}.\nOriginal {self.text}"
        if self.exc_type is KeyError:
            message = _KeyErrorMessage(message)
        try:
            error = self.exc_type(message)
        except Exception:
            raise RuntimeError(message) from None
        raise error


class StreamEnd:
    """A worker's answer once its copy of an IterableDataset is used up."""


def host_copy(data):
    """``data`` with its gdl tensors as NumPy arrays (tuples, lists and dicts field by field)."""
    if isinstance(data, Tensor):
        return data.numpy()
    if isinstance(data, tuple):
        fields = [host_copy(d) for d in data]
        return type(data)(*fields) if hasattr(data, "_fields") else tuple(fields)
    if isinstance(data, list):
        return [host_copy(d) for d in data]
    if isinstance(data, Mapping):
        return {k: host_copy(v) for k, v in data.items()}
    return data


def seed_worker(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and gdl's host backends."""
    random.seed(seed)
    host_data.seed_legacy_global(seed)
    made = created_backends()
    if set(made) <= set(HOST_BACKENDS):
        manual_seed(seed)
    else:  # a GPU backend inherited from the main process: leave it alone
        for name, backend in made.items():
            if name in HOST_BACKENDS:
                backend.seed(seed)


@dataclasses.dataclass
class WorkerSpec:
    """What every worker of a pool gets: ``fetcher(task)`` makes one result (host data) and
    has a ``dataset`` and a ``start()`` called at each new pass; ``backend`` and
    ``default_dtype`` are the main process's (a GPU backend becomes NumPy)."""

    fetcher: Callable
    iterable: bool
    num_workers: int
    init_fn: Callable | None
    base_seed: int
    backend: str
    default_dtype: str


def _start_worker(spec: WorkerSpec, worker_id: int) -> ExceptionWrapper | None:
    global _worker_info
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        dtypes.set_default_dtype(spec.default_dtype)
        set_backend(spec.backend if spec.backend in HOST_BACKENDS else "numpy")
        seed = spec.base_seed + worker_id
        seed_worker(seed)
        _worker_info = WorkerInfo(worker_id, spec.num_workers, seed, spec.fetcher.dataset)
        if spec.init_fn is not None:
            spec.init_fn(worker_id)
    except Exception:
        return ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    return None


def _send(conn, message: tuple, worker_id: int) -> bool:
    """Pickle and send ``(pass, task, data)``; False once the main process has hung up."""
    try:
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        where = f"in DataLoader worker process {worker_id} (sending its batch to the main process)"
        payload = pickle.dumps((*message[:2], ExceptionWrapper(where)), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        conn.send_bytes(payload)
    except OSError:
        return False
    return True


def worker_loop(spec: WorkerSpec, worker_id: int, tasks, results, done) -> None:
    """The body of worker process ``worker_id``: set up, then answer tasks until told to stop.

    A task is ``(pass, task index, payload)``; the answer is ``(pass, task index, data)``
    where data is the fetched batch, an :class:`ExceptionWrapper` or a :class:`StreamEnd`.
    ``None`` (or the main process going away) ends the loop; once ``done.value`` is set
    the remaining tasks are skipped.
    """
    error = _start_worker(spec, worker_id)
    parent = os.getppid()
    current, fresh, ended = None, False, False
    while True:
        try:
            task = tasks.get(timeout=_WATCHDOG_S)
        except queue.Empty:
            if os.getppid() != parent:
                return  # the main process died
            continue
        if task is None:
            return
        if done.value:
            continue
        generation, index, payload = task
        if generation != current:  # a new pass: an IterableDataset starts over
            current, fresh, ended = generation, True, False
        if error is not None:
            data = error
        elif ended:
            data = StreamEnd()
        else:
            try:
                if fresh:
                    fresh = False
                    spec.fetcher.start()
                data = spec.fetcher(payload)
            except Exception as exc:
                if spec.iterable and isinstance(exc, StopIteration):
                    ended, data = True, StreamEnd()
                else:
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        if not _send(results, (generation, index, data), worker_id):
            return


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"exit code {code} (killed by signal {signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"exit code {code}"


def _shutdown(processes, queues, readers, done, graceful: bool) -> None:
    """Stop the workers: ask them to finish (reading what they still send, so none is
    stuck writing), terminate those still running after a while, reap them all."""
    done.value = 1  # a plain shared byte, no lock: a killed worker cannot leave it locked
    for q in queues:
        try:
            q.put(None)
        except Exception:  # already closed (at interpreter exit)
            pass
    deadline = time.monotonic() + (_SHUTDOWN_S if graceful else 0.0)
    running = [p for p in processes if p.exitcode is None]
    open_readers = [r for r in readers if not r.closed]
    while running and time.monotonic() < deadline:
        ready = connection.wait(open_readers + [p.sentinel for p in running], deadline - time.monotonic())
        for r in open_readers:
            if r in ready:
                try:
                    r.recv_bytes()
                except (EOFError, OSError):
                    open_readers.remove(r)
        running = [p for p in running if p.exitcode is None]
    for p in running:
        p.terminate()
    for p in processes:
        p.join(timeout=_SHUTDOWN_S)
        if p.exitcode is None:
            p.kill()
            p.join()
    for q in queues:
        q.cancel_join_thread()  # never wait on tasks a dead worker left unread
        q.close()
    for r in readers:
        r.close()


class WorkerPool:
    """The worker processes of one DataLoader (one pass, or all with ``persistent_workers``).

    Workers are started with the pool and stopped by :meth:`shutdown`, which also runs
    when the pool is garbage collected and at interpreter exit.
    """

    def __init__(self, spec: WorkerSpec, context=None, prefetch_factor: int = 2):
        ctx = context if context is not None else multiprocessing.get_context()
        self.prefetch_factor = prefetch_factor
        self.generation = 0
        self._processes, self._queues, self._readers = [], [], []
        self._done = ctx.RawValue("b", 0)  # set at shutdown: skip the tasks still queued
        self._finalizer = weakref.finalize(
            self, _shutdown, self._processes, self._queues, self._readers, self._done, True
        )
        try:
            for worker_id in range(spec.num_workers):
                tasks = ctx.Queue()
                self._queues.append(tasks)
                reader, writer = ctx.Pipe(duplex=False)
                self._readers.append(reader)
                process = ctx.Process(
                    target=worker_loop,
                    args=(spec, worker_id, tasks, writer, self._done),
                    name=f"gdl DataLoader worker {worker_id}",
                    daemon=True,
                )
                try:
                    process.start()
                finally:
                    writer.close()  # the worker holds the only writing end: its death reads as EOF
                self._processes.append(process)
        except BaseException:
            self.shutdown(graceful=False)
            raise

    @property
    def healthy(self) -> bool:
        """Not shut down, and every worker still running."""
        return self._finalizer.alive and all(p.exitcode is None for p in self._processes)

    def shutdown(self, graceful: bool = True) -> None:
        """Stop the workers (at once unless ``graceful``); later calls do nothing."""
        if self._finalizer.alive:
            self._finalizer.detach()
            _shutdown(self._processes, self._queues, self._readers, self._done, graceful)

    def run(self, tasks: Iterator, in_order: bool = True, iterable: bool = False, timeout: float = 0):
        """Generator of the results of one pass, as the workers send them (host data).

        ``tasks`` yields the payload of each task (a batch's indices); they are handed out
        round-robin, at most ``prefetch_factor`` per worker waiting. Results come in task
        order, or as they are ready if not ``in_order``. For an IterableDataset
        (``iterable``) each task asks a worker for its next batch, and the pass ends when
        every worker's stream has ended. A worker's exception is raised when its result is
        due; a dead or (past ``timeout`` seconds) silent worker is a ``RuntimeError``.
        """
        self.generation += 1
        generation = self.generation
        n = len(self._processes)
        active = [True] * n
        turns = itertools.cycle(range(n))
        pending: dict[int, int] = {}  # task -> worker, sent and not back yet
        ready: dict[int, object] = {}  # task -> result, back and waiting for its turn
        sent = next_out = 0
        more = True

        def refill():
            nonlocal sent, more
            while more and len(pending) + len(ready) < self.prefetch_factor * n:
                worker = next((w for w in itertools.islice(turns, n) if active[w]), None)
                payload = next(tasks, _NO_TASK) if worker is not None else _NO_TASK
                if payload is _NO_TASK:
                    more = False
                    return
                self._queues[worker].put((generation, sent, payload))
                pending[sent] = worker
                sent += 1

        refill()
        while pending or ready:
            if self.generation != generation:
                raise RuntimeError(
                    "DataLoader: a newer pass over this loader started while this one was running; its "
                    "persistent workers serve one pass at a time"
                )
            if in_order and next_out in ready:
                data = ready.pop(next_out)
                next_out += 1
            else:
                index, data = self._receive(generation, timeout)
                worker = pending.pop(index)
                if isinstance(data, StreamEnd):
                    active[worker] = False
                if in_order:
                    ready[index] = data
                    continue
            refill()
            if isinstance(data, StreamEnd):
                continue
            if isinstance(data, ExceptionWrapper):
                data.reraise()
            yield data

    def _receive(self, generation: int, timeout: float) -> tuple[int, object]:
        """The next ``(task, result)`` of pass ``generation`` from any worker."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            sentinels = [p.sentinel for p in self._processes]
            ready = connection.wait(self._readers + sentinels, left)
            if not ready:
                self.shutdown(graceful=False)
                raise RuntimeError(
                    f"DataLoader timed out after {timeout} seconds waiting for a batch from its workers "
                    f"(timeout={timeout})"
                )
            for worker, reader in enumerate(self._readers):
                if reader in ready:
                    try:
                        message = reader.recv_bytes()
                    except (EOFError, OSError):
                        self._died(worker)
                    gen, index, data = pickle.loads(message)
                    if gen == generation:
                        return index, data
            for worker, sentinel in enumerate(sentinels):
                if sentinel in ready and not self._readers[worker].poll():
                    self._died(worker)

    def _died(self, worker: int):
        process = self._processes[worker]
        process.join(timeout=_SHUTDOWN_S)
        self.shutdown(graceful=False)
        raise RuntimeError(
            f"DataLoader worker {worker} (pid {process.pid}) exited unexpectedly with "
            f"{_exit_reason(process.exitcode)}"
        )
