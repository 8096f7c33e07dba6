"""CSV / TSV (.csv, .tsv): the csv module with the file's delimiter, quoting, line ending (CRLF, LF or CR) and BOM;
a field is a column, named as in the header (a name the header has twice is refused: --field could not say
which).

Quoting is decided per file, by reading it once before translating: a file whose quotes are all valid CSV
quoting (a quoted cell closed and followed by a delimiter or a line end) is read as quoted CSV, cells with line
breaks and quotes round-trip; otherwise (TSV corpora are often not quoted: a cell such as `"Hello," she said.`)
quotes are plain text, provided no row then has more cells than the header; a file that fits neither is refused.
Rewritten rows are written the way the file was: quoted as it quotes, or unquoted."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ...errors import FieldError, InputError
from ..paths import column_path, source_key
from .base import DatasetFile, Record, too_large

DELIMITERS = ",;\t|"


class _LineTap:
    """Feeds csv.reader line by line, each line read up to the row-size limit, and remembers the lines each
    record was made of."""

    def __init__(self, f, path, limit: int):
        self.f, self.path, self.limit, self.taken, self.size, self.row = f, path, limit, [], 0, 0

    def __iter__(self):
        return self

    def __next__(self):
        line = self.f.readline(self.limit + 2)
        if not line:
            raise StopIteration
        self.size += len(line)
        if self.size - (len(line) - len(line.rstrip("\r\n"))) > self.limit:
            raise InputError(self.path, f"{_row_name(self.row)}: {too_large(self.limit)}")
        self.taken.append(line)
        return line

    def take(self) -> str:
        raw, self.taken, self.size = "".join(self.taken), [], 0
        return raw


def _row_name(record: int) -> str:
    """Record 0 is the header; record 1 is row 0."""
    return "the header" if record == 0 else f"row {record - 1}"


def _guess_delimiter(sample: str) -> str:
    """The delimiter that splits the header into the most cells (quoted cells read as cells)."""
    counts = {}
    for d in DELIMITERS:
        try:
            counts[d] = len(next(csv.reader(io.StringIO(sample), delimiter=d), []))
        except csv.Error:
            counts[d] = 0
    best = max(counts, key=counts.get)
    return best if counts[best] > 1 else ","


def _all_quoted(line: str, delimiter: str) -> bool:
    cell = r'"(?:[^"]|"")*"'
    return bool(line) and re.fullmatch(f"{cell}(?:{re.escape(delimiter)}{cell})*", line) is not None


class CsvFile(DatasetFile):
    is_table = True
    quoted = True  # False: quotes are plain text (decided by _scan)

    def _open(self):
        raw = open(self.path, "rb")
        if not hasattr(self, "delimiter"):
            head = raw.read(65536)
            raw.seek(0)
            self.bom = head.startswith(b"\xef\xbb\xbf")
            sample = head.decode("utf-8-sig", errors="ignore")
            self.newline = "\r\n" if "\r\n" in sample else "\r" if "\r" in sample and "\n" not in sample else "\n"
            self.delimiter = "\t" if self.path.suffix.lower() == ".tsv" else _guess_delimiter(sample)
            first_line = re.split("\r\n|\r|\n", sample, 1)[0]
            self.quote_all = _all_quoted(first_line, self.delimiter)
        self._raw = raw
        return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")

    def _reader(self, tap, quoted: bool, strict: bool = False):
        if csv.field_size_limit() < self.max_row:
            csv.field_size_limit(self.max_row)
        if not quoted:
            return csv.reader(tap, delimiter=self.delimiter, quoting=csv.QUOTE_NONE)
        return csv.reader(tap, delimiter=self.delimiter, quotechar='"', doublequote=True, strict=strict)

    def _rows(self, quoted: bool, strict: bool = False):
        """(cells, the text they were read from) of every record, the header first. strict: csv.Error for
        invalid quoting."""
        f = self._open()
        tap = _LineTap(f, self.path, self.max_row)
        reader = self._reader(tap, quoted, strict)
        with f:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError:
                    raise InputError(self.path, f"{_row_name(tap.row)} is not UTF-8 text") from None
                except csv.Error as e:
                    if "field larger" in str(e):
                        raise InputError(self.path, f"{_row_name(tap.row)}: {too_large(self.max_row)}") from None
                    if strict:
                        raise
                    raise InputError(self.path, f"{_row_name(tap.row)}: {e}") from None
                yield cells, tap.take()
                tap.row += 1

    def _scan(self) -> None:
        """Decide how quotes are read (see the module's text); InputError for a file that fits no way."""
        if getattr(self, "_scanned", False):
            return
        self._scanned = True
        try:
            for _ in self._rows(True, strict=True):
                pass
            return
        except csv.Error as e:
            reason = f"{e}"
        width = None
        for n, (cells, _) in enumerate(self._rows(False)):
            if width is None:
                width = len(cells)
            elif len(cells) > width:
                raise InputError(self.path, f"{_row_name(n)}: quotes that are neither valid CSV quoting "
                                            f"({reason}) nor plain text (the row has more cells than the header)")
        self.quoted = False

    def records(self):
        self._scan()
        rows = self._rows(self.quoted)
        try:
            self.header, self.header_raw = next(rows)
        except StopIteration:
            self.header = []
            return
        for n, (cells, raw) in enumerate(rows):
            yield Record(n, dict(zip(self.header, cells)), raw=raw, extra=cells)

    def columns(self) -> list[str]:
        if not hasattr(self, "header"):
            self._scan()
            self.header = next(self._rows(self.quoted), ([], ""))[0]
        return self.header

    def field_path(self, text: str):
        path = column_path(text)
        columns = self.columns()
        if text not in columns:
            raise FieldError(f"{self.path}: no column {text!r} (columns: {', '.join(columns)})")
        if columns.count(text) > 1:
            raise FieldError(f"{self.path}: the header names column {text!r} {columns.count(text)} times; "
                             "--field cannot tell them apart (rename one)")
        return path

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

    def _row(self, cells: list[str]) -> None:
        if self.source.quoted:
            self.writer.writerow(cells)
            return
        # unquoted: a delimiter or line break in a cell would make new cells or rows
        d = self.source.delimiter
        self.f.write(d.join(re.sub(f"[{re.escape(d)}\r\n]", " ", c) for c in cells) + self.source.newline)

    def _header(self):
        if not self.header_done:
            self.header_done = True
            if self.keep_source and self.header != self.source.header:
                self._row(self.header)
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
            self._row(out + cells[len(header):])

    def close(self) -> None:
        self._header()
        self.f.close()
