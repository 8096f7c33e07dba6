"""JSON Lines (.jsonl, .ndjson): one row per line; blank lines kept; an unchanged line is copied as it was."""

from __future__ import annotations

import json
from pathlib import Path

from .base import DatasetFile, Record


def _line_end(line: bytes) -> bytes:
    return b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""


def _dumps(value, compact: bool) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":") if compact else (", ", ": "))


def read_line(n: int, line: bytes) -> Record:
    """Line n of the file (a BOM taken off) as a record; the Ray path reads its blocks of lines with it too."""
    if not line.strip():
        return Record(n, None, raw=line)
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return Record(n, None, raw=line, problem="not UTF-8 text")
    except ValueError as e:
        return Record(n, None, raw=line, problem=f"not valid JSON ({e.msg})")
    return Record(n, value, raw=line)


def write_line(r: Record) -> bytes:
    """A record as written back: the line as it was, or its value re-serialized in the line's style."""
    if not r.changed:
        return r.raw
    raw = r.raw.rstrip(b"\r\n")
    compact = b'": ' not in raw and b'", ' not in raw
    return _dumps(r.value, compact).encode("utf-8") + _line_end(r.raw)


class JsonLines(DatasetFile):
    def records(self):
        self._file = open(self.path, "rb")
        with self._file as f:
            for n, line in enumerate(f):
                if n == 0 and line.startswith(b"\xef\xbb\xbf"):
                    self.bom, line = True, line[3:]
                yield read_line(n, line)

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
        self.f.write(b"".join(write_line(r) for r in records))

    def close(self) -> None:
        self.f.close()
