"""Field paths into a dataset row: `instruction`, `meta.title`, `messages[*].content`, `turns[0].text`.

A path is keys separated by dots, each key optionally followed by `[*]` (every item of a list) or `[N]`
(one item). `locate()` finds the strings a path names in one row; a missing key or a null value is nothing
to translate, any other non-string value is a problem that fails the row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Union

from ..errors import FieldError

ANY = "*"
Step = Union[str, int]  # a key, an index, or ANY for every item of a list

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]|(\.)")


class FieldProblem(Exception):
    """A named field holds something that is not a string (or the row is not shaped as the path says)."""


@dataclass(frozen=True)
class FieldPath:
    text: str
    steps: tuple  # of Step; a key step is ("key", name) to tell it from ANY and indices

    @property
    def column(self) -> str:
        """The top-level key (the column, for tables)."""
        return self.steps[0][1]

    @property
    def last_key(self):
        kind, value = self.steps[-1]
        return value if kind == "key" else None


def parse(text: str) -> FieldPath:
    steps, pos, expect_key = [], 0, True
    for m in _TOKEN.finditer(text):
        if m.start() != pos:
            break
        pos = m.end()
        if m.group(1) is not None:
            if not expect_key:
                raise FieldError(f"--field {text!r}: a key must follow a dot")
            steps.append(("key", m.group(1)))
            expect_key = False
        elif m.group(2) is not None:
            if expect_key:
                raise FieldError(f"--field {text!r}: [{m.group(2)}] must follow a key")
            steps.append(("index", ANY if m.group(2) == ANY else int(m.group(2))))
        else:
            if expect_key:
                raise FieldError(f"--field {text!r}: empty key")
            expect_key = True
    if pos != len(text) or not steps or expect_key:
        raise FieldError(f"--field {text!r}: not a field path (examples: instruction, meta.title, messages[*].content)")
    return FieldPath(text, tuple(steps))


def column_path(name: str) -> FieldPath:
    """A table's column named as it is (dots and brackets are part of the name)."""
    if not name:
        raise FieldError("--field: empty column name")
    return FieldPath(name, (("key", name),))


@dataclass
class Location:
    container: Any  # the dict or list holding the string
    key: Any  # its key or index there
    where: str  # e.g. messages[2].content

    @property
    def value(self) -> str:
        return self.container[self.key]


def _kind(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def locate(row: Any, path: FieldPath) -> tuple[list[Location], int]:
    """The strings `path` names in `row`, and how many places it names were missing or null.
    Raises FieldProblem for a value that is neither a string nor missing."""
    found: list[Location] = []
    missing = 0

    def walk(node, i, where):
        nonlocal missing
        kind, step = path.steps[i]
        last = i == len(path.steps) - 1
        if kind == "key":
            if not isinstance(node, dict):
                raise FieldProblem(f"{where or 'the row'} is {_kind(node)}, not an object")
            children = [(step, f"{where}.{step}" if where else step)]
        else:
            if not isinstance(node, list):
                raise FieldProblem(f"{where} is {_kind(node)}, not a list")
            indices = range(len(node)) if step == ANY else [step]
            children = [(j, f"{where}[{j}]") for j in indices]
        for key, child_where in children:
            if (kind == "key" and key not in node) or (kind == "index" and key >= len(node)) or node[key] is None:
                missing += 1
                continue
            child = node[key]
            if last:
                if not isinstance(child, str):
                    raise FieldProblem(f"{child_where} is {_kind(child)}, not a string")
                found.append(Location(node, key, child_where))
            else:
                walk(child, i + 1, child_where)

    walk(row, 0, "")
    return found, missing


def source_key(key: str, tgt: str) -> str:
    """Where --keep-source puts a translation: FIELD_<to> beside FIELD."""
    return f"{key}_{tgt}"


def put(location: Location, text: str, keep_source: bool, tgt: str) -> None:
    """Write a translation in place, or (keep_source) as FIELD_<to> right after FIELD."""
    container, key = location.container, location.key
    if not keep_source:
        container[key] = text
        return
    new = source_key(key, tgt)
    items = [(k, v) for k, v in container.items() if k != new]
    container.clear()
    for k, v in items:
        container[k] = v
        if k == key:
            container[new] = text


def string_fields(rows, limit: int = 200) -> dict[str, tuple[int, str]]:
    """Paths of the string values in rows (list items as [*]): path -> (rows having it, an example)."""
    seen: dict[str, list] = {}

    def walk(node, where, row_paths):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{where}.{k}" if where else str(k), row_paths)
        elif isinstance(node, list):
            for v in node:
                walk(v, f"{where}[*]", row_paths)
        elif isinstance(node, str) and where:
            if where not in row_paths:
                row_paths.add(where)
                entry = seen.setdefault(where, [0, node])
                entry[0] += 1
                if not entry[1].strip() and node.strip():
                    entry[1] = node

    for n, row in enumerate(rows):
        if n >= limit:
            break
        walk(row, "", set())
    return {k: (v[0], v[1]) for k, v in seen.items()}
