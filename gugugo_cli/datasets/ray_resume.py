"""--ray runs that are started again: every translated batch is kept in the output's unfinished folder (on the
shared storage the output is on) as an Arrow file, written atomically and named by a digest of what decides
it (the batch's input, the fields, languages, model and options). A run started again after a kill, with its
actors on any node, takes a batch from there instead of translating it again: the SQLite segment cache is
per node, this folder is not. The folder goes when the run is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Optional

FOLDER = ".batches"


def batches_folder(staging: Path) -> Path:
    return staging / FOLDER


def digest(batch, config: dict) -> str:
    """What decides a batch's result: its rows (an Arrow table: the raw lines and their numbers for JSON
    Lines, the columns for Parquet) and the run's config."""
    import pyarrow as pa

    h = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode("utf-8"))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_table(batch)
    h.update(sink.getvalue().to_pybytes())
    return h.hexdigest()


def load(folder: Optional[Path], key: str):
    """The result a run before this one kept for a batch, or None. Its rows count as translated then: the
    model did nothing for them in this run."""
    if folder is None:
        return None
    import pyarrow as pa

    path = folder / f"{key}.arrow"
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    except (FileNotFoundError, pa.ArrowInvalid, OSError):
        return None
    stats = table.column("_stats").to_pylist()
    if stats and stats[0]:
        counts = json.loads(stats[0])
        counts["model_segments"] = 0
        stats[0] = json.dumps(counts)
        index = table.schema.get_field_index("_stats")
        table = table.set_column(index, "_stats", pa.array(stats, pa.string()))
    return table


def store(folder: Optional[Path], key: str, table) -> None:
    """A batch's result kept (temp file, then rename: a kill leaves no half-written batch)."""
    if folder is None:
        return
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{key}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f, pa.ipc.new_file(f, table.schema) as writer:
            writer.write_table(table)
        os.replace(name, folder / f"{key}.arrow")
    except BaseException:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        raise
