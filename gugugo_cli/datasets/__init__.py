"""Datasets: the named fields of every row of a .jsonl, .json, .csv, .tsv or .parquet file translated,
everything else kept, streamed in windows of rows (see run.py). Cheap to import: pyarrow loads only for a
Parquet file."""

from __future__ import annotations

from pathlib import Path

SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")
# what --list-formats calls each
DATASET_NAMES = {".jsonl": "JSON Lines", ".ndjson": "JSON Lines", ".json": "JSON (an array of rows)",
                 ".csv": "CSV/TSV", ".tsv": "CSV/TSV", ".parquet": "Parquet (needs pyarrow)"}


def is_dataset(path) -> bool:
    """A file with a dataset's extension (datasets are translated only when named as inputs)."""
    return Path(str(path)).suffix.lower() in SUFFIXES


def __getattr__(name):
    if name in ("translate_dataset", "list_fields", "DatasetSummary"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SUFFIXES", "DATASET_NAMES", "is_dataset", "translate_dataset", "list_fields", "DatasetSummary"]
