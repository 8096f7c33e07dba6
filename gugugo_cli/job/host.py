"""Host work (reading, planning, rendering and writing files; planning dataset fields) in this process or in
worker processes, with results handed back in the order they were asked for, so the output never depends
on the number of workers.

Workers are forked on Linux while torch is not loaded and no other thread runs, after the sentence splitter is
loaded (they share it), else started with forkserver (spawn where there is none): never a fork of a process
that loaded torch. They ignore SIGINT (a Ctrl-C on a terminal reaches the whole process group): the main process decides
when they stop, after the files being written are done. A worker whose parent is gone stops by itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

try:
    import resource
except ImportError:  # Windows
    resource = None
from typing import Optional

from ..errors import GugugoError, InputError
from ..languages import other_language
from .sizing import default_workers  # noqa: F401 - the default of --workers

log = logging.getLogger("gugugo_cli")

POLL_SECONDS = 0.5
PRELOAD_VAR = "GUGUGO_PRELOAD_SPLITTER"
QUEUED_PER_WORKER = 3  # requests sent to a worker and not answered yet, at most (a file to write waits behind them)
used = {"cpu_seconds": 0.0}  # CPU time of the workers that have stopped, for benchmarks


def portable(error: GugugoError) -> tuple[Optional[str], str]:
    """An error as (the path it names or None, the problem): what a worker hands back (errors with their own
    arguments do not all survive pickling)."""
    if isinstance(error, InputError):
        return (str(error.path), error.problem)
    return (None, str(error))


def failure_of(source: str, error: tuple[Optional[str], str]) -> tuple[str, str]:
    """(path, problem) for a summary: the file an InputError named (the input, or the output it could not
    write), else the task's source."""
    return (error[0] if error[0] is not None else source, error[1])


# --- the work itself, the same in this process and in a worker -------------------------------------------------

@dataclass
class Planned:
    """What planning a file hands back: the keys of its segments in order, and the text its format keeps
    untranslated, by kind (e.g. ASS karaoke lines), for the summary."""

    keys: list
    left_alone: dict


def plan_file(source: str, data: Optional[bytes], options, src: str, limits):
    """Read and segment one file: (document, plans, Planned)."""
    from ..formats import read_document
    from . import pool

    doc = read_document(source, data, options, limits) if data is not None or source == "-" else \
        read_document(source, options=options, limits=limits)
    plans = pool.plan_document(doc, options.tgt, src)
    keys = [(s.src, s.text) for p in plans for s in p.segments]
    return doc, plans, Planned(keys, dict(getattr(doc, "left_alone", {})))


def write_to(dest, data: bytes) -> None:
    """An output written atomically; an InputError naming it when it cannot be."""
    from ..textio import atomic_write_bytes

    try:
        atomic_write_bytes(dest, data)
    except OSError as e:
        raise InputError(dest, f"cannot write ({e.strerror or e})") from None
    log.info("wrote %s", dest)


def render_file(doc, plans, translations: dict, dest) -> Optional[bytes]:
    """The translated file written to dest (atomically), or its bytes when dest is None (stdout)."""
    from . import pool

    data = pool.render(doc, plans, translations)
    if dest is None:
        return data
    write_to(dest, data)
    return None


def plan_fields(texts: list[str], to: str, src: str) -> list:
    """Dataset field texts -> their plans (field_plan.py)."""
    from ..field_plan import plan_field

    return [plan_field(t, to, src) for t in texts]


# --- the worker process ---------------------------------------------------------------------------------------

class _Forward(logging.Handler):
    def __init__(self, outbox):
        super().__init__(logging.INFO)
        self.outbox = outbox

    def emit(self, record):
        self.outbox.put(("log", None, (record.levelno, record.getMessage())))


def _serve(inbox, outbox, options, src, limits, level) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a forked worker would have the parent's handler
    logger = logging.getLogger("gugugo_cli")
    logger.handlers[:] = [_Forward(outbox)]
    logger.setLevel(level)
    logger.propagate = False
    parent = os.getppid()
    docs: dict[int, tuple] = {}
    while True:
        try:
            message = inbox.get(timeout=POLL_SECONDS)
        except queue.Empty:
            if os.getppid() != parent:
                return
            continue
        if message is None:
            usage = resource.getrusage(resource.RUSAGE_SELF) if resource is not None else None
            outbox.put(("usage", None, usage.ru_utime + usage.ru_stime if usage else 0.0))
            return
        kind, ident, payload = message
        try:
            outbox.put((kind, ident, _answer(kind, ident, payload, docs, options, src, limits)))
        except GugugoError as e:
            outbox.put(("failed", ident, portable(e)))
        except Exception as e:  # noqa: BLE001 - handed to the main process, which stops the run with it
            outbox.put(("crashed", ident, f"{type(e).__name__}: {e}"))


def _answer(kind, ident, payload, docs, options, src, limits):
    if kind == "plan":
        source, data, keep = payload
        doc, plans, planned = plan_file(source, data, options, src, limits)
        if keep:
            docs[ident] = (doc, plans)
        return planned
    if kind == "drop":  # a document that gets no output
        docs.pop(payload, None)
        return None
    if kind == "render":
        planned, translations, dest = payload
        doc, plans = docs.pop(planned)
        return render_file(doc, plans, translations, dest)
    if kind == "fields":
        texts, to = payload
        return plan_fields(texts, to, src)
    raise ValueError(f"unknown request {kind!r}")


def split_language(tgt: Optional[str], src: str) -> Optional[str]:
    """The language whose sentences a run splits: src, or (auto) the one that is not tgt (text already in tgt
    is left as it is)."""
    if src != "auto":
        return src
    return other_language(tgt)


def preload(lang: Optional[str]) -> None:
    """The splitter of lang loaded here before the workers are forked from this process, so that they share its
    memory (Kiwi's model: ~500 MB and ~3 CPU-seconds a load) instead of each loading its own. Not kss, which
    starts threads."""
    from .. import splitters

    if lang == "en" or (lang == "ko" and splitters.korean_splitter() == "kiwi"):
        splitters.preload(lang)


def _can_fork() -> bool:
    """fork is safe here: Linux, torch not loaded, and no other Python thread (one could hold a lock the
    workers need, such as the logging one, at the moment of the fork)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods() \
        and "torch" not in sys.modules and threading.active_count() == 1


def _context(lang: Optional[str] = None):
    """fork when it is safe (the workers start in milliseconds, sharing the splitter loaded for lang), else
    forkserver (a fresh server process the workers are forked from), else spawn: never a fork of a process
    holding torch or running other threads."""
    methods = multiprocessing.get_all_start_methods()
    if _can_fork():
        try:
            preload(lang)
        except Exception as e:  # noqa: BLE001 - each worker loads it then, and reports what fails
            log.debug("the sentence splitter was not loaded before the workers: %s", e)
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        # imported once, in the server the workers are forked from (preload: its splitter, see _starting)
        ctx.set_forkserver_preload([__name__, f"{__package__}.preload"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextmanager
def _starting(lang: Optional[str]):
    """While workers start: a forkserver started now (job/preload.py) loads the splitter of lang."""
    saved = os.environ.get(PRELOAD_VAR)
    os.environ[PRELOAD_VAR] = lang or ""
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(PRELOAD_VAR, None)
        else:
            os.environ[PRELOAD_VAR] = saved


class Workers:
    """N worker processes. `ask(kind, payload)` sends a request (to the least busy worker, or to the one that
    holds what it needs) and returns its id; `answer(id)` waits for that request's answer."""

    def __init__(self, count: int, options=None, src: str = "auto", limits=None, tgt: Optional[str] = None):
        lang = split_language(tgt or getattr(options, "tgt", None), src)
        ctx = _context(lang)
        self.outbox = ctx.Queue()
        self.inboxes, self.processes = [], []
        self.busy: list[int] = []
        self.owner: dict[int, int] = {}  # request id -> the worker it went to
        self.holder: dict[int, int] = {}  # plan request id -> the worker holding its document
        self.answers: dict[int, tuple] = {}
        self.next_id = 0
        with _starting(lang):
            for _ in range(count):
                inbox = ctx.Queue()
                proc = ctx.Process(target=_serve, args=(inbox, self.outbox, options, src, limits,
                                                        logging.getLogger("gugugo_cli").getEffectiveLevel()),
                                   daemon=True)
                proc.start()
                self.inboxes.append(inbox)
                self.processes.append(proc)
                self.busy.append(0)

    def ask(self, kind: str, payload, after: Optional[int] = None) -> int:
        """after: the id of the plan request whose document this request renders (sent to the same worker)."""
        ident = self.next_id
        self.next_id += 1
        worker = self.holder.pop(after) if after is not None else min(range(len(self.busy)), key=self.busy.__getitem__)
        if kind == "plan" and payload[2]:
            self.holder[ident] = worker
        self.owner[ident] = worker
        self.busy[worker] += 1
        self.inboxes[worker].put((kind, ident, payload))
        return ident

    @property
    def saturated(self) -> bool:
        """Whether the workers have enough queued: more would only wait there (and delay the files to write)."""
        return sum(self.busy) >= QUEUED_PER_WORKER * len(self.busy)

    def ready(self, ident: int) -> bool:
        """Whether the answer to a request is in (without waiting)."""
        self._collect(block=False)
        return ident in self.answers

    def wait(self) -> None:
        """Until one more answer comes in."""
        self._collect(block=True)

    def answer(self, ident: int):
        """The answer to a request: its value, or ("failed", GugugoError). Waits for it."""
        while ident not in self.answers:
            self._collect(block=True)
        kind, value = self.answers.pop(ident)
        if kind == "crashed":
            raise GugugoError(f"a worker process failed: {value}")
        return ("failed", value) if kind == "failed" else value

    def poll(self) -> None:
        """Every answer already in taken in (without waiting)."""
        while self._collect(block=False):
            pass

    def _collect(self, block: bool) -> bool:
        """One answer taken in (waiting for it: block); False when there was none."""
        while True:
            try:
                kind, ident, value = self.outbox.get(timeout=POLL_SECONDS) if block else self.outbox.get_nowait()
            except queue.Empty:
                if block:
                    self._check_alive()
                    continue
                return False
            if kind == "log":
                log.log(*value)
                continue
            self.answers[ident] = (kind, value)
            self.busy[self.owner.pop(ident)] -= 1
            return True

    def _check_alive(self) -> None:
        for proc in self.processes:
            if not proc.is_alive():
                raise GugugoError(f"a worker process stopped unexpectedly (exit code {proc.exitcode})")

    def _count_usage(self) -> None:
        """Each stopping worker's CPU time (it sends it last) into `used`, for a few seconds at most."""
        left, deadline = len(self.processes), time.monotonic() + 3
        while left and time.monotonic() < deadline:
            try:
                kind, _, value = self.outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            except (OSError, ValueError):
                return
            if kind == "usage":
                used["cpu_seconds"] += value
                left -= 1

    def close(self) -> None:
        """Every worker stopped: what it was still asked to do is dropped (Ctrl-C stops at once), it is asked
        to stop after what it is doing (a file being written is finished), and ended if it does not."""
        for inbox in self.inboxes:
            try:
                while True:
                    inbox.get_nowait()
            except (queue.Empty, OSError, ValueError):
                pass
            try:
                inbox.put(None)
            except (OSError, ValueError):
                pass
        self._count_usage()
        for proc in self.processes:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
        for q in self.inboxes + [self.outbox]:
            q.close()
            q.cancel_join_thread()


class InProcess:
    """The same requests as Workers, done at once in this process."""

    def __init__(self, options=None, src: str = "auto", limits=None):
        self.options, self.src, self.limits = options, src, limits
        self.docs: dict[int, tuple] = {}
        self.answers: dict[int, object] = {}
        self.next_id = 0

    def ask(self, kind: str, payload, after: Optional[int] = None) -> int:
        ident = self.next_id
        self.next_id += 1
        self.answers[ident] = (kind, payload)  # done when its answer is asked for: a lazy pipeline
        return ident

    def hold(self, doc, plans) -> int:
        """A document already read and planned here, as if a plan request had made it."""
        ident = self.next_id
        self.next_id += 1
        self.docs[ident] = (doc, plans)
        return ident

    saturated = False

    def ready(self, ident: int) -> bool:
        return True

    def wait(self) -> None:
        pass

    def poll(self) -> None:
        pass

    def answer(self, ident: int):
        kind, payload = self.answers.pop(ident)
        if kind == "render":  # the bytes come back: the caller writes them (its own write function)
            payload = payload[:2] + (None,)
        try:
            return _answer(kind, ident, payload, self.docs, self.options, self.src, self.limits)
        except GugugoError as e:
            return ("failed", portable(e))

    def close(self) -> None:
        self.docs.clear()


def start(workers: int, options=None, src: str = "auto", limits=None):
    """Workers(workers, ...) for more than one worker, else InProcess."""
    if workers > 1:
        return Workers(workers, options, src, limits)
    return InProcess(options, src, limits)


def is_failure(answer) -> bool:
    return isinstance(answer, tuple) and len(answer) == 2 and answer[0] == "failed"

