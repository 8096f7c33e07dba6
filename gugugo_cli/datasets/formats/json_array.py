"""JSON (.json): an array of rows, or an object of rows keyed by id (`{"id1": {...}, "id2": {...}}`: each value
a row, its key kept), parsed element by element from a sliding buffer; the text between rows (keys included)
and every unchanged row are copied as they were."""

from __future__ import annotations

import io
import json
from pathlib import Path

from ...errors import InputError
from . import jsontext
from .base import DatasetFile, Record, too_large
from .jsonl import _dumps

_NOT_ROWS = ("a .json dataset must be an array of rows or an object of rows keyed by id "
             "(use .jsonl for one row per line)")


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


class _Buffer:
    """The file's text from a sliding buffer: buf[gap:] is what has not been handed out yet (the text since the
    end of the last row is kept: it is written back as it was)."""

    def __init__(self, f, path, chunk: int, max_row: int):
        self.f, self.path, self.chunk, self.max_row = f, path, chunk, max_row
        self.buf, self.pos, self.gap, self.eof = "", 0, 0, False
        self.decoder = json.JSONDecoder()

    def more(self) -> None:
        try:
            chunk = self.f.read(self.chunk)
        except UnicodeDecodeError:
            raise InputError(self.path, "not UTF-8 text") from None
        self.eof = not chunk
        self.buf, self.pos, self.gap = self.buf[self.gap:] + chunk, self.pos - self.gap, 0

    def skip_space(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos] if self.pos < len(self.buf) else ""
            self.more()

    def value(self, what: str):
        """(the JSON value at pos, its end); `what` names it in errors."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:
                    break
            except json.JSONDecodeError as e:
                if self.eof:
                    raise InputError(self.path, f"{what} is not valid JSON ({e.msg})") from None
            except RecursionError:
                raise InputError(self.path, f"{what} is not valid JSON (nested too deeply)") from None
            if len(self.buf) - self.pos > self.max_row:
                raise InputError(self.path, f"{what}: {too_large(self.max_row)}")
            self.more()
        if end - self.pos > self.max_row:
            raise InputError(self.path, f"{what}: {too_large(self.max_row)}")
        return value, end

    def key(self, n: int) -> str:
        """An object member's key and its colon; pos is left at its value."""
        key, self.pos = self.value(f"the key of row {n}")
        if not isinstance(key, str) or self.skip_space() != ":":
            raise InputError(self.path, f"expected a key and ':' for row {n}")
        self.pos += 1
        self.skip_space()
        return key

    def hand_out(self, end: int) -> None:
        self.pos = self.gap = end
        if self.gap > self.chunk:
            self.buf, self.pos, self.gap = self.buf[self.gap:], 0, 0


class JsonArray(DatasetFile):
    """A top-level JSON array (or object of rows), parsed one row at a time: memory holds the window and a
    buffer of about one row, whatever the file's size."""

    CHUNK = 1 << 20

    def records(self):
        raw = open(self.path, "rb")
        self._raw = raw
        self.bom = raw.read(3) == b"\xef\xbb\xbf"
        raw.seek(3 if self.bom else 0)
        f = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        b = _Buffer(f, self.path, self.CHUNK, self.max_row)
        with f:
            self.opening = b.skip_space()
            if self.opening not in ("[", "{"):
                raise InputError(self.path, _NOT_ROWS)
            closing = "]" if self.opening == "[" else "}"
            b.pos = b.gap = b.pos + 1
            n = 0
            while True:
                c = b.skip_space()
                if not c:
                    raise InputError(self.path, f"the JSON {'array' if closing == ']' else 'object'} is not closed "
                                                "(file cut short?)")
                if c == closing:
                    self._close(b, f)
                    return
                if n > 0:
                    if c != ",":
                        raise InputError(self.path, f"expected ',' or '{closing}' after row {n - 1}")
                    b.pos += 1
                    b.skip_space()
                key = b.key(n) if self.opening == "{" else None
                value, end = b.value(f"row {n}")
                if key is not None and n == 0 and not isinstance(value, dict):
                    raise InputError(self.path, f"{_NOT_ROWS}; its first key {key!r} holds {_kind(value)}")
                problem = "the row is null, not an object" if value is None else None
                yield Record(n, value, raw=b.buf[b.pos:end], extra=b.buf[b.gap:b.pos], problem=problem, key=key)
                n += 1
                b.hand_out(end)

    def _close(self, b: _Buffer, f) -> None:
        rest = b.buf[b.pos + 1:] + f.read()
        if rest.strip():
            raise InputError(self.path, f"text after the JSON {'array' if self.opening == '[' else 'object'}")
        self.tail = b.buf[b.gap:b.pos + 1] + rest

    bom = False
    opening = "["
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
        self.f.write(source.opening)

    def write(self, records: list[Record]) -> None:
        for r in records:
            self.f.write(r.extra)
            self.f.write(self._serialize(r) if r.changed else r.raw)

    def _serialize(self, r: Record) -> str:
        lines = r.raw.splitlines()
        value = jsontext.restored(r.value, r.raw)
        if len(lines) < 2:
            return _dumps(value, '": ' not in r.raw and '", ' not in r.raw)
        # pretty-printed: the same indent unit, each line shifted as the row's first line was
        last = r.extra.rsplit("\n", 1)[-1]
        own = last[:len(last) - len(last.lstrip(" \t"))] if "\n" in r.extra else ""
        second = lines[1]
        unit = len(second) - len(second.lstrip(" ")) - len(own)
        newline = "\r\n" if "\r\n" in r.raw else "\n"
        text = jsontext.dumps(value, ",", ": ", indent=max(unit, 1))
        return text.replace("\n", newline + own)

    def close(self) -> None:
        self.f.write(self.source.tail)
        self.f.close()
