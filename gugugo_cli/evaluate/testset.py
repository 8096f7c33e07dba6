"""The test set: source sentences and their references, from two text files (line N matches line N) or from
two fields of a dataset's rows (JSON Lines, JSON array, CSV, TSV, Parquet). Every problem is a UsageError
naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..errors import GugugoError, UsageError
from ..languages import NAMES, detect_language, other_language

MAX_BYTES = 256 * 1024 * 1024


@dataclass
class TestSet:
    sources: list[str]
    references: list[str]
    src_name: str
    ref_name: str


def _check(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    if path.stat().st_size > MAX_BYTES:
        raise UsageError(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MiB")


def _read_bytes(path: Path) -> bytes:
    _check(path)
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


def _pairs(path: Path, src_field: str, ref_field: str) -> tuple[list[str], list[str]]:
    """The two fields of every row, read by the dataset readers translation uses (the same formats, encodings
    and field paths)."""
    from ..datasets.formats import open_dataset
    from ..datasets.paths import FieldProblem

    _check(path)
    sources, references = [], []
    try:
        data = open_dataset(path)
        fields = [data.field_path(src_field), data.field_path(ref_field)]
        try:
            for record in data.records():
                if record.problem:
                    where = "line" if path.suffix.lower() in (".jsonl", ".ndjson") else "row"
                    raise UsageError(f"{path}: {where} {record.index + 1}: {record.problem}")
                if record.value is None:  # a blank line
                    continue
                source, reference = (_field(record.value, field, path, record.index + 1) for field in fields)
                sources.append(source)
                references.append(reference)
        finally:
            data.close()
    except FieldProblem as e:
        raise UsageError(f"{path}: {e}") from None
    except UsageError:
        raise
    except GugugoError as e:
        raise UsageError(str(e)) from None
    return sources, references


def _field(row, field, path: Path, number: int) -> str:
    from ..datasets.paths import FieldProblem, locate

    try:
        found, _ = locate(row, field)
    except FieldProblem as e:
        raise FieldProblem(f"row {number}: {e}") from None
    if len(found) != 1:
        what = "has no field" if not found else f"has {len(found)} texts, not one, in"
        raise UsageError(f"{path}: row {number} {what} {field.text!r}")
    return found[0].value


def read_dataset(path: Path, src_field: str, ref_field: str) -> TestSet:
    sources, references = _pairs(path, src_field, ref_field)
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
        from ..datasets.formats import SUFFIXES

        if src_path.suffix.lower() in SUFFIXES:
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
    expected = src if src != "auto" else other_language(tgt)
    if src_lang != expected:
        raise UsageError(f"{test.src_name}: the sources are {NAMES.get(src_lang, 'not text')}, not "
                         f"{NAMES[expected]} (--to {tgt}); --no-language-check evaluates them anyway")
