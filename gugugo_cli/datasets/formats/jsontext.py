"""JSON rows read and written back without changing what is not translated: a number keeps the literal it was
written with (`1e400`, `1E5`, `3.14159265358979323846`, `-0`), and an object with a key given twice keeps every
pair, in order.

Rows are read with json.loads (fast); a changed row is read again from its text with `loads`, which gives
plain dicts, lists, ints and floats except that a number whose literal would not come back from Python's own
repr is a `FloatLiteral`/`IntLiteral` (a float or int that remembers its text), and an object with a repeated
key is a `Pairs` (a dict, holding the last value of a key as json.loads does, that also keeps the pairs as
read). `restore` puts those into the changed row, and `dumps` writes what json.dumps writes, except for them.
"""

from __future__ import annotations

import json
import re

_SURROGATE = re.compile("[\ud800-\udfff]")


class FloatLiteral(float):
    __slots__ = ("text",)


class IntLiteral(int):
    def __new__(cls, text: str):
        self = super().__new__(cls, int(text))
        self.text = text
        return self


class Pairs(dict):
    """An object with a repeated key: the dict has the last value of each key; `pairs` all of them as read."""

    def __init__(self, pairs: list):
        super().__init__(pairs)
        self.pairs = pairs

    def items_to_write(self) -> list:
        """The pairs as read, each key's last one with the dict's value now; keys added since follow the key
        before them in the dict's order (as paths.put places FIELD_<to>)."""
        last = {k: i for i, (k, _) in enumerate(self.pairs)}
        follow: dict = {}
        before = None
        for k in self:
            if k in last:
                before = k
            else:
                follow.setdefault(before, []).append(k)
        out = [(k, self[k]) for k in follow.get(None, [])]
        for i, (k, v) in enumerate(self.pairs):
            if last[k] != i:
                out.append((k, v))
                continue
            if k in self:
                out.append((k, self[k]))
            out += [(n, self[n]) for n in follow.get(k, [])]
        return out


def _float(text: str):
    value = FloatLiteral(text)
    if repr(float(value)) == text:
        return float(value)
    value.text = text
    return value


def _int(text: str):
    return IntLiteral(text) if text == "-0" else int(text)


def _object(pairs: list):
    value = dict(pairs)
    return value if len(value) == len(pairs) else Pairs(pairs)


HOOKS = dict(parse_float=_float, parse_int=_int, object_pairs_hook=_object)


def loads(text):
    return json.loads(text, **HOOKS)


def restore(new, old):
    """`new` (a row as json.loads read it, then changed) with the number literals and repeated keys of `old`
    (the same row's text read by `loads`) wherever it still holds the same values."""
    if isinstance(old, (FloatLiteral, IntLiteral)):
        return old if type(new) in (int, float) and new == old else new
    if isinstance(old, dict) and isinstance(new, dict):
        items = {k: restore(v, old[k]) if k in old else v for k, v in new.items()}
        if not isinstance(old, Pairs):
            return items
        kept = Pairs(old.pairs)
        kept.clear()
        kept.update(items)
        return kept
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [restore(a, b) for a, b in zip(new, old)]
    return new


def restored(value, raw):
    """The changed row `value` with what its text `raw` (str or bytes) wrote as json.dumps would not."""
    try:
        old = loads(raw)
    except (ValueError, RecursionError):
        return value
    return value if _plain(old) else restore(value, old)


def _plain(value) -> bool:
    if isinstance(value, (FloatLiteral, IntLiteral, Pairs)):
        return False
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return True


def dumps(value, item_sep: str = ", ", key_sep: str = ": ", indent=None) -> str:
    """json.dumps(value, ensure_ascii=False, separators=..., indent=...), number literals and repeated keys kept,
    unpaired surrogates escaped (UTF-8 cannot hold them)."""
    if _plain(value):
        text = json.dumps(value, ensure_ascii=False, separators=(item_sep, key_sep), indent=indent)
    else:
        text = _encode(value, item_sep, key_sep, indent, 0)
    # an unpaired surrogate (read from a \ud83d escape) can only be inside a string: written as that escape
    return _SURROGATE.sub(lambda m: ascii(m.group())[1:-1], text) if _SURROGATE.search(text) else text


def _encode(value, item_sep, key_sep, indent, depth) -> str:
    if isinstance(value, (FloatLiteral, IntLiteral)):
        return value.text
    if isinstance(value, dict):
        items = value.items_to_write() if isinstance(value, Pairs) else value.items()
        parts = [json.dumps(k, ensure_ascii=False) + key_sep + _encode(v, item_sep, key_sep, indent, depth + 1)
                 for k, v in items]
        return _join("{", parts, "}", item_sep, indent, depth)
    if isinstance(value, list):
        parts = [_encode(v, item_sep, key_sep, indent, depth + 1) for v in value]
        return _join("[", parts, "]", item_sep, indent, depth)
    return json.dumps(value, ensure_ascii=False)


def _join(opening, parts, closing, item_sep, indent, depth) -> str:
    if not parts:
        return opening + closing
    if indent is None:
        return opening + item_sep.join(parts) + closing
    inner = "\n" + " " * (indent * (depth + 1))
    return opening + inner + (item_sep + inner).join(parts) + "\n" + " " * (indent * depth) + closing
