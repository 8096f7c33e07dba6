"""JSON (.json): an array of rows, parsed element by element from a sliding buffer; the text between elements
and every unchanged element are copied as they were."""

from __future__ import annotations

import io
import json
from pathlib import Path

from ...errors import InputError
from . import jsontext
from .base import DatasetFile, Record, too_large
from .jsonl import _dumps


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
                    except RecursionError:
                        raise InputError(self.path, f"row {n} is not valid JSON (nested too deeply)") from None
                    if len(buf) - pos > self.max_row:
                        raise InputError(self.path, f"row {n}: {too_large(self.max_row)}")
                    more()
                if end - pos > self.max_row:
                    raise InputError(self.path, f"row {n}: {too_large(self.max_row)}")
                problem = "the row is null, not an object" if value is None else None
                yield Record(n, value, raw=buf[pos:end], extra=buf[gap:pos], problem=problem)
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
        value = jsontext.restored(r.value, r.raw)
        if len(lines) < 2:
            return _dumps(value, '": ' not in r.raw and '", ' not in r.raw)
        # pretty-printed: the same indent unit, each line shifted as the element was
        own = r.extra[len(r.extra.rstrip(" \t")):] if "\n" in r.extra else ""
        second = lines[1]
        unit = len(second) - len(second.lstrip(" ")) - len(own)
        newline = "\r\n" if "\r\n" in r.raw else "\n"
        text = jsontext.dumps(value, ",", ": ", indent=max(unit, 1))
        return text.replace("\n", newline + own)

    def close(self) -> None:
        self.f.write(self.source.tail)
        self.f.close()
