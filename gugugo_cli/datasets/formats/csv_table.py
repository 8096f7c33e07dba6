"""CSV / TSV (.csv, .tsv): the csv module with the file's delimiter, quoting style, line ending and BOM; cells
with line breaks and quotes round-trip; a field is a column, named as in the header."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ...errors import InputError
from ..paths import source_key
from .base import DatasetFile, Record


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
