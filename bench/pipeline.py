"""The host side of a run, without a model: segments per CPU-second and per wall-second of the documents command
and the datasets command, with a translator that answers at once (a marked copy of its input, «text»).

The real entry point runs in this process (`gugugo_cli.cli`, as `gugugo-translate` runs it: read, split, plan,
cache look-up, translate, store, render, write), with the segment cache on in a temp folder, once per workload
and direction. Only the engine's loading is replaced (by the instant translator). CPU time is this process's
and its children's (resource.getrusage RUSAGE_SELF + RUSAGE_CHILDREN), so worker processes count too.

    python bench/pipeline.py --data ../shared/data            # 1,000 distinct sentences a direction
    python bench/pipeline.py --data ../shared/data --quick    # a smoke run (seconds)

Inputs are built from the sentence pairs (`korean-english-park.dev.{en,ko}`), every sentence made distinct:
en→ko translates the English side, ko→en the Korean side. Workloads: txt (paragraphs of 5 sentences), md
(headings, paragraphs of 4 sentences, list items), docx (paragraphs of 5 sentences), srt (one sentence a cue),
jsonl (the datasets command: `--field instruction --field output`, one sentence each). Baselines in the same
run: the instant translator alone on the same segments, and `--dry-run` (read, split, plan, cache look-up).
The time inside the sentence splitter is measured apart (segment.sentence_spans in this process), so the rate
without splitting can be judged; the splitter's import and first call are reported on their own.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
ECHO_MODEL = HERE.parent / "tests" / "models" / "echo"
FORMATS = ("txt", "srt", "docx", "md", "jsonl")
DIRECTIONS = (("en", "ko"), ("ko", "en"))


# --- Inputs ---------------------------------------------------------------------------------------------

def distinct_sentences(data: Path, lang: str, count: int) -> list[str]:
    """The first `count` sentences of the news dev set in `lang`, each made distinct (a repeat gets a number)."""
    lines = [l.strip() for l in (data / f"korean-english-park.dev.{lang}").read_text(encoding="utf-8").splitlines()]
    seen: dict[str, int] = {}
    out = []
    for line in (l for l in lines if l):
        seen[line] = seen.get(line, 0) + 1
        out.append(line if seen[line] == 1 else f"({seen[line]}) {line}")
        if len(out) == count:
            break
    while len(out) < count:  # a short file: numbered copies
        out.append(f"({len(out) + 1}) {out[len(out) % max(1, len(lines))]}")
    return out


def _chunks(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _write_txt(path: Path, sentences: list[str]) -> None:
    path.write_text("\n\n".join(" ".join(p) for p in _chunks(sentences, 5)) + "\n", encoding="utf-8")


def _write_md(path: Path, sentences: list[str]) -> None:
    blocks = []
    for n, part in enumerate(_chunks(sentences, 10)):
        blocks.append(f"## {part[0]}")
        blocks.append(" ".join(part[1:5]))
        blocks.append("\n".join(f"- {s}" for s in part[5:]))
    path.write_text("\n\n".join(b for b in blocks if b.strip()) + "\n", encoding="utf-8")


def _write_srt(path: Path, sentences: list[str]) -> None:
    cues = []
    for n, s in enumerate(sentences):
        a, b = 2 * n, 2 * n + 1
        cues.append(f"{n + 1}\n00:{a // 60:02d}:{a % 60:02d},000 --> 00:{b // 60:02d}:{b % 60:02d},500\n{s}\n")
    path.write_text("\n".join(cues), encoding="utf-8")


def _write_docx(path: Path, sentences: list[str]) -> None:
    import docx

    d = docx.Document()
    for p in _chunks(sentences, 5):
        d.add_paragraph(" ".join(p))
    d.save(str(path))


def _write_jsonl(path: Path, sentences: list[str]) -> None:
    rows = [{"id": n, "instruction": pair[0], "output": pair[-1] if len(pair) > 1 else ""}
            for n, pair in enumerate(_chunks(sentences, 2))]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


WRITERS = {"txt": _write_txt, "md": _write_md, "srt": _write_srt, "docx": _write_docx, "jsonl": _write_jsonl}


def build_inputs(folder: Path, fmt: str, sentences: list[str], files: int) -> list[Path]:
    folder.mkdir(parents=True)
    per_file = -(-len(sentences) // files)
    paths = []
    for n, part in enumerate(_chunks(sentences, per_file)):
        path = folder / f"part{n:03d}.{fmt}"
        WRITERS[fmt](path, part)
        paths.append(path)
    return paths


# --- The instant translator and what the run measures ---------------------------------------------------

def instant_translator(cache_key: str = ""):
    from gugugo_cli.engines.base import EngineStats, StreamingTranslator, Translation

    class Instant(StreamingTranslator):
        """A marked copy of each text, at once; counts the texts it was given."""

        def __init__(self):
            self.cache_key, self.stats, self.count = cache_key, EngineStats(), 0

        def translate_stream(self, texts, src, tgt):
            texts = list(texts)
            self.count += len(texts)
            for i, text in enumerate(texts):
                yield Translation(i, f"«{text}»")

    return Instant()


def cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


def first_output(folder: Path, started_ns: int) -> Optional[float]:
    """Seconds from the start to the first output written (the earliest modification time of an output; the
    outputs are written to a temp file and renamed, so that is when its last byte was written)."""
    times = [p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return max(0.0, (min(times) - started_ns) / 1e9) if times else None  # file times tick coarsely


@contextmanager
def patched(translators: list):
    """The engine's loading replaced by the instant translator (one per run, kept in `translators`), transformers'
    log settings left alone, and the time inside the sentence splitter added up in the yielded dict."""
    from gugugo_cli import console, segment
    from gugugo_cli.engines import loading

    split = {"cpu": 0.0}
    spans = segment.sentence_spans

    def timed_spans(*args, **kwargs):
        started = time.process_time()
        try:
            return spans(*args, **kwargs)
        finally:
            split["cpu"] += time.process_time() - started

    def load(resolved):
        translators.append(instant_translator(resolved.cache_key))
        return translators[-1]

    saved = loading.load, console.quiet_transformers
    loading.load, console.quiet_transformers, segment.sentence_spans = load, (lambda: None), timed_spans
    try:
        yield split
    finally:
        (loading.load, console.quiet_transformers), segment.sentence_spans = saved, spans


def forget_memos() -> None:
    """Empty the package's memo caches (plans of dataset fields, word counts, ...), as a new process has them;
    the one-value caches that hold a loaded splitter stay (loading is reported apart)."""
    for name, module in list(sys.modules.items()):
        if not name.startswith("gugugo_cli"):
            continue
        for value in list(vars(module).values()):
            parameters = getattr(value, "cache_parameters", None)
            if callable(parameters) and parameters().get("maxsize") != 1:
                value.cache_clear()


def run_cli(args: list[str]) -> int:
    from gugugo_cli.cli import cli

    try:
        with redirect_stdout(io.StringIO()):  # --dry-run's report
            cli.main(args, prog_name="gugugo-translate", standalone_mode=False)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def cli_args(inputs: list[Path], fmt: str, src: str, tgt: str, out: Path, cache: Path, dry_run: bool,
             extra: list[str]) -> list[str]:
    args = [str(p) for p in inputs] + ["--to", tgt, "--from", src, "-o", f"{out}/", "--model", str(ECHO_MODEL),
                                       "--device", "cpu", "--dtype", "float32", "--cache", str(cache), "-q"]
    if fmt == "jsonl":
        args += ["--field", "instruction", "--field", "output"]
    return args + (["--dry-run"] if dry_run else []) + extra


def timed_run(work: Path, inputs: list[Path], fmt: str, src: str, tgt: str, dry_run: bool, extra: list[str]) -> dict:
    out = work / ("dry" if dry_run else "out")
    out.mkdir()
    translators: list = []
    forget_memos()
    with patched(translators) as split:
        started_ns, cpu0, wall0 = time.time_ns(), cpu_seconds(), time.perf_counter()
        code = run_cli(cli_args(inputs, fmt, src, tgt, out, work / "segments.sqlite3", dry_run, extra))
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    if code != 0:
        raise SystemExit(f"{fmt} {src}→{tgt}: the command exited with {code}")
    return dict(cpu=cpu, wall=wall, first=first_output(out, started_ns), split_cpu=split["cpu"], out=out,
                segments=sum(t.count for t in translators))


def marks_in(folder: Path) -> int:
    """How many translations («) the outputs hold."""
    total = 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                text = z.read("word/document.xml").decode("utf-8")
        else:
            text = path.read_text(encoding="utf-8")
        total += text.count("«") + text.count("\\u00ab")
    return total


def translator_alone(sentences: list[str], src: str, tgt: str) -> dict:
    """The floor: the instant translator on the segments, through the cache-less stream, nothing else."""
    from gugugo_cli.job import pool

    tr = instant_translator()
    keys = [(src, s) for s in sentences]
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for _ in pool.translate_keys(tr, keys, tgt):
        pass
    return dict(cpu=cpu_seconds() - cpu0, wall=time.perf_counter() - wall0, segments=tr.count)


# --- The ways, the report -------------------------------------------------------------------------------

def rate(segments: int, seconds: float) -> float:
    return round(segments / seconds, 1) if seconds > 0 else float("inf")


def one_workload(root: Path, fmt: str, src: str, tgt: str, sentences: list[str], files: int, repeat: int,
                 extra: list[str]) -> dict:
    """The best (least CPU) of `repeat` runs of the command, and one --dry-run."""
    inputs = build_inputs(root / f"{src}-{tgt}-{fmt}" / "in", fmt, sentences, files if fmt != "jsonl" else
                          max(1, files // 5))
    best = None
    for n in range(repeat):
        work = root / f"{src}-{tgt}-{fmt}" / f"run{n}"
        work.mkdir()
        result = timed_run(work, inputs, fmt, src, tgt, False, extra)
        if marks_in(result["out"]) < result["segments"]:  # repeated segments are translated once, shown twice
            raise SystemExit(f"{fmt} {src}→{tgt}: the outputs do not hold every translation")
        if best is None or result["cpu"] < best["cpu"]:
            best = result
    dry_work = root / f"{src}-{tgt}-{fmt}" / "dry-run"
    dry_work.mkdir()
    dry = timed_run(dry_work, inputs, fmt, src, tgt, True, extra)
    segs, cpu = best["segments"], best["cpu"]
    return dict(
        workload=fmt, direction=f"{src}→{tgt}", files=len(inputs), segments=segs,
        cpu_s=round(cpu, 3), wall_s=round(best["wall"], 3),
        seg_per_cpu_s=rate(segs, cpu), seg_per_wall_s=rate(segs, best["wall"]),
        first_output_s=None if best["first"] is None else round(best["first"], 3),
        split_cpu_s=round(best["split_cpu"], 3), split_share=round(best["split_cpu"] / cpu, 3) if cpu else None,
        seg_per_cpu_s_without_split=rate(segs, cpu - best["split_cpu"]),
        dry_run_seg_per_cpu_s=rate(segs, dry["cpu"]),
    )


# Each holds an end only the splitter can judge (W. and Mr. end no sentence), so the splitter itself runs.
_NEEDS_SPLITTER = {"ko": "조지 W. 부시 대통령이 왔다. 그는 떠났다.", "en": "Mr. Smith came home. He left."}


def splitter_load() -> dict:
    """CPU seconds of the first call of the sentence splitter per language (imports and model loading), and
    which splitter that is. The splitter is called directly: the workloads' own sentences may all end where
    no splitter is needed, and then the first timed run would pay the load."""
    from gugugo_cli import splitters

    loads = {}
    for lang in ("en", "ko"):
        started = cpu_seconds()
        splitters.split(_NEEDS_SPLITTER[lang], lang)
        loads[lang] = round(cpu_seconds() - started, 3)
    loads["korean_splitter"] = splitters.korean_splitter()
    return loads


def warm_up(root: Path, data: Path, formats: list[str], extra: list[str]) -> None:
    """One tiny run of each workload and direction first, so that no timed run pays an import."""
    for src, tgt in DIRECTIONS:
        sentences = distinct_sentences(data, src, 4)
        for fmt in formats:
            folder = root / "warm" / f"{src}-{fmt}"
            inputs = build_inputs(folder / "in", fmt, sentences, 1)
            timed_run(folder, inputs, fmt, src, tgt, False, extra)


def machine() -> dict:
    model = platform.processor()
    try:
        info = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("Model name")), model)
    except OSError:
        pass
    try:
        bf16 = "avx512_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        bf16 = None
    return dict(cpu=model, avx512_bf16=bf16, cores=os.cpu_count(), python=platform.python_version(),
                load_average=[round(x, 2) for x in os.getloadavg()])


def print_table(rows: list[dict]) -> None:
    head = ("workload", "direction", "segments", "seg_per_cpu_s", "seg_per_wall_s", "first_output_s", "split_share",
            "seg_per_cpu_s_without_split", "dry_run_seg_per_cpu_s")
    print(" | ".join(head), file=sys.stderr)
    for r in rows:
        print(" | ".join(str(r.get(h, "")) for h in head), file=sys.stderr)


def parse(argv) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(HERE.parent / "tests" / "data"),
                    help="folder with korean-english-park.dev.{en,ko}")
    ap.add_argument("--sentences", type=int, default=1000, help="distinct sentences a direction and workload")
    ap.add_argument("--files", type=int, default=10, help="files a document workload is cut into (datasets: 1/5)")
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of " + ",".join(FORMATS))
    ap.add_argument("--directions", default="en-ko,ko-en")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each workload; the least CPU is reported")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 20 sentences, 2 files, no warm-up")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--option", action="append", default=[], metavar="ARG",
                    help="an extra argument for the command (repeatable), e.g. --option=--workers --option=1")
    args = ap.parse_args(argv)
    if args.quick:
        args.sentences, args.files, args.repeat = min(args.sentences, 20), 2, 1
    return args


def main(argv=None) -> dict:
    import gugugo_cli

    args = parse(argv)
    formats = [f for f in args.formats.split(",") if f]
    directions = [tuple(d.split("-")) for d in args.directions.split(",") if d]
    root = Path(tempfile.mkdtemp(prefix="gugugo-pipeline-"))
    try:
        result = dict(machine=machine(), package=str(Path(gugugo_cli.__file__).parent), sentences=args.sentences,
                      splitter_first_call_cpu_s=splitter_load())
        if not args.quick:
            warm_up(root, Path(args.data), formats, args.option)
        rows = []
        for src, tgt in directions:
            sentences = distinct_sentences(Path(args.data), src, args.sentences)
            floor = translator_alone(sentences, src, tgt)
            rows.append(dict(workload="translator alone", direction=f"{src}→{tgt}", segments=floor["segments"],
                             seg_per_cpu_s=rate(floor["segments"], floor["cpu"]),
                             seg_per_wall_s=rate(floor["segments"], floor["wall"])))
            for fmt in formats:
                rows.append(one_workload(root, fmt, src, tgt, sentences, args.files, args.repeat, args.option))
        result["rows"] = rows
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    sys.path.append(str(HERE.parent))  # the checkout, unless PYTHONPATH or an install names another
    main()
