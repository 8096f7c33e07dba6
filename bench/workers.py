"""--workers: wall rate, CPU time and memory of the host work (read, split, plan, render, write) with 1 and N
worker processes, on a large folder and a large dataset, with a translator that answers at once (a marked copy
of its input); and the time to the first output of a folder of many small files.

    python bench/workers.py                       # en→ko, 2,000 files of 5 sentences, 20,000 dataset rows
    python bench/workers.py --workers 1,2,4 --files 500 --rows 5000 --direction ko-en
    python bench/workers.py --kinds many --many 10000       # first output of 10,000 one-line files
    python bench/workers.py --kinds dataset --repeat 3     # on a shared machine: the fastest of 3 runs each
    python bench/workers.py --workers 1,2,1x2              # 1x2: two one-worker runs at once (the ceiling)

Inputs are built from the news dev sentences (tests/data/korean-english-park.dev.{en,ko}), each made distinct,
so every sentence is split and planned. The folder goes through job.run_files (what `gugugo-translate FOLDER
-o OUT` runs), the dataset (JSON Lines, fields `instruction` and `output`) through datasets.translate_dataset,
each with the segment cache off. Each run is a fresh process (as a command is: the splitter's loading counts),
watched from this one. Reported per run: wall seconds, segments per wall-second, CPU seconds of the run's main
process, of its workers and of all of them (with the splitter's loading), segments per CPU-second of all, the
peak memory of the main process and its workers together (the sum of their RSS, and of their PSS, which counts
a page shared by k processes as 1/k in each: the memory really used), the seconds to the first written output
and the speed-up over one worker: on the wall clock (meaningful on an otherwise idle machine) and bounded by
CPU time (segments over the larger of the main process's CPU time and the workers' CPU time shared by N cores:
what N free cores would give when neither side waits for the other, robust on a shared machine). `1x2` runs two
one-worker runs of the same input at once: their joint rate over one run's is what two busy cores of this
machine give at most, whatever the code (caches, memory bandwidth and the host's CPU sharing included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DATA = HERE.parent / "tests" / "data"


class Instant:
    cache_key = "instant"

    def translate_batch(self, texts, src, tgt):
        return [f"«{t}»" for t in texts]


def sentences(lang: str, count: int) -> list[str]:
    lines = [l.strip() for l in (DATA / f"korean-english-park.dev.{lang}").read_text(encoding="utf-8").splitlines()
             if l.strip()]
    return [f"{lines[i % len(lines)]} ({i})" if i >= len(lines) else lines[i] for i in range(count)]


def build_folder(folder: Path, lang: str, files: int, per_file: int) -> Path:
    folder.mkdir()
    pool = sentences(lang, files * per_file)
    for i in range(files):
        part = pool[i * per_file:(i + 1) * per_file]
        (folder / f"doc{i:05d}.txt").write_text(" ".join(part) + "\n", encoding="utf-8")
    return folder


def build_dataset(path: Path, lang: str, rows: int) -> Path:
    pool = sentences(lang, 2 * rows)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            f.write(json.dumps({"id": i, "instruction": pool[2 * i], "output": pool[2 * i + 1]}, ensure_ascii=False)
                    + "\n")
    return path


def cpu_seconds(who=resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def first_output(folder: Path, started_ns: int):
    """Seconds from the start to the first output written (the earliest modification time of an output)."""
    times = [e.stat().st_mtime_ns for e in os.scandir(folder) if e.is_file() and not e.name.startswith(".")]
    return round((min(times) - started_ns) / 1e9, 2) if times else None


# --- one run, in a fresh process --------------------------------------------------------------------------

def run_one(kind: str, workers: int, source: Path, tgt: str, out: Path) -> dict:
    from gugugo_cli import job
    from gugugo_cli.datasets import translate_dataset
    from gugugo_cli.formats import FormatOptions
    from gugugo_cli.job import host

    started_ns, wall = time.time_ns(), time.perf_counter()
    if kind in ("folder", "many"):
        summary = job.Summary()
        tasks = job.find_inputs([str(source)], tgt, str(out), True, summary=summary)
        job.run_files(tasks, tgt, Instant, "instant", job.SegmentCache(None), summary,
                      options=FormatOptions(tgt=tgt), workers=workers)
        segments = summary.segments
    else:
        segments = translate_dataset(source, ["instruction", "output"], tgt, Instant(), output=out / "data.jsonl",
                                     workers=workers).segments
    wall = time.perf_counter() - wall
    return dict(segments=segments, wall_s=round(wall, 2), main_cpu_s=round(cpu_seconds(), 2),
                workers_cpu_s=round(host.used["cpu_seconds"], 2), first_output_s=first_output(out, started_ns))


# --- this process: runs each in a child, watching its memory -------------------------------------------------

def tree(pid: int) -> list[int]:
    """pid and its descendants (from /proc/PID/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB of a process, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line and not line[0].isdigit())
        return int(fields["Rss"].split()[0]), int(fields["Pss"].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, 0


class Watch(threading.Thread):
    """The peak of the summed RSS and PSS of a process and its descendants, sampled every 0.1 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.rss, self.pss, self.done = pid, 0, 0, False

    def run(self):
        while not self.done:
            sums = [sum(x) for x in zip(*(memory(p) for p in tree(self.pid)))] or [0, 0]
            self.rss, self.pss = max(self.rss, sums[0]), max(self.pss, sums[1])
            time.sleep(0.1)


def measure(kind: str, workers: int, source: Path, tgt: str, out: Path, copies: int = 1) -> dict:
    """One run (copies > 1: that many independent runs at once, each with its own output folder)."""
    outs = [out / str(i) for i in range(copies)]
    shutil.rmtree(out, ignore_errors=True)
    for folder in outs:
        folder.mkdir(parents=True)
    before = cpu_seconds(resource.RUSAGE_CHILDREN)
    children = [subprocess.Popen([sys.executable, __file__, "--one", kind, str(workers), str(source), tgt, str(o)],
                                 stdout=subprocess.PIPE, text=True) for o in outs]
    watches = [Watch(child.pid) for child in children]
    for watch in watches:
        watch.start()
    rows = []
    for child, watch in zip(children, watches):
        stdout, _ = child.communicate()
        watch.done = True
        watch.join()
        if child.returncode:
            raise SystemExit(f"the {kind} run with {workers} workers failed")
        rows.append(json.loads(stdout.strip().splitlines()[-1]))
    row = dict(kind=kind, workers=workers if copies == 1 else f"{workers}x{copies} at once",
               **{k: round(sum(r[k] for r in rows), 2) for k in ("segments", "main_cpu_s", "workers_cpu_s")},
               wall_s=max(r["wall_s"] for r in rows), first_output_s=min(r["first_output_s"] or 0 for r in rows) or None)
    row["all_cpu_s"] = round(cpu_seconds(resource.RUSAGE_CHILDREN) - before, 2)
    row["segments_per_cpu_s"] = round(row["segments"] / row["all_cpu_s"], 1)
    row["segments_per_wall_s"] = round(row["segments"] / row["wall_s"], 1)
    # on N free cores the run takes at least the main process's CPU time, and the workers' CPU time over N
    bound = max(row["main_cpu_s"], row["workers_cpu_s"] / workers) if workers > 1 else row["main_cpu_s"] / copies
    row["segments_per_bound_s"] = round(row["segments"] / bound, 1)
    row["peak_rss_mb"] = round(sum(w.rss for w in watches) / 1024)
    row["peak_pss_mb"] = round(sum(w.pss for w in watches) / 1024)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--per-file", type=int, default=5)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--many", type=int, default=10000, help="files of one sentence each for the 'many' kind")
    ap.add_argument("--direction", choices=["en-ko", "ko-en"], default="en-ko")
    ap.add_argument("--kinds", default="folder,dataset", help="folder, dataset, many")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each, alternated; the fastest is kept")
    ap.add_argument("--one", nargs=5, metavar=("KIND", "N", "SOURCE", "TGT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        kind, n, source, tgt, out = args.one
        print(json.dumps(run_one(kind, int(n), Path(source), tgt, Path(out))), flush=True)
        return
    from gugugo_cli.job.host import default_workers

    src, tgt = args.direction.split("-")
    counts = args.workers.split(",")  # "1x2": two one-worker runs at once, the machine's ceiling for 2 processes
    print(f"# {platform.processor() or platform.machine()}, {default_workers()} default workers, "
          f"{args.direction}, load {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            source = {"folder": lambda: build_folder(Path(tmp) / "docs", src, args.files, args.per_file),
                      "many": lambda: build_folder(Path(tmp) / "many", src, args.many, 1),
                      "dataset": lambda: build_dataset(Path(tmp) / "data.jsonl", src, args.rows)}[kind]()
            best: dict = {}
            for _ in range(args.repeat):  # alternated, the run with the least wall time of each count kept
                for n in counts:
                    workers, _, copies = n.partition("x")
                    row = measure(kind, int(workers), source, tgt, Path(tmp) / "out", int(copies or 1))
                    print("#", json.dumps(row), flush=True)
                    if n not in best or row["wall_s"] < best[n]["wall_s"]:
                        best[n] = row
            base = None
            for n in counts:
                row = best[n]
                base = base or row
                row["speedup_wall"] = round(row["segments_per_wall_s"] / base["segments_per_wall_s"], 2)
                row["speedup_cpu_bound"] = round(row["segments_per_bound_s"] / base["segments_per_bound_s"], 2)
                print(json.dumps(row), flush=True)
    print(f"# load {os.getloadavg()[0]:.2f} at the end", flush=True)


if __name__ == "__main__":
    main()
