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
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

from .errors import GugugoError

CASE_RULES = ("case", "nocase")


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
    _pattern: Optional[re.Pattern] = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_pattern", _compile(self.terms))

    @property
    def digest(self) -> str:
        """Identity of the glossary's content (for the segment cache): the same terms give the same digest."""
        h = hashlib.sha1()
        for t in sorted(self.terms, key=lambda t: (t.source, t.case)):
            h.update(f"{t.source}\t{t.target}\t{t.case}\n".encode("utf-8"))
        return h.hexdigest()[:16]

    def find(self, text: str, start: int = 0, end: Optional[int] = None) -> list[tuple[int, int, Term]]:
        """(start, end, term) of every term in text[start:end], left to right, longest first at each place."""
        if self._pattern is None:
            return []
        end = len(text) if end is None else end
        found = []
        for m in self._pattern.finditer(text, start, end):
            found.append((m.start(), m.end(), self.terms[int(m.lastgroup[1:])]))
        return found

    def __len__(self) -> int:
        return len(self.terms)

    def __hash__(self) -> int:
        return hash(self.terms)


def _edge(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _compile(terms: tuple[Term, ...]) -> Optional[re.Pattern]:
    if not terms:
        return None
    parts = []
    for i in sorted(range(len(terms)), key=lambda i: -len(terms[i].source)):
        t = terms[i].source
        body = re.escape(t)
        if terms[i].case == "nocase":
            body = f"(?i:{body})"
        before = r"(?<![A-Za-z0-9])" if _edge(t[0]) else ""
        after = r"(?![A-Za-z0-9])" if _edge(t[-1]) else ""
        parts.append(f"(?P<t{i}>{before}{body}{after})")
    return re.compile("|".join(parts))


def load(path: Union[str, os.PathLike]) -> Glossary:
    """Read a glossary TSV file; GlossaryError with the file and line for anything wrong in it."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise GlossaryError(f"glossary {name}: no such file") from None
    except OSError as e:
        raise GlossaryError(f"glossary {name}: cannot read ({e.strerror or e})") from None
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

