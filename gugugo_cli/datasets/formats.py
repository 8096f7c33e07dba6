"""Dataset files read in windows of rows and written back the same way, each in its own format.

Every reader yields `Record`s; a writer gets them back in order, each either unchanged (written as it was
read, byte for byte where the format allows) or changed (its `value` re-serialized). Memory holds one
window of rows, never the whole file.

- JSON Lines (.jsonl, .ndjson): one row per line; blank lines kept; an unchanged line is copied as it was.
- JSON (.json): an array of rows, parsed element by element from a sliding buffer; the text between
  elements and every unchanged element are copied as they were.
- CSV / TSV (.csv, .tsv): the csv module with the file's delimiter, quoting style, line ending and BOM;
  cells with line breaks and quotes round-trip; a field is a column, named as in the header.
- Parquet (.parquet): pyarrow, batch by batch; the schema and every column not named are kept as they are.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from ..errors import InputError, UsageError
from .paths import FieldPath, column_path, parse, source_key

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "csv",
            ".parquet": "parquet"}


@dataclass
class Record:
    index: int  # row number in the file, from 0
    value: Any  # the row (a dict for JSON rows and tables); None for a blank line
    raw: Any = None  # what was read, to write back when unchanged
    problem: Optional[str] = None  # why the row cannot be used at all (e.g. invalid JSON)
    changed: bool = False
    extra: Any = None  # format-specific


class DatasetFile:
    """Reads one dataset in windows; `open_writer` writes the translated rows to a file."""

    is_table = False  # fields are column names, not paths

    def __init__(self, path: Path):
        self.path = Path(path)
        self.size = self.path.stat().st_size

    def field_path(self, text: str) -> FieldPath:
        return column_path(text) if self.is_table else parse(text)

    def windows(self, rows: int) -> Iterator[list[Record]]:
        window = []
        for record in self.records():
            window.append(record)
            if len(window) >= rows:
                yield window
                window = []
        if window:
            yield window

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def position(self) -> int:
        """Bytes read so far (for progress)."""
        return 0

    def close(self) -> None:
        pass


def open_dataset(path: Path) -> DatasetFile:
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(path, f"not a dataset file (expected one of {', '.join(sorted(SUFFIXES))})")
    if not Path(path).is_file():
        raise InputError(path, "no such file")
    return {"jsonl": JsonLines, "json": JsonArray, "csv": CsvFile, "parquet": ParquetFile}[kind](path)


# ---------------------------------------------------------------------------------------------- JSON rows

def _line_end(line: bytes) -> bytes:
    return b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""


def _dumps(value, compact: bool) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":") if compact else (", ", ": "))


class JsonLines(DatasetFile):
    def records(self):
        self._file = open(self.path, "rb")
        with self._file as f:
            for n, line in enumerate(f):
                if n == 0 and line.startswith(b"\xef\xbb\xbf"):
                    self.bom, line = True, line[3:]
                if not line.strip():
                    yield Record(n, None, raw=line)
                    continue
                try:
                    value = json.loads(line)
                except UnicodeDecodeError:
                    yield Record(n, None, raw=line, problem="not UTF-8 text")
                    continue
                except ValueError as e:
                    yield Record(n, None, raw=line, problem=f"not valid JSON ({e.msg})")
                    continue
                yield Record(n, value, raw=line)

    bom = False

    def position(self) -> int:
        f = getattr(self, "_file", None)
        return f.tell() if f is not None and not f.closed else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return JsonLinesWriter(dest, self.bom)


class JsonLinesWriter:
    def __init__(self, dest: Path, bom: bool):
        self.f = open(dest, "wb")
        if bom:
            self.f.write(b"\xef\xbb\xbf")

    def write(self, records: list[Record]) -> None:
        out = []
        for r in records:
            if r.changed:
                raw = r.raw.rstrip(b"\r\n")
                compact = b'": ' not in raw and b'", ' not in raw
                out.append(_dumps(r.value, compact).encode("utf-8") + _line_end(r.raw))
            else:
                out.append(r.raw)
        self.f.write(b"".join(out))

    def close(self) -> None:
        self.f.close()


class JsonArray(DatasetFile):
    """A top-level JSON array, parsed one element at a time: memory holds the window and a buffer of about
    one element, whatever the file's size."""

    CHUNK = 1 << 20

    def records(self):
        decoder = json.JSONDecoder()
        raw = open(self.path, "rb")
        self._raw = raw
        self.bom = raw.read(3) == b"\xef\xbb\xbf"
        raw.seek(3 if self.bom else 0)
        f = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        # buf[gap:] is what has not been handed out yet: the text since the end of the last element is
        # kept, since it is written back as it was
        buf, pos, gap, eof = "", 0, 0, False

        def more():
            nonlocal buf, pos, gap, eof
            try:
                chunk = f.read(self.CHUNK)
            except UnicodeDecodeError:
                raise InputError(self.path, "not UTF-8 text") from None
            eof = not chunk
            buf, pos, gap = buf[gap:] + chunk, pos - gap, 0

        def skip_space():
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    pos += 1
                if pos < len(buf) or eof:
                    return
                more()

        with f:
            skip_space()
            if pos >= len(buf) or buf[pos] != "[":
                raise InputError(self.path, "a .json dataset must be an array of rows (use .jsonl for one row per line)")
            pos = gap = pos + 1
            n = 0
            while True:
                skip_space()
                if pos >= len(buf):
                    raise InputError(self.path, "the JSON array is not closed (file cut short?)")
                if buf[pos] == "]":
                    rest = buf[pos + 1:] + f.read()
                    if rest.strip():
                        raise InputError(self.path, "text after the JSON array")
                    self.tail = buf[gap:pos + 1] + rest
                    return
                if n > 0:
                    if buf[pos] != ",":
                        raise InputError(self.path, f"expected ',' or ']' after row {n - 1}")
                    pos += 1
                    skip_space()
                while True:
                    try:
                        value, end = decoder.raw_decode(buf, pos)
                        if end < len(buf) or eof:
                            break
                    except json.JSONDecodeError as e:
                        if eof:
                            raise InputError(self.path, f"row {n} is not valid JSON ({e.msg})") from None
                    more()
                yield Record(n, value, raw=buf[pos:end], extra=buf[gap:pos])
                n += 1
                pos = gap = end
                if gap > self.CHUNK:
                    buf, pos, gap = buf[gap:], 0, 0

    bom = False
    tail = "]\n"

    def position(self) -> int:
        f = getattr(self, "_raw", None)
        return f.tell() if f is not None and not f.closed else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return JsonArrayWriter(dest, self)


class JsonArrayWriter:
    def __init__(self, dest: Path, source: JsonArray):
        self.f = open(dest, "w", encoding="utf-8-sig" if source.bom else "utf-8", newline="")
        self.source = source
        self.f.write("[")

    def write(self, records: list[Record]) -> None:
        for r in records:
            self.f.write(r.extra)
            self.f.write(self._serialize(r) if r.changed else r.raw)

    def _serialize(self, r: Record) -> str:
        lines = r.raw.splitlines()
        if len(lines) < 2:
            return _dumps(r.value, '": ' not in r.raw and '", ' not in r.raw)
        # pretty-printed: the same indent unit, each line shifted as the element was
        own = r.extra[len(r.extra.rstrip(" \t")):] if "\n" in r.extra else ""
        second = lines[1]
        unit = len(second) - len(second.lstrip(" ")) - len(own)
        newline = "\r\n" if "\r\n" in r.raw else "\n"
        text = json.dumps(r.value, ensure_ascii=False, indent=max(unit, 1))
        return text.replace("\n", newline + own)

    def close(self) -> None:
        self.f.write(self.source.tail)
        self.f.close()


# ---------------------------------------------------------------------------------------------- CSV

class _LineTap:
    """Feeds csv.reader line by line and remembers the lines each record was made of."""

    def __init__(self, f):
        self.f, self.taken = f, []

    def __iter__(self):
        return self

    def __next__(self):
        line = next(self.f)
        self.taken.append(line)
        return line


class CsvFile(DatasetFile):
    is_table = True

    def _open(self):
        raw = open(self.path, "rb")
        head = raw.read(65536)
        raw.seek(0)
        self.bom = head.startswith(b"\xef\xbb\xbf")
        try:
            sample = head.decode("utf-8-sig", errors="ignore")
        except UnicodeDecodeError:  # pragma: no cover
            sample = ""
        self.newline = "\r\n" if "\r\n" in sample else "\n"
        if self.path.suffix.lower() == ".tsv":
            delimiter = "\t"
        else:
            first = sample.split("\n", 1)[0]
            counts = {d: first.count(d) for d in ",;\t|"}
            delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
        first_line = sample.split("\n", 1)[0].rstrip("\r")
        cells = first_line.split(delimiter) if first_line else []
        self.quote_all = bool(cells) and all(len(c) >= 2 and c[0] == c[-1] == '"' for c in cells)
        self.delimiter = delimiter
        self._raw = raw
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def records(self):
        f = self._open()
        tap = _LineTap(f)
        reader = csv.reader(tap, delimiter=self.delimiter, quotechar='"', doublequote=True, strict=False)
        with f:
            try:
                header = next(reader)
            except StopIteration:
                self.header = []
                return
            except UnicodeDecodeError:
                raise InputError(self.path, "not UTF-8 text") from None
            self.header = header
            self.header_raw = "".join(tap.taken)
            tap.taken = []
            n = 0
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise InputError(self.path, f"row {n} is not UTF-8 text") from None
                except csv.Error as e:
                    raise InputError(self.path, f"row {n}: {e}") from None
                raw, tap.taken = "".join(tap.taken), []
                value = dict(zip(header, cells))
                yield Record(n, value, raw=raw, extra=cells)
                n += 1

    def columns(self) -> list[str]:
        if not hasattr(self, "header"):
            f = self._open()
            with f:
                try:
                    self.header = next(csv.reader(f, delimiter=self.delimiter))
                except StopIteration:
                    self.header = []
        return self.header

    def position(self) -> int:
        f = getattr(self, "_raw", None)
        return f.tell() if f is not None and not f.closed else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return CsvWriter(dest, self, keep_source, [p.column for p in paths], tgt)


class CsvWriter:
    def __init__(self, dest: Path, source: CsvFile, keep_source: bool, columns: list[str], tgt: str):
        self.source, self.keep_source = source, keep_source
        self.f = open(dest, "w", encoding="utf-8-sig" if source.bom else "utf-8", newline="")
        self.writer = csv.writer(self.f, delimiter=source.delimiter, quotechar='"', doublequote=True,
                                 lineterminator=source.newline,
                                 quoting=csv.QUOTE_ALL if source.quote_all else csv.QUOTE_MINIMAL)
        header = list(source.columns())
        self.new_columns = {c: source_key(c, tgt) for c in columns if keep_source}
        self.taken = set(columns) | set(self.new_columns.values())  # columns whose cells come from the row's value
        self.header = []
        for name in header:
            self.header.append(name)
            if name in self.new_columns and self.new_columns[name] not in header:
                self.header.append(self.new_columns[name])
        self.header_done = False

    def _header(self):
        if not self.header_done:
            self.header_done = True
            if self.keep_source and self.header != self.source.header:
                self.writer.writerow(self.header)
            else:
                self.f.write(getattr(self.source, "header_raw", ""))

    def write(self, records: list[Record]) -> None:
        self._header()
        header = self.source.header
        for r in records:
            if not r.changed and not self.keep_source:
                self.f.write(r.raw)
                continue
            cells, out = r.extra, []
            for i, name in enumerate(header):
                if i >= len(cells):
                    break
                out.append(r.value.get(name, cells[i]) if r.changed and name in self.taken else cells[i])
                new = self.new_columns.get(name)
                if new and new not in header:
                    out.append(r.value.get(new, "") if r.changed else "")
            self.writer.writerow(out + cells[len(header):])

    def close(self) -> None:
        self._header()
        self.f.close()


# ---------------------------------------------------------------------------------------------- Parquet

def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise UsageError('Parquet needs pyarrow: pip install "gugugo-translate[parquet]"') from None
    return pyarrow


class ParquetFile(DatasetFile):
    """Only the columns a field path starts in are turned into Python values; the others go from the input
    batch to the output batch as Arrow arrays, types and all."""

    def __init__(self, path):
        super().__init__(path)
        pa = _pyarrow()
        try:
            self.file = pa.parquet.ParquetFile(str(path))
        except (pa.ArrowException, OSError) as e:
            raise InputError(path, f"not a readable Parquet file ({e})") from None
        self.schema = self.file.schema_arrow
        self.num_rows = self.file.metadata.num_rows
        self.columns_used: list[str] = list(self.schema.names)
        self.done_rows = 0

    def use_columns(self, names: list[str]) -> None:
        missing = [n for n in names if n not in self.schema.names]
        if missing:
            raise UsageError(f"{self.path}: no column {missing[0]!r} (columns: {', '.join(self.schema.names)})")
        self.columns_used = list(dict.fromkeys(names))

    def windows(self, rows: int):
        n = 0
        for batch in self.file.iter_batches(batch_size=rows):
            values = {c: batch.column(c).to_pylist() for c in self.columns_used}
            window = [Record(n + i, {c: values[c][i] for c in self.columns_used}, extra=batch)
                      for i in range(batch.num_rows)]
            n += batch.num_rows
            self.done_rows = n
            yield window

    def records(self):
        for window in self.windows(1024):
            yield from window

    def position(self) -> int:
        return round(self.size * self.done_rows / self.num_rows) if self.num_rows else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return ParquetWriter(dest, self, keep_source, paths, tgt)


def _with_source_keys(pa, dtype, steps, tgt):
    """The Arrow type of a column after --keep-source added FIELD_<to> beside the leaf FIELD."""
    if len(steps) == 1:
        return dtype
    kind, step = steps[1]
    if kind == "index":
        if not (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)):
            return dtype
        inner = _with_source_keys(pa, dtype.value_type, steps[1:], tgt)
        maker = pa.large_list if pa.types.is_large_list(dtype) else pa.list_
        return maker(dtype.value_field.with_type(inner))
    if not pa.types.is_struct(dtype):
        return dtype
    fields = []
    for f in (dtype.field(i) for i in range(dtype.num_fields)):
        if f.name == step and len(steps) == 2:
            fields += [f, pa.field(source_key(step, tgt), f.type)]
        elif f.name == step:
            fields.append(f.with_type(_with_source_keys(pa, f.type, steps[1:], tgt)))
        elif f.name != source_key(step, tgt) or len(steps) != 2:
            fields.append(f)
    return pa.struct(fields)


class ParquetWriter:
    def __init__(self, dest: Path, source: ParquetFile, keep_source: bool, paths, tgt: str):
        pa = _pyarrow()
        self.pa, self.source = pa, source
        schema = source.schema
        self.changed_columns = list(source.columns_used)
        if keep_source:
            fields = []
            added = {p.column: source_key(p.column, tgt) for p in paths if len(p.steps) == 1}
            for f in schema:
                if f.name in added.values() and f.name not in added:
                    continue
                nested = [p for p in paths if p.column == f.name and len(p.steps) > 1]
                dtype = f.type
                for p in nested:
                    dtype = _with_source_keys(pa, dtype, p.steps, tgt)
                fields.append(f.with_type(dtype))
                if f.name in added:
                    fields.append(pa.field(added[f.name], f.type))
                    self.changed_columns.append(added[f.name])
            schema = pa.schema(fields, metadata=schema.metadata)
        self.schema = schema
        self.writer = pa.parquet.ParquetWriter(str(dest), schema)

    def write(self, records: list[Record]) -> None:
        pa = self.pa
        if not records:
            return
        # a window is one input batch
        batch = records[0].extra
        arrays = []
        for f in self.schema:
            if f.name in self.changed_columns:
                arrays.append(pa.array([r.value.get(f.name) for r in records], type=f.type))
            else:
                arrays.append(batch.column(f.name))
        self.writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=self.schema))

    def close(self) -> None:
        self.writer.close()
