"""One window of dataset rows, handled alike by the single-process path (run.py) and each Ray actor
(ray_run.py): the named fields of each row located and planned, their segments deduplicated across the
window; once the translations are known, they are put back and the rows that fail are listed.

A row fails when it cannot be read, a named field holds something other than a string (a missing key or
null is nothing to translate) or text with an unpaired surrogate (a `\ud83d` escape in JSON), one of its
segments is reported as a failed translation, or a translation cannot be written in the output's encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from ..job import pool
from ..segment import approx_tokens
from .formats import Record
from .paths import FieldPath, FieldProblem, locate, put
from ..field_plan import plan_field


def row_reason(verdict: str) -> str:
    """A failed row's reason from its segment's verdict ("stopped at its token limit ...", "repeats 'ab'",
    "empty translation"): said of the translation, once."""
    return verdict if "translation" in verdict else f"translation {verdict}"


@dataclass(frozen=True)
class Fields:
    """What a run translates in each row: the field paths, the languages, and where translations go."""

    paths: Sequence[FieldPath]
    to: str
    src: str = "auto"
    keep_source: bool = False
    lines: bool = False  # failed entries name the file's line (JSON Lines)
    encoding: str = "utf-8"  # the output's: a translation it cannot encode fails its row


_SURROGATE = re.compile("[\ud800-\udfff]")


def _unpaired_surrogate(locations) -> Optional[tuple[str, str]]:
    """(field, reason) for the first string holding an unpaired surrogate: no model, cache or file takes it."""
    for loc in locations:
        m = _SURROGATE.search(loc.value)
        if m:
            return loc.where, (f"{loc.where} has an unpaired surrogate ({ascii(m.group())[1:-1]}) at character "
                               f"{m.start()}, which is not text")
    return None


def _unwritable(text: str, encoding: str) -> Optional[str]:
    try:
        text.encode(encoding)
        return None
    except UnicodeEncodeError as e:
        return repr(e.object[e.start:e.end])


class Window:
    """A window of records, planned on creation (counts go to `summary`)."""

    def __init__(self, records: list[Record], fields: Fields, first_row: Optional[int], summary,
                 plans: Optional[dict] = None):
        """plans: text -> its plan, made beforehand (in a worker process) for the window's texts."""
        self.records, self.fields = records, fields
        self.numbers: dict[int, Optional[int]] = {}  # record position -> data-row number (blank lines have none)
        self.failures: dict[int, tuple[str, str]] = {}  # record position -> (field, reason)
        self.slots: dict[int, list] = {}  # record position -> [(location, plan)]
        row = first_row
        for i, r in enumerate(records):
            if r.value is None and r.problem is None:
                continue  # a blank line
            self.numbers[i] = row
            row = None if row is None else row + 1
            if r.problem:
                self.failures[i] = ("", r.problem)
                continue
            try:
                found, missing = self._locate(r.value, summary)
            except FieldProblem as e:
                self.failures[i] = ("", str(e))
                continue
            bad = _unpaired_surrogate(found)
            if bad:
                self.failures[i] = bad
                continue
            summary.rows_missing += bool(missing)
            self.slots[i] = [(loc, plans[loc.value] if plans is not None else plan_field(loc.value, fields.to, fields.src))
                             for loc in found]
        self.next_row = row
        self.rows = len(self.numbers)
        plans = [plan for row_plans in self.slots.values() for _, plan in row_plans]
        self.order = pool.keys_of(plans)
        summary.rows += self.rows
        summary.segments += sum(len(plan.segments) for plan in plans)
        summary.unique += len(self.order)
        summary.est_tokens += sum(approx_tokens(text) for _, text in self.order)

    def _locate(self, value, summary):
        found, missing = [], 0
        for p in self.fields.paths:
            locations, m = locate(value, p)
            found += locations
            missing += m
            if locations and p.text not in summary.matched:
                summary.matched.append(p.text)
        return found, missing

    def put_back(self, done: dict, bad: dict, summary) -> None:
        """Each row's translations written into its value (`done`: key -> translation); a row with a segment
        in `bad` (key -> reason) fails instead."""
        keep_source, to = self.fields.keep_source, self.fields.to
        for i, row in self.slots.items():
            r = self.records[i]
            reasons = [(loc.where, bad[(s.src, s.text)]) for loc, plan in row for s in plan.segments
                       if (s.src, s.text) in bad]
            if reasons:
                self.failures[i] = (reasons[0][0], row_reason(reasons[0][1]))
                continue
            texts = [plan.render(done) for _, plan in row]
            unwritable = [(loc.where, c) for (loc, _), t in zip(row, texts)
                          if (c := _unwritable(t, self.fields.encoding))]
            if unwritable:
                where, chars = unwritable[0]
                self.failures[i] = (where, f"the translation of {where} cannot be written in "
                                           f"{self.fields.encoding} ({chars})")
                continue
            r.changed = keep_source and bool(row) or any(t != loc.value for (loc, _), t in zip(row, texts))
            if r.changed:
                for (loc, _), text in zip(row, texts):
                    put(loc, text, keep_source, to)
                summary.rows_changed += 1

    def failed_entries(self) -> dict[int, dict]:
        """record position -> its entry in the failed-rows file, in row order."""
        entries = {}
        for i in sorted(self.failures):
            field, reason = self.failures[i]
            entry = {} if self.numbers[i] is None else {"row": self.numbers[i]}
            if self.fields.lines:
                entry["line"] = self.records[i].index + 1
            if self.records[i].key is not None:
                entry["key"] = self.records[i].key
            if field:
                entry["field"] = field
            entry["reason"] = reason
            entries[i] = entry
        return entries


def field_texts(records: list[Record], fields: Fields) -> list[str]:
    """The distinct texts a window of records has in the named fields (what its plans are made of)."""
    texts: dict[str, None] = {}
    for r in records:
        if r.value is None or r.problem:
            continue
        for p in fields.paths:
            try:
                locations, _ = locate(r.value, p)
            except FieldProblem:
                break
            texts.update((loc.value, None) for loc in locations)
    return list(texts)
