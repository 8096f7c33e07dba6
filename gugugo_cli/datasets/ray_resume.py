"""--ray runs that are started again, and the unfinished folder their parts are written to until the run is
done (`.NAME.unfinished/` beside the output folder): every translated batch is kept in the output's unfinished folder (on the
shared storage the output is on) as an Arrow file, written atomically and named by a digest of what decides
it (the batch's input, the fields, languages, model and options). A run started again after a kill, with its
actors on any node, takes a batch from there instead of translating it again: the SQLite segment cache is
per node, this folder is not. The folder goes when the run is done.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Optional

from ..errors import InputError

log = logging.getLogger("gugugo_cli")

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


def in_output_folder(path: Path, dest: Path) -> bool:
    """Whether the input lies in the output folder (or its unfinished twin), where parts are replaced."""
    return path.resolve().parent in (dest.resolve(), _unfinished(dest).resolve())


def _unfinished(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.unfinished"


def staging(path: Path, dest: Path) -> Path:
    """The folder the parts are written to until the run is done, so that a run that stops leaves no folder
    of some parts that looks finished. One left by such a run keeps the batches it finished (ray_resume.py:
    taken from there, not translated again); its parts are written again."""
    if dest.exists() and not dest.is_dir():
        raise InputError(dest, "--ray writes a folder of parts; this is a file")
    if in_output_folder(path, dest):
        raise InputError(path, f"refusing to write the parts into the folder holding the input ({dest}); "
                         "choose another -o")
    staging = _unfinished(dest)
    if staging.exists():
        log.info("%s: a run that did not finish is taken up again (its finished batches are kept)", dest)
        clear_parts(staging)
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def clear_parts(staging: Path) -> None:
    """Everything in the unfinished folder but the finished batches."""
    if not staging.is_dir():
        return
    for item in staging.iterdir():
        if item.name == FOLDER:
            continue
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)


def _is_part(name: str, kind: str) -> bool:
    return re.fullmatch(rf"part-\d{{6}}(?:-\d{{6}})?\.{kind}", name) is not None


def publish(staging: Path, dest: Path, kind: str) -> None:
    """The finished parts moved into the output folder; parts there from an earlier run that this one has
    not replaced are removed (nothing else in the folder is touched)."""
    if not dest.exists():
        os.replace(staging, dest)
        return
    new = [p.name for p in staging.iterdir()]
    for old in dest.iterdir():
        if _is_part(old.name, kind) and old.name not in new:
            old.unlink()
    for name in new:
        os.replace(staging / name, dest / name)
    staging.rmdir()
