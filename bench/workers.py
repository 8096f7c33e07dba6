"""--workers: wall rate of the host work (read, split, plan, render, write) with 1 and N worker processes, on a
large folder and a large dataset, with a translator that answers at once (a marked copy of its input).

    python bench/workers.py                       # en→ko, 2,000 files of 5 sentences, 20,000 dataset rows
    python bench/workers.py --workers 1,2,4 --files 500 --rows 5000 --direction ko-en

Inputs are built from the news dev sentences (tests/data/korean-english-park.dev.{en,ko}), each made distinct,
so every sentence is split and planned. The folder goes through job.run_files (what `gugugo-translate FOLDER
-o OUT` runs), the dataset (JSON Lines, fields `instruction` and `output`) through datasets.translate_dataset,
each with the segment cache off. Reported per run: wall seconds, segments per wall-second, CPU seconds of
this process and of the workers, seconds to the first written output, and the speed-up over one worker:
on the wall clock (meaningful on an otherwise idle machine) and bounded by CPU time (segments over the larger
of the main process's CPU time and the workers' CPU time shared by N cores: what N free cores would give when
neither side waits for the other, robust on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from gugugo_cli import job  # noqa: E402
from gugugo_cli.datasets import translate_dataset  # noqa: E402
from gugugo_cli.formats import FormatOptions  # noqa: E402

DATA = HERE.parent / "tests" / "data"


class Instant:
    cache_key = "instant"

    def translate_batch(self, texts, src, tgt):
        return [f"«{t}»" for t in texts]


def sentences(lang: str, count: int) -> list[str]:
    lines = [l.strip() for l in (DATA / f"korean-english-park.dev.{lang}").read_text(encoding="utf-8").splitlines()
             if l.strip()]
    return [f"{lines[i % len(lines)]} ({i})" if i >= len(lines) else lines[i] for i in range(count)]


def build(folder: Path, lang: str, files: int, per_file: int, rows: int) -> tuple[Path, Path]:
    docs = folder / "docs"
    docs.mkdir()
    pool = sentences(lang, files * per_file)
    for i in range(files):
        part = pool[i * per_file:(i + 1) * per_file]
        (docs / f"doc{i:05d}.txt").write_text(" ".join(part) + "\n", encoding="utf-8")
    pool = sentences(lang, 2 * rows)
    data = folder / "data.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for i in range(rows):
            f.write(json.dumps({"id": i, "instruction": pool[2 * i], "output": pool[2 * i + 1]}, ensure_ascii=False)
                    + "\n")
    return docs, data


def cpu_seconds() -> float:
    """This process's CPU time (the workers' comes from job.host.used: forked ones would count as children)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


class FirstOutput(threading.Thread):
    """Seconds from start until a file matching `pattern` appears under `folder`."""

    def __init__(self, folder: Path, pattern: str):
        super().__init__(daemon=True)
        self.folder, self.pattern, self.started, self.seconds = folder, pattern, time.perf_counter(), None
        self.stop = False

    def run(self):
        while not self.stop and self.seconds is None:
            if self.folder.exists() and any(self.folder.glob(self.pattern)):
                self.seconds = time.perf_counter() - self.started
            time.sleep(0.005)


def measure(kind: str, workers: int, docs: Path, data: Path, tgt: str, out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    watch = FirstOutput(out, "*.txt" if kind == "folder" else "*.jsonl")
    from gugugo_cli.job import host

    cpu, wall, workers_cpu = cpu_seconds(), time.perf_counter(), host.used["cpu_seconds"]
    watch.start()
    if kind == "folder":
        summary = job.Summary()
        tasks = job.find_inputs([str(docs)], tgt, str(out), True, summary=summary)
        job.run_files(tasks, tgt, Instant, "instant", job.SegmentCache(None), summary,
                      options=FormatOptions(tgt=tgt), workers=workers)
        segments = summary.segments
    else:
        segments = translate_dataset(data, ["instruction", "output"], tgt, Instant(), output=out / "data.jsonl",
                                     workers=workers).segments
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    workers_cpu = host.used["cpu_seconds"] - workers_cpu
    watch.stop = True
    # on N free cores the run takes at least the main process's CPU time, and the workers' CPU time over N
    bound = max(cpu, workers_cpu / workers) if workers > 1 else cpu
    return dict(kind=kind, workers=workers, segments=segments, wall_s=round(wall, 2),
                segments_per_wall_s=round(segments / wall, 1), main_cpu_s=round(cpu, 2),
                workers_cpu_s=round(workers_cpu, 2), segments_per_bound_s=round(segments / bound, 1),
                first_output_s=None if watch.seconds is None or kind != "folder" else round(watch.seconds, 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--per-file", type=int, default=5)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--direction", choices=["en-ko", "ko-en"], default="en-ko")
    ap.add_argument("--kinds", default="folder,dataset")
    args = ap.parse_args()
    src, tgt = args.direction.split("-")
    counts = [int(n) for n in args.workers.split(",")]
    print(f"# {platform.processor() or platform.machine()}, {job.default_workers()} CPUs usable, "
          f"{args.direction}", flush=True)
    from gugugo_cli.segment import plan_text

    plan_text(sentences(src, 3)[0] + " " + sentences(src, 3)[1], tgt)  # this process's splitter loaded first
    with tempfile.TemporaryDirectory() as tmp:
        docs, data = build(Path(tmp), src, args.files, args.per_file, args.rows)
        for kind in args.kinds.split(","):
            base = None
            for n in counts:
                row = measure(kind, n, docs, data, tgt, Path(tmp) / "out")
                base = base or row
                row["speedup_wall"] = round(row["segments_per_wall_s"] / base["segments_per_wall_s"], 2)
                row["speedup_cpu_bound"] = round(row["segments_per_bound_s"] / base["segments_per_bound_s"], 2)
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
