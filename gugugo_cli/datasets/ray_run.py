"""Translating a dataset on a Ray cluster (`--ray`): imported only then; needs `pip install ".[ray]"`.

Ray Data reads the file in blocks, a pool of actors translates them (each actor loads the model once: one GPU
each when the model runs on CUDA, else CPU actors with one torch thread), and the output folder gets one file
per block, `part-000000.EXT`, `part-000001.EXT`, ... in row order (the DataContext keeps order), so the parts
read one after another are the single-process output. They are written to a hidden `.NAME.unfinished/` folder
and moved into the output folder when the run is done: a run that stopped is never taken for a finished one.

Each batch is translated exactly as a window of the single-process path (run.translate_window): the same
field planner, cache lookup and translator stream, the same rules for failed rows, and the same writing back
(in place, or beside the field as FIELD_<to> with --keep-source), read and written with the same codecs.

- JSON Lines: blocks of lines as they are (bytes) from a small datasource (not read_json: Arrow's JSON reader
  would unify the rows' types, turn missing keys into nulls and reserialize every line); each line is read and
  written back by formats/jsonl.py.
- Parquet: read_parquet, batches as Arrow tables made into output batches by formats/parquet.py's writer
  (columns not named go through as Arrow arrays; the file's schema, metadata included, is the output's).

Cache: every actor opens the SQLite segment cache at the given path on its own machine (on one machine that
is the same file as a single-process run's; on a cluster each node has its own unless the path is on shared
storage). --no-cache: none. Each finished batch is also kept in the unfinished folder (ray_resume.py), so a
killed run started again, its actors on any node, translates only what it had not finished.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Optional, Sequence

from ..config import install_hint
from ..errors import FieldError, GugugoError, InputError, ModelError, UsageError
from .formats.jsonl import BOM
from . import ray_resume
from .ray_resume import batches_folder
from .run import DatasetSummary, failed_path_for

log = logging.getLogger("gugugo_cli")

RAY_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
BATCH_ROWS = 500
# the counts each batch hands back to the driver
STATS = ("rows", "rows_changed", "rows_missing", "segments", "unique", "cache_hits", "model_segments", "capped",
         "matched")
NOT_SPLITTABLE = ("--ray cuts a file into blocks of lines (.jsonl) or rows (.parquet) that actors translate apart; "
                  "a .json array and CSV/TSV cannot be cut so (a quoted record may span lines, and the quoting is "
                  "decided over the whole file): translate them without --ray, or convert them to JSON Lines")
INSTALL_HINT = f"--ray needs Ray Data: {install_hint('ray')}"


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


class BatchTranslator:
    """A Ray actor: loads the translator once (on the first segment that needs it) and translates batches,
    each as a window of the single-process path, read and written with the same codecs."""

    def __init__(self, resolved, source: str, fields: Sequence[str], to: str, src: str, keep_source: bool,
                 kind: str, cache_path: Optional[str], torch_threads: Optional[int] = None,
                 resume_dir: Optional[str] = None):
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
        from ..job.cache import SegmentCache
        from .paths import parse
        from .run import Progress, Translating
        from .window import Fields

        self.resolved, self.kind = resolved, kind
        self.resume = Path(resume_dir) if resume_dir else None  # finished batches kept there (ray_resume.py)
        self.config = dict(fields=list(fields), to=to, src=src, keep_source=keep_source, kind=kind,
                           model=resolved.cache_key)
        if kind == "parquet":
            from .formats import ParquetFile, ParquetWriter

            self.reader = ParquetFile(source)
            paths = [self.reader.field_path(f) for f in fields]  # a column name with a dot is a column
            self.reader.use_columns([p.column for p in paths])
            self.writer = ParquetWriter(None, self.reader, keep_source, paths, to)
        else:
            paths = [parse(f) for f in fields]
        self.fields = Fields(paths, to, src, keep_source, kind == "jsonl")
        self.translating = Translating(to, self._load, lambda: resolved.cache_key,
                                       SegmentCache(Path(cache_path) if cache_path else None), Progress())

    def _load(self):
        from ..translators import load_resolved
        from ..console import quiet_transformers

        quiet_transformers()
        return load_resolved(self.resolved)

    def __call__(self, batch):
        key = ray_resume.digest(batch, self.config)
        kept = ray_resume.load(self.resume, key)
        if kept is not None:
            return kept
        table = self._translate(batch)
        model = self.resolved.cache_key  # names the hub revision once the model is downloaded
        if model != self.config["model"]:
            self.config["model"] = model
            key = ray_resume.digest(batch, self.config)
        ray_resume.store(self.resume, key, table)
        return table

    def _translate(self, batch):
        import pyarrow as pa

        from .run import translate_window

        summary = DatasetSummary("")
        if self.kind == "jsonl":
            records, bom = self._lines(batch)
            first_row = next((n for n in batch.column("row").to_pylist() if n is not None), None)
        else:
            batch = _record_batch(pa, batch)
            records, first_row = self.reader.records_of(batch, 0), None
        window = translate_window(records, self.fields, first_row, self.translating, summary)
        if self.kind == "jsonl":
            from .formats.jsonl import write_line

            out = [write_line(r) for r in records]
            if bom:
                out[0] = BOM + out[0]
            table = pa.table({"line": pa.array(out, pa.binary())})
        else:
            table = pa.Table.from_batches([self.writer.batch(records)] if records else [], self.writer.schema)
        entries = window.failed_entries()
        failed = [json.dumps(entries[i], ensure_ascii=False) if i in entries else "" for i in range(len(records))]
        stats = [json.dumps({name: getattr(summary, name) for name in STATS})] + [""] * (len(records) - 1)
        return table.append_column("_failed", pa.array(failed, pa.string())).append_column(
            "_stats", pa.array(stats, pa.string()))

    def _lines(self, batch):
        """The batch's lines as records, and whether the first holds the file's BOM (written back with it)."""
        from .formats.jsonl import parse_line

        records, bom = [], False
        for raw, n in zip(batch.column("line").to_pylist(), batch.column("lineno").to_pylist()):
            if n == 0 and raw.startswith(BOM):
                raw, bom = raw[len(BOM):], True
            records.append(parse_line(n, raw))
        return records, bom


def _record_batch(pa, table):
    """A Ray batch (an Arrow table, perhaps in chunks) as one record batch."""
    return pa.RecordBatch.from_arrays([column.combine_chunks() for column in table.columns], schema=table.schema)


def line_blocks(f, block_rows: int):
    """A JSON Lines file's lines as they are (bytes, line ending kept), with line numbers and data-row numbers,
    in Arrow tables of block_rows lines: the blocks --ray's actors get."""
    import pyarrow as pa

    lines, rows, numbers = [], [], []
    row = n = 0
    rest = b""

    def block():
        table = pa.table({"line": pa.array(lines, pa.binary()), "row": pa.array(rows, pa.int64()),
                          "lineno": pa.array(numbers, pa.int64())})
        lines.clear(), rows.clear(), numbers.clear()
        return table

    while True:
        chunk = f.read(1 << 20)
        data = rest + chunk
        parts = data.split(b"\n")
        rest = parts.pop() if chunk else b""
        if not chunk and parts and parts[-1] == b"":
            parts.pop()  # the file ends with a line break
        for i, part in enumerate(parts):
            last = not chunk and i == len(parts) - 1 and not data.endswith(b"\n")
            line = part if last else part + b"\n"
            blank = not (line[3:] if n == 0 and line.startswith(b"\xef\xbb\xbf") else line).strip()
            lines.append(line)
            rows.append(None if blank else row)
            numbers.append(n)
            row += not blank
            n += 1
            if len(lines) >= block_rows:
                yield block()
        if not chunk:
            break
    if lines:
        yield block()


def _jsonl_datasource(path: str, block_rows: int):
    from ray.data.datasource import FileBasedDatasource

    class JsonLinesSource(FileBasedDatasource):
        def _read_stream(self, f, path):
            yield from line_blocks(f, block_rows)

    return JsonLinesSource(path)


def _datasink(folder: str, kind: str):
    from ray.data.datasource import BlockBasedFileDatasink, FilenameProvider

    class Parts(FilenameProvider):
        def get_filename_for_block(self, block, write_uuid, task_index, block_index):
            return f"part-{task_index:06d}-{block_index:06d}.{kind}"

        def get_filename_for_task(self, write_uuid, task_index):
            return f"part-{task_index:06d}.{kind}"

    class Sink(BlockBasedFileDatasink):
        """Writes each block's rows as a part; hands the failed-row entries and counts back to the driver."""

        def __init__(self):
            super().__init__(folder, file_format=kind, filename_provider=Parts())
            self.returns = []

        def write(self, blocks, ctx):
            from ray.data.block import BlockAccessor

            failed, stats, kept = [], [], []
            for b in (BlockAccessor.for_block(b).to_arrow() for b in blocks):
                failed += [x for x in b.column("_failed").to_pylist() if x]
                stats += [json.loads(x) for x in b.column("_stats").to_pylist() if x]
                kept.append(b.drop_columns(["_failed", "_stats"]))
            super().write(iter(kept), ctx)
            return {"task": ctx.task_idx, "failed": failed, "stats": stats}

        def write_block_to_file(self, block, file):
            table = block.to_arrow()
            if kind == "jsonl":
                for chunk in table.column("line").chunks:
                    file.write(b"".join(chunk.to_pylist()))
            else:
                import pyarrow.parquet as pq

                pq.write_table(table, file)

        def on_write_complete(self, write_result):
            self.returns = list(write_result.write_returns)

    return Sink()


def translate_dataset_ray(path, fields: Sequence[str], to: str, resolved, *, src: str = "auto", output=None,
                          keep_source: bool = False, cache_path=None, actors: int = 2,
                          batch_rows: int = BATCH_ROWS, num_cpus: float = 1.0) -> DatasetSummary:
    """Translate the named fields of every row of a .jsonl or .parquet file on Ray (see the module's text).

    resolved: engines.loading.Resolved (each actor loads it); output: the folder for the parts (default
    NAME.<to>.EXT/ beside the input; its old parts are replaced once the run is done); rows that fail are
    listed in FOLDER.failed.jsonl beside the folder. Ray is started here unless it is initialised."""
    ray = _ray()
    from ray.data import ActorPoolStrategy, DataContext

    path = Path(path)
    kind = _check(path, fields, keep_source)
    from ..job.inputs import output_path

    dest = Path(output) if output is not None else output_path(path, to)
    staging = ray_resume.staging(path, dest)
    started = time.perf_counter()
    start(ray)
    context = DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False

    gpus = 1 if resolved.device_kind == "cuda" else 0
    if gpus:  # --engine vllm with tensor_parallel_size=N: each actor holds the N GPUs its model is spread over
        gpus = int(dict(resolved.decode.engine_options).get("tensor_parallel_size") or 1)
    if kind == "jsonl":
        ds = ray.data.read_datasource(_jsonl_datasource(str(path.resolve()), batch_rows))
    else:
        ds = ray.data.read_parquet(str(path.resolve()))
    ds = ds.map_batches(
        BatchTranslator, batch_format="pyarrow", batch_size=batch_rows, zero_copy_batch=True,
        # two batches in flight per actor: the next one is already there when the actor finishes one
        compute=ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=2), num_gpus=gpus, num_cpus=num_cpus,
        fn_constructor_kwargs=dict(resolved=resolved, source=str(path.resolve()), fields=list(fields), to=to,
                                   src=src, keep_source=keep_source, kind=kind,
                                   cache_path=str(cache_path) if cache_path else None,
                                   torch_threads=None if gpus else max(1, int(num_cpus)),
                                   resume_dir=str(batches_folder(staging).resolve())))
    sink = _datasink(str(staging.resolve()), kind)
    try:
        ds.write_datasink(sink)
        summary = _summary(path, dest, sink.returns)
        shutil.rmtree(batches_folder(staging), ignore_errors=True)
        ray_resume.publish(staging, dest, kind)
    except Exception as e:  # noqa: BLE001 - a Ray task that failed: one line when it was the project's own error
        ray_resume.clear_parts(staging)  # the finished batches stay, for a run started again
        own = _own_error(e)
        if own is None:
            raise
        raise own from None
    summary.seconds = time.perf_counter() - started
    return summary


def _check(path: Path, fields: Sequence[str], keep_source: bool) -> str:
    """The input's kind (jsonl or parquet), once the file and the fields are found fit for a run."""
    kind = RAY_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputError(path, NOT_SPLITTABLE)
    if not path.is_file():
        raise InputError(path, "no such file")
    from .formats import ParquetFile
    from .paths import parse

    table = ParquetFile(path) if kind == "parquet" else None
    paths = [table.field_path(f) if table is not None else parse(f) for f in fields]  # a column with a dot
    if not paths:
        raise InputError(path, "no field named to translate")
    if keep_source and any(p.last_key is None for p in paths):
        raise FieldError("--keep-source needs field paths that end in a key, not an index")
    if table is not None:
        table.use_columns([p.column for p in paths])  # a missing column: an error now
    return kind


def _summary(path: Path, dest: Path, returns) -> DatasetSummary:
    """The counts the write tasks handed back, added up; the failed rows listed beside the output."""
    summary = DatasetSummary(str(path), dest)
    failed = []
    for ret in sorted((r for r in returns if r), key=lambda r: r["task"]):
        failed += ret["failed"]
        for s in ret["stats"]:
            for name, value in s.items():
                setattr(summary, name, getattr(summary, name) + value)
    summary.rows_failed = len(failed)
    summary.failures = [json.loads(f) for f in failed[:5]]
    failed_file = failed_path_for(dest)
    if failed:
        from ..textio import atomic_write_chunks

        atomic_write_chunks(failed_file, ((f + "\n").encode("utf-8") for f in failed))
        summary.failed_path = failed_file
    elif failed_file.exists():
        failed_file.unlink()
    return summary


def start(ray) -> bool:
    """Ray started: the cluster at $RAY_ADDRESS (checked first: Ray itself retries an address where nothing
    answers for minutes), else a local one. False when it was already initialised."""
    if ray.is_initialized():
        return False
    from ..console import engine_output

    # Ray's and Ray Data's log lines (INFO, WARNING, and its C++ core's `E ... core_worker` lines on runs that
    # succeed) only with --debug; the C++ core says at start which level it read: that line goes too
    debug = log.isEnabledFor(logging.DEBUG)
    level = logging.INFO if debug else logging.ERROR
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "info" if debug else "fatal")
    address = os.environ.get("RAY_ADDRESS", "").strip()
    if address:
        check_address(address)
    with engine_output():
        ray.init(log_to_driver=False, logging_level=level, **({} if address else {"include_dashboard": False}))
    logging.getLogger("ray.data").setLevel(level)
    return True


def check_address(address: str, timeout: float = 5.0) -> None:
    """A GugugoError unless something answers at a host:port (or ray://host:port) address; other forms
    ("auto", "local") are Ray's own look-ups."""
    m = re.fullmatch(r"(?:ray://)?\[?([^\s\[\]/]+?)\]?:(\d{1,5})", address)
    if m is None:
        return
    try:
        socket.create_connection((m[1], int(m[2])), timeout=timeout).close()
    except OSError as e:
        raise GugugoError(f"RAY_ADDRESS {address}: no Ray cluster answers there ({e.strerror or e})") from None


def _own_error(e: Exception) -> GugugoError | None:
    """The project's error (a model that cannot be loaded, say) that failed a Ray task, or None. Ray Data keeps
    an exception raised in an actor only as the text of its traceback, so the error is read back from there."""
    text = getattr(e, "traceback_str", None) or str(e)
    found = re.findall(r"^gugugo_cli\.errors\.(\w+): (.+)$", text, re.M)
    if not found:
        return None
    name, message = found[-1]
    return ModelError(message) if name == "ModelError" else GugugoError(message)


def parts(folder) -> list[Path]:
    """The parts of a --ray output folder, in row order."""
    return sorted(p for p in Path(folder).iterdir() if p.name.startswith("part-"))
