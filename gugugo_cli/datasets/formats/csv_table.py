"""CSV / TSV (.csv, .tsv): the csv module with the file's delimiter, quoting, encoding, line ends and BOM; a field
is a column, named as in the header (a name the header has twice is refused: --field could not say which).

Quoting is decided per file, by reading it once before translating. The file is read as quoted CSV when all its
quotes are valid CSV quoting and it uses quoting: a quoted cell holds the delimiter, a quote or a line break, or
every cell of the header is quoted (and its rows keep the header's width, or would not without quoting).
Otherwise quotes are text, as in TSV corpora such as KorNLI and KorSTS (`"Hello," she said.`, `그가 말했다,
"엄마."`), provided no row then has more cells than the header; a file that fits neither is refused.

A rewritten row keeps each cell it does not translate as written (quoted or not) and its own line end; a
translation is quoted where its source cell was, or where quoted CSV needs it. In a file read without quoting,
a delimiter or line break in a translation becomes a space.

The encoding is found as for text files (BOM, UTF-8, CP949, a charset detector) and the output is written in
it; a translation it cannot encode fails its row (datasets.window)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Optional

from ...errors import FieldError, InputError
from ...textio import file_encoding
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


def _split_end(raw: str) -> tuple[str, str]:
    """A record's text and its line end ('' for a last line without one)."""
    body = raw.rstrip("\r\n")
    return body, raw[len(body):]


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def written_cells(raw: str, cells: list[str], delimiter: str) -> Optional[list[str]]:
    """The cells of a record read as quoted CSV as they are written in its text `raw`, quotes and all (None if
    they cannot be matched)."""
    body, _ = _split_end(raw)
    out, pos = [], 0
    for i, cell in enumerate(cells):
        form = _quote(cell) if body.startswith('"', pos) else cell
        if not body.startswith(form, pos):
            return None
        out.append(form)
        pos += len(form)
        if i < len(cells) - 1:
            if not body.startswith(delimiter, pos):
                return None
            pos += len(delimiter)
    return out if pos == len(body) else None


def _uses_quoting(written: Optional[list[str]], delimiter: str, header: bool) -> bool:
    """Whether a record shows that its file is written with CSV quoting."""
    quoted = [w[1:-1] for w in written or [] if w.startswith('"')]
    if header and quoted and len(quoted) == len(written):
        return True
    return any(delimiter in q or '"' in q or "\r" in q or "\n" in q for q in quoted)


class CsvFile(DatasetFile):
    is_table = True
    quoted = True  # False: quotes are plain text (decided by _scan)

    def __init__(self, path: Path, max_row: Optional[int] = None, quoting: str = "auto"):
        super().__init__(path, max_row)
        self.quoting = quoting  # auto, or forced: csv or none

    def _open(self):
        raw = open(self.path, "rb")
        if not hasattr(self, "delimiter"):
            self.encoding, self.bom = file_encoding(raw, str(self.path))
            if self.encoding != "utf-8":
                self.notes.append(f"read as {self.encoding} text (written back in it)")
            head = raw.read(65536)[len(self.bom):]
            sample = head.decode(self.encoding, errors="ignore")
            self.newline = "\r\n" if "\r\n" in sample else "\r" if "\r" in sample and "\n" not in sample else "\n"
            self.delimiter = "\t" if self.path.suffix.lower() == ".tsv" else _guess_delimiter(sample)
        raw.seek(len(self.bom))
        self._raw = raw
        return io.TextIOWrapper(raw, encoding=self.encoding, newline="")

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
                    raise InputError(self.path, f"{_row_name(tap.row)} is not {self.encoding} text (the "
                                                f"encoding of the rest of the file)") from None
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
        if self.quoting != "auto":
            self.quoted = self.quoting == "csv"
            how = "with CSV quoting" if self.quoted else "without quoting"
            self.notes.append(f"read {how} (--quoting {self.quoting})")
            return
        evidence = has_quotes = ragged = False
        width = None
        try:
            for n, (cells, raw) in enumerate(self._rows(True, strict=True)):
                width = len(cells) if width is None else width
                ragged = ragged or (bool(cells) and len(cells) != width)
                if '"' in raw and not evidence:
                    has_quotes = True
                    evidence = _uses_quoting(written_cells(raw, cells, self.delimiter), self.delimiter, n == 0)
        except csv.Error as e:
            has_quotes, reason = True, f"{e}"
        else:
            reason = None
        self.quoted = evidence and reason is None and not (ragged and self._unquoted_fits(None))
        if not self.quoted and reason is not None:
            self._unquoted_fits(reason)
        if has_quotes:
            self.notes.append("read with CSV quoting" if self.quoted else "read without quoting (quotes are text)")

    def _unquoted_fits(self, reason: Optional[str]) -> bool:
        """Whether every row read without quoting has the header's width. With `reason` (why quoted reading
        failed), a row wider than the header refuses the file."""
        width = None
        fits = True
        for n, (cells, _) in enumerate(self._rows(False)):
            width = len(cells) if width is None else width
            if reason is not None and len(cells) > width:
                raise InputError(self.path, f"{_row_name(n)}: quotes that are neither valid CSV quoting "
                                            f"({reason}) nor plain text (the row has more cells than the header)")
            fits = fits and (not cells or len(cells) == width)
        return fits

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
            self.header, self.header_raw = next(self._rows(self.quoted), ([], ""))
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

    def written(self, raw: str, cells: list[str]) -> list[str]:
        """The cells of a record as its text writes them."""
        if not self.quoted:
            return cells
        return written_cells(raw, cells, self.delimiter) or [self.cell(c, "") for c in cells]

    def cell(self, text: str, like: str) -> str:
        """A new cell's text as this file writes it; `like`: the cell it replaces or follows, as written."""
        if not self.quoted:
            return re.sub(f"[{re.escape(self.delimiter)}\r\n]", " ", text)
        if like.startswith('"') or any(c in text for c in (self.delimiter, '"', "\r", "\n")):
            return _quote(text)
        return text

    def position(self) -> int:
        f = getattr(self, "_raw", None)
        return f.tell() if f is not None and not f.closed else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return CsvWriter(dest, self, keep_source, [p.column for p in paths], tgt)


class CsvWriter:
    """Writes a CsvFile's records in its encoding, BOM, delimiter and quoting; see the module's text."""

    def __init__(self, dest: Path, source: CsvFile, keep_source: bool, columns: list[str], tgt: str):
        self.source, self.keep_source = source, keep_source
        raw = open(dest, "wb")
        raw.write(source.bom)
        self.f = io.TextIOWrapper(raw, encoding=source.encoding, newline="")
        self.new_columns = {c: source_key(c, tgt) for c in columns if keep_source}
        self.taken = set(columns) | set(self.new_columns.values())  # columns whose cells come from the row's value
        self.header_done = False

    def _header(self):
        if self.header_done:
            return
        self.header_done = True
        source = self.source
        if not self.keep_source:
            self.f.write(getattr(source, "header_raw", ""))
            return
        written = source.written(source.header_raw, source.header)
        out = []
        for i, name in enumerate(source.header):
            out.append(written[i])
            new = self.new_columns.get(name)
            if new and new not in source.header:
                out.append(source.cell(new, written[i]))
        self.f.write(source.delimiter.join(out + written[len(source.header):]) + _split_end(source.header_raw)[1])

    def write(self, records: list[Record]) -> None:
        self._header()
        for r in records:
            self.f.write(self._line(r) if r.changed or self.keep_source else r.raw)

    def _line(self, r: Record) -> str:
        source, header, cells = self.source, self.source.header, r.extra
        written = source.written(r.raw, cells)
        out = []
        for i, name in enumerate(header[:len(cells)]):
            value = r.value.get(name, cells[i]) if r.changed and name in self.taken else cells[i]
            out.append(written[i] if value == cells[i] else source.cell(value, written[i]))
            new = self.new_columns.get(name)
            if new and new not in header:
                out.append(source.cell(r.value.get(new, "") if r.changed else "", written[i]))
        return source.delimiter.join(out + written[len(header):]) + _split_end(r.raw)[1]

    def close(self) -> None:
        self._header()
        self.f.close()
