"""Sentence splitters compared: boundary accuracy on the gold sets (tests/data/splitting), speed in sentences per
CPU-second, load time, install size, and how splitting scales with the length of one paragraph.

    python bench/splitting.py --data ../shared/data            # everything (~3 minutes on 2 busy cores)
    python bench/splitting.py --skip-unchunked                 # without the slow quadratic reference runs
    python bench/splitting.py --scaling-only                   # 0.5-2 MB paragraphs; exit 1 if not linear

Accuracy and speed go through `segment.sentence_spans` (what a translation run does: the one-sentence check,
chunks, addresses kept whole) with each Korean splitter; "raw" speed calls the splitter on every paragraph.
Prints Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gugugo_cli import splitters  # noqa: E402
from gugugo_cli.segment import sentence_spans  # noqa: E402

GOLD = ROOT / "tests" / "data" / "splitting"
CONFIGS = {"ko": ["kiwi", "kss"], "en": ["pysbd"]}


def read_gold(lang: str) -> list[list[str]]:
    """Paragraphs of gold sentences: one sentence a line, paragraphs apart by blank or comment lines."""
    paragraphs, current = [], []
    for line in (GOLD / f"gold.{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            current.append(line.strip())
        elif current:
            paragraphs.append(current)
            current = []
    return paragraphs + ([current] if current else [])


def boundaries(sentences: list[str]) -> set[int]:
    out, pos = set(), 0
    for s in sentences[:-1]:
        pos += len(s) + 1
        out.add(pos)
    return out


def _use(config: str) -> None:
    if config in splitters.KOREAN_SPLITTERS:
        splitters.use_splitter(config)


def accuracy(lang: str, config: str, raw: bool = False) -> dict:
    """Boundary precision and recall against the gold set: through sentence_spans, or (raw) the splitter alone
    on each whole paragraph."""
    _use(config)
    tp = fp = fn = exact = 0
    paragraphs = read_gold(lang)
    for gold in paragraphs:
        text = " ".join(gold)
        spans = (splitters.split(text, lang) or [(0, len(text))]) if raw else sentence_spans(text, lang)
        found = {a for a, _ in spans} - {0}
        want = boundaries(gold)
        tp, fp, fn = tp + len(found & want), fp + len(found - want), fn + len(want - found)
        exact += found == want
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return dict(lang=lang, splitter=config + (" alone" if raw else ""), paragraphs=len(paragraphs),
                sentences=tp + fn + len(paragraphs),
                precision=round(p, 3), recall=round(r, 3), f1=round(2 * p * r / max(1e-9, p + r), 3),
                paragraphs_exact=round(exact / len(paragraphs), 3))


def dev_paragraphs(data: Path, lang: str, per: int = 5) -> list[str]:
    lines = []
    for name in ("jhe-koen-dev", "korean-english-park.dev"):
        lines += [l.strip() for l in (data / f"{name}.{lang}").read_text(encoding="utf-8").splitlines() if l.strip()]
    return [" ".join(lines[i:i + per]) for i in range(0, len(lines), per)]


def speed(lang: str, config: str, paragraphs: list[str]) -> dict:
    _use(config)
    splitters.split("가나다. 라마바." if lang == "ko" else "One. Two.", lang)  # loaded before the clock
    start = time.process_time()
    n = sum(len(sentence_spans(p, lang)) for p in paragraphs)
    pipeline = time.process_time() - start
    start = time.process_time()
    raw = sum(len(splitters.split(p, lang) or [1]) for p in paragraphs)
    raw_s = time.process_time() - start
    return dict(lang=lang, splitter=config, paragraphs=len(paragraphs), sentences=n,
                sentences_per_cpu_s=round(n / pipeline), raw_sentences_per_cpu_s=round(raw / raw_s))


_LOAD = """
import sys, time
sys.path.insert(0, {root!r})
from gugugo_cli import splitters
from gugugo_cli.segment import sentence_spans
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
splitters.use_splitter({config!r})
before, cpu, wall = rss(), time.process_time(), time.perf_counter()
sentence_spans({text!r}, {lang!r})
print(time.process_time() - cpu, time.perf_counter() - wall, rss() - before)
"""


# Each holds an end only the splitter can judge (W. and Mr. end no sentence), so the splitter itself runs.
NEEDS_SPLITTER = {"ko": "조지 W. 부시 대통령이 왔다. 그는 떠났다.", "en": "Mr. Smith came home. He left."}


def load_time(lang: str, config: str) -> dict:
    """Import and first call in a fresh process (the second of two runs, so the files are in the page cache)."""
    code = _LOAD.format(root=str(ROOT), config=config if lang == "ko" else None, text=NEEDS_SPLITTER[lang],
                        lang=lang)
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    cpu, wall, rss = out.split()
    return dict(splitter=config, load_cpu_s=round(float(cpu), 2), load_wall_s=round(float(wall), 2),
                rss_added_mb=round(int(rss) / 1024))


def _closure(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        dist = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if dist in seen:
            continue
        try:
            requires = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(dist)
        todo += [re.match(r"[A-Za-z0-9_.-]+", r).group() for r in requires if "extra ==" not in r]
    return seen


def _size(dist: str) -> int:
    files = metadata.distribution(dist).files or []
    return sum(f.locate().stat().st_size for f in files if f.locate().is_file())


def install_size(package: str) -> dict:
    """The package with its dependencies, and the part of that no other dependency of the project needs."""
    own = _closure(package)
    others = set()
    for requirement in metadata.requires("gugugo-translate") or []:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
        if "extra ==" not in requirement and name.lower() not in ("kss", package):
            others |= _closure(name)
    mb = lambda dists: round(sum(_size(d) for d in dists) / 2**20, 1)  # noqa: E731
    return dict(package=package, with_dependencies_mb=mb(own), beyond_other_dependencies_mb=mb(own - others),
                dependencies=sorted(own - {package.lower()}))


def scaling(lang: str, config: str, paragraphs: list[str], sizes: list[int], chunked: bool = True,
            repeat: int = 1) -> list[dict]:
    """One paragraph of `size` characters (the dev set repeated) split whole; seconds of CPU (the splitter
    loaded before; the least of `repeat` runs)."""
    _use(config)
    splitters.split(NEEDS_SPLITTER[lang], lang)
    text = " ".join(paragraphs)
    rows = []
    for size in sizes:
        sample = (text * (size // len(text) + 1))[:size]
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            if chunked:
                n = len(sentence_spans(sample, lang))
            else:
                n = len(splitters.split(sample, lang) or [])
            best = min(best, time.process_time() - start)
        rows.append(dict(lang=lang, splitter=config, chunked=chunked, chars=size, sentences=n, cpu_s=round(best, 2)))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    return rows


def doubling(rows: list[dict], limit: float = 3.0) -> list[dict]:
    """Linear cost: for each splitter, the CPU time of each size over that of half the size: 2 when the cost
    grows in step with the length, 4 when it is quadratic; above `limit` it grows faster than linear (a busy
    machine's noise moves the ratio by up to about half)."""
    out = []
    for row in rows:
        half = next((r for r in rows if (r["lang"], r["splitter"], r["chunked"]) ==
                     (row["lang"], row["splitter"], row["chunked"]) and r["chars"] * 2 == row["chars"]), None)
        if half and half["cpu_s"] > 0:
            ratio = row["cpu_s"] / half["cpu_s"]
            out.append(dict(lang=row["lang"], splitter=row["splitter"], chunked=row["chunked"],
                            chars=f"{half['chars']:,} → {row['chars']:,}", cpu_ratio=round(ratio, 2),
                            linear=ratio <= limit))
    return out


def no_spaces(size: int) -> dict:
    """A field of base64-like text with no space (the address search once started again at every character)."""
    sample = ("QmFzZTY0+/" * (size // 10 + 1))[:size] + ". 끝."
    start = time.process_time()
    n = len(sentence_spans(sample, "ko"))
    return dict(lang="ko", splitter="no spaces", chunked=True, chars=size, sentences=n,
                cpu_s=round(time.process_time() - start, 2))


def default_splitter_env() -> dict:
    """The environment without the splitter this process was told to use (the command picks its default)."""
    return {k: v for k, v in os.environ.items() if k != splitters.SPLITTER_ENV_VAR}


def dry_run_field(paragraphs: list[str], size: int) -> dict:
    """gugugo-translate --dry-run on a JSON Lines file whose one field holds `size` characters of Korean."""
    text = " ".join(paragraphs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.jsonl"
        path.write_text(json.dumps({"text": (text * (size // len(text) + 1))[:size]}, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        cmd = [sys.executable, "-m", "gugugo_cli", str(path), "--field", "text", "--to", "en", "--dry-run", "-q",
               "--no-cache"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                              env={**default_splitter_env(), "PYTHONPATH": str(ROOT)})
        seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    return dict(chars=size, splitter=splitters.DEFAULT_KOREAN, exit=proc.returncode, cpu_s=round(cpu, 1),
                wall_s=round(seconds, 1), stderr=proc.stderr.strip()[-200:])


def _table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with the dev sets (default ../shared/data; tests/data has the first 120 pairs)")
    parser.add_argument("--skip-unchunked", action="store_true", help="leave out the quadratic reference runs")
    parser.add_argument("--scaling-only", action="store_true",
                        help="only the 0.5-2 MB paragraphs (Kiwi and pysbd) and the doubling check")
    args = parser.parse_args()
    data = args.data if (args.data / "jhe-koen-dev.ko").exists() else ROOT / "tests" / "data"
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
    print(f"CPU: {model}, {os.cpu_count()} cores; dev sets from {data}; load average {os.getloadavg()[0]:.1f}\n")
    dev = {lang: dev_paragraphs(data, lang) for lang in ("ko", "en")}
    if args.scaling_only:
        rows = [r for lang, c in (("ko", "kiwi"), ("en", "pysbd"))
                for r in scaling(lang, c, dev[lang], [500_000, 1_000_000, 2_000_000], repeat=3)]
        print(_table(rows) + "\n")
        checks = doubling(rows)
        print(_table(checks))
        sys.exit(0 if all(c["linear"] for c in checks) else 1)
    print(_table([accuracy(lang, c, raw) for lang in ("ko", "en") for c in CONFIGS[lang] for raw in (False, True)])
          + "\n")
    print(_table([speed(lang, c, dev[lang]) for lang in ("ko", "en") for c in CONFIGS[lang]]) + "\n")
    print(_table([load_time("ko", c) for c in CONFIGS["ko"]] + [load_time("en", "pysbd")]) + "\n")
    sizes = [install_size(p) for p in ("kiwipiepy", "kss", "pysbd")]
    print(_table(sizes) + "\n")
    rows = [r for lang, c in (("ko", "kiwi"), ("ko", "kss"), ("en", "pysbd"))
            for r in scaling(lang, c, dev[lang], [500_000, 1_000_000, 2_000_000], repeat=2)]
    checks = doubling(rows)
    rows.append(no_spaces(2_000_000))
    if not args.skip_unchunked:
        rows += [r for lang, c in (("ko", "kiwi"), ("ko", "kss"), ("en", "pysbd"))
                 for r in scaling(lang, c, dev[lang], [24_000, 48_000, 96_000], chunked=False)]
    print(_table(rows) + "\n")
    print(_table(checks) + "\n")
    print(_table([dry_run_field(dev["ko"], 2_000_000)]))


if __name__ == "__main__":
    main()
