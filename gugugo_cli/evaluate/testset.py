"""The test set: source sentences and their references, from two text files (line N matches line N) or from
two fields of a dataset's rows (JSON Lines, JSON array, CSV, TSV, Parquet). Every problem is a UsageError
naming the file."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import GugugoError, UsageError
from ..languages import detect_language

DATASET_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet")
MAX_BYTES = 256 * 1024 * 1024
NAMES = {"ko": "Korean", "en": "English"}


@dataclass
class TestSet:
    sources: list[str]
    references: list[str]
    src_name: str
    ref_name: str


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    if path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        return path.read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot be read ({e.strerror or e})") from None


def _text(path: Path) -> str:
    from ..textio import decode_bytes

    try:
        return decode_bytes(_read_bytes(path), str(path)).text
    except GugugoError as e:
        raise UsageError(str(e)) from None


def read_lines(path: Path) -> list[str]:
    """The file's lines as `wc -l` counts them (a last line without a newline counts too)."""
    lines = _text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _rows(path: Path) -> list:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_rows(path)
    text = _text(path)
    try:
        if suffix == ".jsonl":
            return [_json_line(path, number, line) for number, line in enumerate(text.splitlines(), 1)
                    if line.strip()]
        if suffix == ".json":
            rows = json.loads(text)
            if not isinstance(rows, list):
                raise UsageError(f"{path}: expected a JSON array of rows")
            return rows
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: invalid JSON ({e.msg} at line {e.lineno})") from None
    try:
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if suffix == ".tsv" else ","))
    except csv.Error as e:
        raise UsageError(f"{path}: invalid {suffix[1:].upper()} ({e})") from None


def _json_line(path: Path, number: int, line: str):
    try:
        return json.loads(line)
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: line {number}: invalid JSON ({e.msg})") from None


def _parquet_rows(path: Path) -> list:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    _read_bytes(path)  # the same existence and size checks
    try:
        return pq.read_table(path).to_pylist()
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        raise UsageError(f"{path}: cannot be read as Parquet ({str(e).splitlines()[0] if str(e) else e})") from None


def _field(row, field: str, path: Path, number: int) -> str:
    value = row
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, str):
        what = "has no field" if value is None else f"has a {type(value).__name__}, not text, in field"
        raise UsageError(f"{path}: row {number} {what} {field!r}")
    return value


def read_dataset(path: Path, src_field: str, ref_field: str) -> TestSet:
    rows = _rows(path)
    sources = [_field(row, src_field, path, i) for i, row in enumerate(rows, 1)]
    references = [_field(row, ref_field, path, i) for i, row in enumerate(rows, 1)]
    return TestSet(sources, references, f"{path}:{src_field}", f"{path}:{ref_field}")


def load(src: str, ref: Optional[str], src_field: Optional[str], ref_field: Optional[str],
         limit: Optional[int] = None) -> TestSet:
    """The test set named on the command line (its first `limit` pairs if given)."""
    src_path = Path(src)
    if src_field or ref_field:
        if ref is not None or not (src_field and ref_field):
            raise UsageError("a dataset needs --src FILE with --src-field and --ref-field (and no --ref)")
        test = read_dataset(src_path, src_field, ref_field)
    else:
        if ref is None:
            raise UsageError("--ref FILE is needed (or --src-field and --ref-field for a dataset)")
        if src_path.suffix.lower() in DATASET_SUFFIXES:
            raise UsageError(f"{src}: a dataset; name its fields with --src-field and --ref-field")
        test = TestSet(read_lines(src_path), read_lines(Path(ref)), src, ref)
        if len(test.sources) != len(test.references):
            raise UsageError(f"{src} has {len(test.sources)} lines but {ref} has {len(test.references)}")
    for name, texts in ((test.src_name, test.sources), (test.ref_name, test.references)):
        if not any(t.strip() for t in texts):
            raise UsageError(f"{name}: empty (no sentences to evaluate)")
    if limit is not None:
        test.sources, test.references = test.sources[:limit], test.references[:limit]
    return test


def check_languages(test: TestSet, src: str, tgt: str) -> None:
    """References in the --to language, sources in the other (or --from) one."""
    ref_lang = detect_language("\n".join(test.references))
    if ref_lang != tgt:
        raise UsageError(f"{test.ref_name}: the references are {NAMES.get(ref_lang, 'not text')}, not "
                         f"{NAMES[tgt]} (--to {tgt}); --no-language-check scores them anyway")
    src_lang = detect_language("\n".join(test.sources))
    expected = src if src != "auto" else next(lang for lang in NAMES if lang != tgt)
    if src_lang != expected:
        raise UsageError(f"{test.src_name}: the sources are {NAMES.get(src_lang, 'not text')}, not "
                         f"{NAMES[expected]} (--to {tgt}); --no-language-check evaluates them anyway")
