"""Dataset files read in windows of rows and written back the same way, each in its own format.

Every reader yields `Record`s; a writer gets them back in order, each either unchanged (written as it was
read, byte for byte where the format allows) or changed (its `value` re-serialized). Memory holds one
window of rows, never the whole file.

One module a format: jsonl.py (.jsonl, .ndjson), json_array.py (.json), csv_table.py (.csv, .tsv) and
parquet.py (.parquet); base.py holds what they share (and the row-size limit), jsontext.py the JSON reading
and writing that keeps number literals and repeated keys as written. open_dataset picks the reader by the
file's extension.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from ...formats import DATASETS
from .base import DatasetFile, Record
from .csv_table import CsvFile, CsvWriter
from .json_array import JsonArray, JsonArrayWriter
from .jsonl import JsonLines, JsonLinesWriter
from .parquet import ParquetFile, ParquetWriter

SUFFIXES = {suffix: kind for suffix, (kind, _) in DATASETS.items()}  # suffix -> reader kind


def open_dataset(path: Path, quoting: str = "auto") -> DatasetFile:
    """The reader for a dataset file; `quoting` (auto, csv or none) is how a CSV/TSV file's quotes are read."""
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(path, f"not a dataset file (expected one of {', '.join(sorted(SUFFIXES))})")
    if not Path(path).is_file():
        raise InputError(path, "no such file")
    if kind == "csv":
        return CsvFile(path, quoting=quoting)
    return {"jsonl": JsonLines, "json": JsonArray, "parquet": ParquetFile}[kind](path)


__all__ = ["SUFFIXES", "Record", "DatasetFile", "open_dataset", "JsonLines", "JsonLinesWriter", "JsonArray",
           "JsonArrayWriter", "CsvFile", "CsvWriter", "ParquetFile", "ParquetWriter"]
