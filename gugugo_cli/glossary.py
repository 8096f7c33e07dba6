"""A glossary: source terms that must come out as given target terms, the same way across a whole run.

File format (`--glossary terms.tsv`), UTF-8, one term a line:

    SOURCE TERM<TAB>TARGET TERM[<TAB>case|nocase]
    # a comment; blank lines are skipped

`case` (the default) matches the source term exactly as written; `nocase` matches it in any letter case.
A term that starts or ends with an ASCII letter or digit matches only as a whole word on that side ("Ring"
is not found in "Ringo"); a Korean term may be followed by a particle ("프로도는" contains "프로도").
Where terms overlap, the longest one found at a place wins.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union

from .errors import GugugoError

CASE_RULES = ("case", "nocase")
MAX_GLOSSARY_BYTES = 64 * 1024 * 1024  # a million terms is some 40 MB


class GlossaryError(GugugoError):
    """A glossary file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Term:
    source: str
    target: str
    case: str = "case"  # case: exact; nocase: any letter case


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    name: str = ""  # where it came from, for messages
    _index: Optional["_Index"] = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", _Index(self.terms) if self.terms else None)

    @property
    def digest(self) -> str:
        """Identity of the glossary's content (for the segment cache): the same terms give the same digest."""
        h = hashlib.sha1()
        for t in sorted(self.terms, key=lambda t: (t.source, t.case)):
            h.update(f"{t.source}\t{t.target}\t{t.case}\n".encode("utf-8"))
        return h.hexdigest()[:16]

    def find(self, text: str, start: int = 0, end: Optional[int] = None) -> list[tuple[int, int, Term]]:
        """(start, end, term) of every term in text[start:end], left to right, longest first at each place."""
        if self._index is None:
            return []
        end = len(text) if end is None else end
        return [(a, b, self.terms[i]) for a, b, i in self._index.find(text, start, end)]

    def __len__(self) -> int:
        return len(self.terms)

    def __hash__(self) -> int:
        return hash(self.terms)


def _edge(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _fold(ch: str) -> str:
    """One character in the form `nocase` compares (one character for one, so positions stay the same)."""
    for folded in (ch.casefold(), ch.lower()):
        if len(folded) == 1:
            return folded
    return ch


def _fold_text(text: str) -> str:
    return text.lower() if text.isascii() else "".join(map(_fold, text))


class _Index:
    """Every term's source (case-folded for `nocase`) in a hash table, and for each first character the lengths
    of the terms that start with it: at each place of a text only those lengths are looked up, longest first,
    so matching costs the text's length times the number of term lengths, whatever the number of terms."""

    def __init__(self, terms: tuple[Term, ...]):
        self.keys: tuple[dict[str, int], dict[str, int]] = ({}, {})  # exact, folded: key -> first term's index
        lengths: tuple[dict[str, set], dict[str, set]] = ({}, {})
        for i, term in enumerate(terms):
            folded = term.case == "nocase"
            key = _fold_text(term.source) if folded else term.source
            self.keys[folded].setdefault(key, i)
            lengths[folded].setdefault(key[0], set()).add(len(key))
        self.lengths = tuple({ch: sorted(n, reverse=True) for ch, n in table.items()} for table in lengths)
        self.edges = [(_edge(t.source[0]), _edge(t.source[-1])) for t in terms]

    def find(self, text: str, start: int, end: int) -> list[tuple[int, int, int]]:
        views = ((text, 0), (_fold_text(text[start:end]) if self.keys[True] else "", start))
        found, p = [], start
        while p < end:
            best = None  # (length, -index)
            for folded, (view, offset) in enumerate(views):
                keys = self.keys[folded]
                for n in self.lengths[folded].get(view[p - offset], ()) if keys else ():
                    if p + n > end or (best is not None and n < best[0]):
                        continue
                    i = keys.get(view[p - offset:p - offset + n])
                    if i is not None and self._fits(i, text, p, p + n, end) and (best is None or (n, -i) > best):
                        best = (n, -i)
            if best is None:
                p += 1
                continue
            found.append((p, p + best[0], -best[1]))
            p += best[0]
        return found

    def _fits(self, i: int, text: str, p: int, q: int, end: int) -> bool:
        """A term that starts (ends) with an ASCII letter or digit is not preceded (followed) by one."""
        before, after = self.edges[i]
        return not ((before and p > 0 and _edge(text[p - 1])) or (after and q < end and _edge(text[q])))


def load(path: Union[str, os.PathLike]) -> Glossary:
    """Read a glossary TSV file; GlossaryError with the file and line for anything wrong in it."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_GLOSSARY_BYTES + 1)
    except FileNotFoundError:
        raise GlossaryError(f"glossary {name}: no such file") from None
    except OSError as e:
        raise GlossaryError(f"glossary {name}: cannot read ({e.strerror or e})") from None
    if len(data) > MAX_GLOSSARY_BYTES:
        raise GlossaryError(f"glossary {name}: larger than {MAX_GLOSSARY_BYTES // 2**20} MiB, the most read")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise GlossaryError(f"glossary {name}, line {line}: not UTF-8 text") from None
    return parse(text.splitlines(), name)


def parse(lines: Iterable[str], name: str = "glossary") -> Glossary:
    terms: dict[tuple[str, str], Term] = {}
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t")
        where = f"glossary {name}, line {number}"
        if len(cols) not in (2, 3):
            raise GlossaryError(f"{where}: expected SOURCE<TAB>TARGET[<TAB>case|nocase], found "
                                f"{len(cols)} column{'' if len(cols) == 1 else 's'}")
        source, target = cols[0].strip(), cols[1].strip()
        case = cols[2].strip().lower() if len(cols) == 3 and cols[2].strip() else "case"
        if not source or not target:
            raise GlossaryError(f"{where}: empty {'source' if not source else 'target'} term")
        if case not in CASE_RULES:
            raise GlossaryError(f"{where}: unknown case rule {cols[2].strip()!r} (case or nocase)")
        key = (source.lower() if case == "nocase" else source, case)
        if key in terms and terms[key].target != target:
            raise GlossaryError(f"{where}: {source!r} is already given as {terms[key].target!r}")
        terms[key] = Term(source, target, case)
    return Glossary(tuple(terms.values()), name)


def of(value) -> Optional[Glossary]:
    """A Glossary from what the API accepts: a Glossary, a TSV file's path, or a {source: target} mapping."""
    if value is None or isinstance(value, Glossary):
        return value
    if isinstance(value, Mapping):
        return parse((f"{s}\t{t}" for s, t in value.items()), "mapping")
    if isinstance(value, (str, os.PathLike)):
        return load(value)
    raise GlossaryError(f"glossary: expected a file path, a mapping or a Glossary, not {type(value).__name__}")

