"""Datasets: the named fields of every row of a .jsonl, .json, .csv, .tsv or .parquet file translated,
everything else kept, streamed in windows of rows (see run.py). Cheap to import: pyarrow loads only for a
Parquet file."""

from __future__ import annotations

from ..formats import DATASET_NAMES, DATASET_SUFFIXES as SUFFIXES, is_dataset


def __getattr__(name):
    if name in ("translate_dataset", "list_fields", "DatasetSummary"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SUFFIXES", "DATASET_NAMES", "is_dataset", "translate_dataset", "list_fields", "DatasetSummary"]
