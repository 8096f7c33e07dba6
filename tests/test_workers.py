"""--workers: files read, split and written in worker processes give the same outputs and summary as one
process; files are translated and written while later ones are still being read; Ctrl-C keeps what is done."""

import shutil
import sys
from pathlib import Path

import pytest

from conftest import MarkTranslator
from gugugo_cli import job
from gugugo_cli.formats import FormatOptions

REALWORLD = Path(__file__).parent / "data" / "realworld"


class Recording(MarkTranslator):
    cache_key = "recording-v1"

    def __init__(self, on_call=None):
        super().__init__()
        self.on_call = on_call

    def translate_stream(self, texts, src, tgt):
        if self.on_call is not None:
            self.on_call(len(self.calls))
        self.calls.append((list(texts), src, tgt))
        for i, t in enumerate(texts):
            yield i, f"«{t}»"


def run_folder(folder, out, translator, workers, tgt="ko"):
    summary = job.Summary()
    tasks = job.find_inputs([str(folder)], tgt, str(out), False, summary=summary)
    cache = job.SegmentCache(None)
    job.run_files(tasks, tgt, lambda: translator, translator.cache_key, cache, summary,
                  options=FormatOptions(tgt=tgt), workers=workers)
    return summary


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_workers_give_the_outputs_and_summary_of_one_process(tmp_path):
    """Every format, a file that fails to read, one that repeats another's text: byte for byte the same."""
    docs = tmp_path / "docs"
    docs.mkdir()
    kinds = {}
    for path in sorted(REALWORLD.iterdir()):
        if kinds.setdefault(path.suffix, 0) < 2:
            kinds[path.suffix] += 1
            shutil.copy(path, docs / path.name)
    (docs / "broken.docx").write_bytes(b"PK\x03\x04 not a package")
    (docs / "twice.txt").write_text("A sentence seen twice. Another one.\n", encoding="utf-8")
    (docs / "twice-again.txt").write_text("A sentence seen twice.\n", encoding="utf-8")
    one, two = Recording(), Recording()
    first = run_folder(docs, tmp_path / "one", one, workers=1)
    second = run_folder(docs, tmp_path / "two", two, workers=2)
    assert len(first.translated) > 10 and first.failed and first.segments > 100
    assert tree_bytes(tmp_path / "one") == tree_bytes(tmp_path / "two")
    assert (first.translated, first.failed, first.segments, first.unique) == \
        (second.translated, second.failed, second.segments, second.unique)
    assert one.calls == two.calls  # the same chunks, in the same order
    assert sorted(one.segments) == sorted(set(one.segments))  # each distinct segment translated once


@pytest.mark.parametrize("workers", [1, 2])
def test_first_outputs_are_written_before_the_last_input_is_read(tmp_path, workers):
    """1,000 one-sentence files. When the translator first runs, no output exists; when it runs again, the first
    file's output is there (a worker may take a moment to write it) while the last file is not read yet: it is
    changed then, and its output has the new text."""
    import time

    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(1000):
        (docs / f"f{i:03d}.txt").write_text(f"File number {i} says hello.\n", encoding="utf-8")
    out = tmp_path / "out"
    first_output = out / "f000.ko.txt"
    seen = []

    def on_call(n):
        if n == 1:
            deadline = time.monotonic() + 30
            while not first_output.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            (docs / "f999.txt").write_text("Changed at the second call.\n", encoding="utf-8")
        seen.append(first_output.exists())

    translator = Recording(on_call)
    summary = run_folder(docs, out, translator, workers)
    assert seen[:2] == [False, True] and len(seen) > 2
    assert (out / "f999.ko.txt").read_text(encoding="utf-8") == "«Changed at the second call.»\n"
    assert summary.translated == [str(docs / f"f{i:03d}.txt") for i in range(1000)]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_workers_load_no_torch(tmp_path):
    """Reading and splitting in a worker never loads torch (nor would a fork after torch was loaded be safe)."""
    import torch  # noqa: F401 - loaded in this process, as it is once the model runs
    from gugugo_cli.job.host import Workers

    doc = tmp_path / "a.txt"
    doc.write_text("한국어 문장입니다. 두 번째 문장.\nAn English line. Another one.\n", encoding="utf-8")
    workers = Workers(1, FormatOptions(tgt="en"))
    try:
        keys = workers.answer(workers.ask("plan", (str(doc), None, False))).keys
        maps = Path(f"/proc/{workers.processes[0].pid}/maps").read_text()
    finally:
        workers.close()
    assert ("ko", "두 번째 문장.") in keys
    assert "libtorch" not in maps and "transformers" not in maps


class Interrupting(Recording):
    def __init__(self, after):
        super().__init__()
        self.after = after

    def translate_stream(self, texts, src, tgt):
        for n, item in enumerate(super().translate_stream(texts, src, tgt)):
            if n == self.after:
                raise KeyboardInterrupt
            yield item


def test_ctrl_c_with_workers_writes_the_finished_files_whole(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(6):
        (docs / f"f{i}.txt").write_text(f"Sentence number {i} is here. Another one for file {i}.\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_folder(docs, out, Interrupting(after=7), workers=2)
    written = sorted(p.name for p in out.iterdir())
    assert written == ["f0.ko.txt", "f1.ko.txt", "f2.ko.txt"]  # no temp file left, the three finished files
    for name in written:
        assert (out / name).read_text(encoding="utf-8").count("«") == 2


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_datasets_split_in_workers_give_the_single_process_output(tmp_path, suffix):
    """Windows of rows split in worker processes while earlier windows are translated: the same output and
    failed rows as one process, and the same calls to the translator."""
    import csv
    import json

    from gugugo_cli.datasets import translate_dataset

    en = (Path(__file__).parent / "data" / "korean-english-park.dev.en").read_text(encoding="utf-8").splitlines()
    rows = [{"id": i, "q": f"{en[i % len(en)]} Row {i}.", "a": "A reply. With two sentences." if i % 3 else 7}
            for i in range(700)]
    src = tmp_path / f"data{suffix}"
    if suffix == ".jsonl":
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    else:
        with open(src, "w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, ["id", "q", "a"])
            writer.writeheader()
            writer.writerows(rows)
    one, two = Recording(), Recording()
    first = translate_dataset(src, ["q", "a"], "ko", one, output=tmp_path / f"one{suffix}", window_rows=100)
    second = translate_dataset(src, ["q", "a"], "ko", two, output=tmp_path / f"two{suffix}", window_rows=100,
                               workers=2)
    assert (tmp_path / f"one{suffix}").read_bytes() == (tmp_path / f"two{suffix}").read_bytes()
    assert (first.rows, first.rows_changed, first.rows_failed, first.segments) == \
        (second.rows, second.rows_changed, second.rows_failed, second.segments)
    assert first.rows == 700 and first.rows_changed > 400 and one.calls == two.calls
    if suffix == ".jsonl":
        assert (tmp_path / "one.failed.jsonl").read_bytes() == (tmp_path / "two.failed.jsonl").read_bytes()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_translator_starts_after_few_of_many_files_are_read(tmp_path, workers):
    """2,000 small files. At the translator's first call every input is rewritten (atomically) with a new text:
    the outputs that still have the old text are the files read before it, and they are a few."""
    docs = tmp_path / "docs"
    docs.mkdir()
    files = [docs / f"f{i:04d}.txt" for i in range(2000)]
    for i, path in enumerate(files):
        path.write_text(f"File number {i} says hello.\n", encoding="utf-8")

    def rewrite_all(n):
        if n == 0:
            for i, path in enumerate(files):
                (docs / ".new").write_text(f"File {i} was rewritten.\n", encoding="utf-8")
                (docs / ".new").replace(path)

    out = tmp_path / "out"
    summary = run_folder(docs, out, Recording(rewrite_all), workers)
    assert len(summary.translated) == 2000
    read_before = [p.name for p in sorted(out.iterdir()) if "says hello" in p.read_text(encoding="utf-8")]
    assert 0 < len(read_before) < 200  # the first chunk's files and a few read ahead, not the folder
    assert read_before == [f"f{i:04d}.ko.txt" for i in range(len(read_before))]


def test_default_workers_are_the_cpus_that_the_memory_holds(monkeypatch):
    from gugugo_cli.job import sizing as host

    monkeypatch.setattr(host, "usable_cpus", lambda: 16)
    monkeypatch.setattr(host, "available_memory", lambda: None)
    assert host.default_workers() == 16
    monkeypatch.setattr(host, "available_memory", lambda: 3 * host.WORKER_BYTES + 1)
    assert host.default_workers() == 3
    monkeypatch.setattr(host, "available_memory", lambda: host.WORKER_BYTES // 2)
    assert host.default_workers() == 1
    monkeypatch.setattr(host, "usable_cpus", lambda: 2)
    monkeypatch.setattr(host, "available_memory", lambda: 64 * host.WORKER_BYTES)
    assert host.default_workers() == 2


def test_workers_are_not_forked_while_another_thread_runs():
    import threading

    from gugugo_cli.job import host

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not host._can_fork()
    finally:
        stop.set()
        thread.join()


SHARED_SPLITTER = r"""
import os, sys, threading
from pathlib import Path
if sys.argv[2] == "torch":
    import torch  # the workers are then started from a forkserver
from gugugo_cli.formats import FormatOptions
from gugugo_cli.job.host import Workers

doc = Path(sys.argv[1])
doc.write_text("오늘 A사가 발표했다 (1). 내일은 B사가 발표한다 (2). 모두 기다린다 (3).\n" * 50, encoding="utf-8")
workers = Workers(2, FormatOptions(tgt="en"))
threads = len(os.listdir("/proc/self/task"))  # before any queue's feeder thread: at the fork
try:
    asked = [workers.ask("plan", (str(doc), None, False)) for _ in range(4)]  # two to each worker
    keys = [workers.answer(ident).keys for ident in asked]
    private = []
    for proc in workers.processes:
        rollup = dict(l.split(":", 1) for l in open(f"/proc/{proc.pid}/smaps_rollup") if ":" in l and l[0].isupper())
        private.append(sum(int(rollup[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) // 1024)
finally:
    workers.close()
print(threads, type(workers.processes[0]).__name__, len(keys[0]), *private)
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists() or not sys.platform.startswith("linux"),
                    reason="reads /proc/PID/smaps_rollup")
@pytest.mark.parametrize("loaded", ["", "torch"])
def test_workers_share_one_korean_splitter(tmp_path, loaded):
    """Kiwi's model (~500 MB) is loaded once: in the main process before the workers are forked from it (it
    starts no thread there), or, once torch is loaded, in the server they are forked from. A worker that split
    Korean holds well under 200 MB of its own. A fresh process, as a command is."""
    import os
    import subprocess

    pytest.importorskip("kiwipiepy")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent), GUGUGO_SPLITTER="kiwi")
    done = subprocess.run([sys.executable, "-c", SHARED_SPLITTER, str(tmp_path / "ko.txt"), loaded], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    threads, kind, segments, *private = done.stdout.split()
    assert (kind, segments) == ("ForkServerProcess" if loaded else "ForkProcess", "150")
    assert threads == "1" or loaded
    assert all(int(mb) < 200 for mb in private), private
