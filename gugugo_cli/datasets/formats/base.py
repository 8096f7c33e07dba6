"""What every dataset format shares: a row as read (`Record`), a file read in windows of rows (`DatasetFile`)
and the largest row read into memory (`MAX_ROW_BYTES`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

from ...safety import format_size
from ..paths import FieldPath, column_path, parse

# A row (a JSON Lines line, a JSON array element, a CSV/TSV record) is read whole: one larger than this fails
# alone (JSON Lines, copied to the output as it was without being read into memory) or the file is refused.
MAX_ROW_BYTES = 16 << 20


def too_large(limit: int) -> str:
    return f"the row is larger than the {format_size(limit)} row-size limit"


@dataclass
class Record:
    index: int  # row number in the file, from 0
    value: Any  # the row (a dict for JSON rows and tables); None for a blank line
    raw: Any = None  # what was read, to write back when unchanged
    problem: Optional[str] = None  # why the row cannot be used at all (e.g. invalid JSON)
    changed: bool = False
    extra: Any = None  # format-specific


class DatasetFile:
    """Reads one dataset in windows; `open_writer` writes the translated rows to a file."""

    is_table = False  # fields are column names, not paths

    def __init__(self, path: Path, max_row: Optional[int] = None):
        self.path = Path(path)
        self.size = self.path.stat().st_size
        self.max_row = max_row or MAX_ROW_BYTES
        self.notes: list[str] = []  # how the file was read (its quoting, its encoding), said once per run

    def field_path(self, text: str) -> FieldPath:
        return column_path(text) if self.is_table else parse(text)

    def windows(self, rows: int) -> Iterator[list[Record]]:
        window = []
        for record in self.records():
            window.append(record)
            if len(window) >= rows:
                yield window
                window = []
        if window:
            yield window

    def records(self) -> Iterator[Record]:
        raise NotImplementedError

    def position(self) -> int:
        """Bytes read so far (for progress)."""
        return 0

    def close(self) -> None:
        pass
