"""JSON Lines (.jsonl, .ndjson): one row per line; blank lines kept; an unchanged line is copied as it was.

A line that is blank (only white space) is not a row; every other line is one, numbered from 0 in order
(a `null` line too: it fails as a row that is not an object). `parse_line` and `dump_line` are the rule for
both the streamed and the Ray path. A line over the row-size limit is not read into memory: it fails alone,
and is copied to the output from the input file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import base, jsontext
from .base import DatasetFile, Record, too_large

BOM = b"\xef\xbb\xbf"


@dataclass
class Span:
    """Where an oversized line lies in the input (written back by copying those bytes)."""

    start: int
    end: int


def _line_end(line: bytes) -> bytes:
    return b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""


def _dumps(value, compact: bool) -> str:
    return jsontext.dumps(value, *((",", ":") if compact else (", ", ": ")))


def is_blank(line: bytes, n: int) -> bool:
    return not (line[3:] if n == 0 and line.startswith(BOM) else line).strip()


def parse_line(n: int, line: bytes) -> Record:
    """Line n (from 0) as a record: a row, a blank line (value None, no problem) or a row that fails."""
    text = line[3:] if n == 0 and line.startswith(BOM) else line
    if not text.strip():
        return Record(n, None, raw=line)
    if len(text.rstrip(b"\r\n")) > base.MAX_ROW_BYTES:
        return Record(n, None, raw=line, problem=too_large(base.MAX_ROW_BYTES))
    try:
        value = json.loads(text)
    except UnicodeDecodeError:
        return Record(n, None, raw=line, problem="not UTF-8 text")
    except ValueError as e:
        return Record(n, None, raw=line, problem=f"not valid JSON ({getattr(e, 'msg', e)})")
    except RecursionError:
        return Record(n, None, raw=line, problem="not valid JSON (nested too deeply)")
    if value is None:
        return Record(n, None, raw=line, problem="the row is null, not an object")
    return Record(n, value, raw=line)


def dump_line(value, raw: bytes) -> bytes:
    """A changed row, serialized as its line was (compact or with spaces after ':' and ','), same line end."""
    stripped = raw.rstrip(b"\r\n")
    compact = b'": ' not in stripped and b'", ' not in stripped
    return _dumps(jsontext.restored(value, raw), compact).encode("utf-8") + _line_end(raw)


def write_line(r: Record) -> bytes:
    """A record as written back: the line as it was, or its value re-serialized in the line's style."""
    return dump_line(r.value, r.raw) if r.changed else r.raw


class JsonLines(DatasetFile):
    def records(self):
        self._file = open(self.path, "rb")
        with self._file as f:
            n = 0
            while True:
                start = f.tell()
                size = self.max_row + (5 if n == 0 else 2)  # room for a BOM and a line end
                line = f.readline(size)
                if not line:
                    return
                whole = line.endswith(b"\n") or len(line) < size
                if n == 0 and line.startswith(BOM):
                    self.bom, line = True, line[3:]
                if not whole or len(line.rstrip(b"\r\n")) > self.max_row:
                    while line and not line.endswith(b"\n"):
                        line = f.readline(1 << 20)
                    yield Record(n, None, raw=Span(start, f.tell()), problem=too_large(self.max_row))
                else:
                    yield parse_line(n, line)
                n += 1

    bom = False

    def position(self) -> int:
        f = getattr(self, "_file", None)
        return f.tell() if f is not None and not f.closed else self.size

    def open_writer(self, dest: Path, keep_source: bool, paths, tgt: str):
        return JsonLinesWriter(dest, self.bom, self.path)


class JsonLinesWriter:
    def __init__(self, dest: Path, bom: bool, source: Path = None):
        self.f = open(dest, "wb")
        self.source = source
        if bom:
            self.f.write(BOM)

    def write(self, records: list[Record]) -> None:
        out = []
        for r in records:
            if isinstance(r.raw, Span):
                self.f.write(b"".join(out))
                out = []
                self._copy(r.raw)
            else:
                out.append(dump_line(r.value, r.raw) if r.changed else r.raw)
        self.f.write(b"".join(out))

    def _copy(self, span: Span) -> None:
        with open(self.source, "rb") as src:
            src.seek(span.start + (3 if span.start == 0 and src.read(3) == BOM else 0))
            left = span.end - src.tell()
            while left > 0:
                chunk = src.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.f.write(chunk)
                left -= len(chunk)

    def close(self) -> None:
        self.f.close()
