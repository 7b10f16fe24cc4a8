"""Worker processes with a time limit per job.

A thread cannot be stopped, so each derivation runs in a worker process; a job past the
time limit has its worker killed and replaced, and the server goes on serving.  Workers are
started with ``spawn`` (no fork of a threaded server) and import matcalc and the backends
once, before their first job.
"""

from __future__ import annotations

import multiprocessing
import queue
import signal
import threading


class TimeLimitExceeded(Exception):
    """The job ran past the time limit; its worker was replaced."""


class Busy(Exception):
    """Every worker stayed busy for longer than the pool waits."""


class WorkerFailed(Exception):
    """The worker stopped (crashed or could not start) before it answered."""


def _serve_jobs(connection, warm_up) -> None:
    """A worker's loop: (function, argument) in, ("ok", result) or ("error", message) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers
    if warm_up is not None:
        warm_up()
    connection.send("ready")
    while True:
        try:
            function, argument = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = ("ok", function(argument))
        except Exception as error:  # noqa: BLE001 - a bug in the job: reported, the worker lives on
            answer = ("error", f"{type(error).__name__}: {error}")
        connection.send(answer)


class _Worker:
    def __init__(self, context, warm_up):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve_jobs, args=(child, warm_up), daemon=True,
                                       name="matcalc-web-worker")
        self.process.start()
        child.close()
        self.ready = False

    def run(self, function, argument, time_limit: float, start_limit: float):
        if not self.ready:
            if not self.connection.poll(start_limit):
                raise WorkerFailed(f"a worker did not start within {start_limit:g} s")
            if self.connection.recv() != "ready":
                raise WorkerFailed("a worker started wrongly")
            self.ready = True
        self.connection.send((function, argument))
        if not self.connection.poll(time_limit):
            raise TimeLimitExceeded(f"stopped after {time_limit:g} s")
        return self.connection.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.connection.close()


class WorkerPool:
    """``size`` worker processes; :meth:`run` gives a job to an idle one under ``time_limit`` seconds.

    >>> pool = WorkerPool(size=1, time_limit=30)
    >>> pool.run(abs, -2)
    2
    >>> pool.close()
    """

    def __init__(self, size: int = 2, time_limit: float = 10.0, wait_limit: float = 30.0,
                 start_limit: float = 180.0, warm_up=None):
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.time_limit, self.wait_limit, self.start_limit = time_limit, wait_limit, start_limit
        self._context = multiprocessing.get_context("spawn")
        self._warm_up = warm_up
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._workers: set = set()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._new_worker())

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._context, self._warm_up)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker:
        worker.stop()
        with self._lock:
            self._workers.discard(worker)
            closed = self._closed
        return worker if closed else self._new_worker()

    def run(self, function, argument):
        """``function(argument)`` in a worker; raises TimeLimitExceeded, Busy or WorkerFailed."""
        try:
            worker = self._idle.get(timeout=self.wait_limit)
        except queue.Empty:
            raise Busy(f"every worker stayed busy for {self.wait_limit:g} s") from None
        try:
            kind, value = worker.run(function, argument, self.time_limit, self.start_limit)
        except TimeLimitExceeded:
            worker = self._replace(worker)
            raise
        except (WorkerFailed, EOFError, OSError) as error:
            worker = self._replace(worker)
            raise WorkerFailed(str(error) or "a worker stopped before it answered") from None
        finally:
            if not self._closed:
                self._idle.put(worker)
        if kind == "error":
            raise WorkerFailed(value)
        return value

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()
