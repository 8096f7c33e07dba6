"""SHA-256 of every output the tool writes for a set of real files, for comparing two versions byte for byte.

    python scripts/output_digests.py tests/data ../shared/realworld > before.txt
    (change the code)
    python scripts/output_digests.py tests/data ../shared/realworld > after.txt
    diff before.txt after.txt

Every supported file under the given folders is translated into Korean and into English through the CLI with
a translator that needs no model (it wraps each segment in «» and names the target), so the digests show
where translations went and what stayed as it was. Datasets (JSON Lines, JSON, CSV, TSV, Parquet) are built
from the sentence pairs under tests/data and translated the same way, with and without --keep-source; with
--echo, a few subtitle and text files also go through the echo model (tests/models/echo). A file the tool
refuses gets its one-line message instead of a digest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gugugo_cli import cli as cli_module  # noqa: E402
from gugugo_cli.formats import supported  # noqa: E402


class MarkTranslator:
    cache_key = "digests"

    def translate_batch(self, texts, src, tgt):
        return [f"«{tgt}:{t}»" for t in texts]


ECHO = ROOT / "tests" / "models" / "echo"


def _patch_loader(translator) -> None:
    """Make the engine the CLI loads be `translator`; protection and the glossary still wrap it as usual."""
    import gugugo_cli.engines.loading as loading

    loading.load = lambda resolved: translator


def _digest(path: Path) -> str:
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(path.rglob("*")):
            if p.is_file():
                h.update(p.relative_to(path).as_posix().encode() + b"\0" + p.read_bytes())
        return h.hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _run(args: list[str], out: Path) -> str:
    args = args + ["--model", str(ECHO), "--device", "cpu", "--no-cache", "-q", "-o", str(out)]
    result = CliRunner().invoke(cli_module.cli, args, catch_exceptions=True)
    if out.exists():
        return _digest(out)
    message = (result.output or "").strip().splitlines()
    return f"exit {result.exit_code}: {message[-1] if message else type(result.exception).__name__}"


def _datasets(folder: Path) -> list[tuple[Path, list[str]]]:
    """Dataset files built from the sentence pairs; each with the fields to translate."""
    data = ROOT / "tests" / "data"
    en = [l for l in (data / "jhe-koen-dev.en").read_text(encoding="utf-8").splitlines()][:60]
    ko = [l for l in (data / "jhe-koen-dev.ko").read_text(encoding="utf-8").splitlines()][:60]
    rows = [{"id": i, "en": e, "ko": k, "meta": {"n": i * 1.5, "tags": ["a", e[:10]]}} for i, (e, k) in
            enumerate(zip(en, ko))]
    made = []
    p = folder / "pairs.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    made.append((p, ["en"]))
    p = folder / "nested.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    made.append((p, ["meta.tags[1]"]))
    p = folder / "pairs.json"
    p.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    made.append((p, ["ko"]))
    import csv

    for name, delimiter in (("pairs.csv", ","), ("pairs.tsv", "\t")):
        p = folder / name
        with open(p, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=delimiter)
            w.writerow(["id", "en", "ko"])
            for r in rows:
                w.writerow([r["id"], r["en"], r["ko"]])
        made.append((p, ["en"]))
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq

        p = folder / "pairs.parquet"
        table = pa.table({"id": [r["id"] for r in rows], "en": [r["en"] for r in rows],
                          "ko": [r["ko"] for r in rows]})
        table = table.replace_schema_metadata({"huggingface": '{"info": 1}'})
        pq.write_table(table, p)
        made.append((p, ["en"]))
    except ImportError:
        pass
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--echo", action="store_true", help="also a few files through the echo model")
    args = parser.parse_args()
    _patch_loader(MarkTranslator())
    files = [p for folder in args.folders for p in sorted(folder.rglob("*")) if p.is_file() and supported(p)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n, path in enumerate(files):
            for to in ("ko", "en"):
                extra = ["--bilingual"] if path.suffix in (".srt", ".docx") and to == "ko" else []
                for flags in ([], extra) if extra else ([],):
                    out = tmp / f"{n}-{to}{'-b' if flags else ''}{path.suffix}"
                    print(f"{path.name}\t{to}{' '.join([''] + flags)}\t{_run([str(path), '--to', to] + flags, out)}")
        made = tmp / "datasets"
        made.mkdir()
        for path, fields in _datasets(made):
            for keep in ([], ["--keep-source"]):
                out = tmp / f"out-{path.stem}{'-k' if keep else ''}{path.suffix}"
                field_args = [a for f in fields for a in ("--field", f)]
                print(f"{path.name}\tko {' '.join(fields + keep)}\t"
                      f"{_run([str(path), '--to', 'ko'] + field_args + keep, out)}")
    if args.echo:
        _echo(files)


def _echo(files: list[Path]) -> None:
    """A few small subtitle and text files through the echo model on the CPU (the real engine path)."""
    import importlib

    import gugugo_cli.engines.loading as loading

    importlib.reload(loading)
    picked = [p for p in files if p.suffix in (".srt", ".vtt", ".txt") and p.stat().st_size < 4000][:6]
    with tempfile.TemporaryDirectory() as tmp:
        for n, path in enumerate(picked):
            out = Path(tmp) / f"echo-{n}{path.suffix}"
            print(f"{path.name}\techo ko\t{_run([str(path), '--to', 'ko'], out)}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
