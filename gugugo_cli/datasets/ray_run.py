"""Translating a dataset on a Ray cluster (`--ray`): imported only then; needs `pip install "gugugo-translate[ray]"`.

Ray Data reads the file in blocks, a pool of actors translates them (each actor loads the model once: one GPU
each when the model runs on CUDA, else CPU actors with one torch thread), and the output folder gets one file
per block, `part-000000.EXT`, `part-000001.EXT`, ... in row order (the DataContext keeps order), so the parts
read one after another are the single-process output.

Each batch is translated exactly as a window of the single-process path (run.py): the same field planner,
cache lookup and translator stream (run._translate), the same rules for failed rows, and the same writing
back (in place, or beside the field as FIELD_<to> with --keep-source).

- JSON Lines: read line by line by a small datasource (not read_json: Arrow's JSON reader would unify the rows'
  types, turn missing keys into nulls and reserialize every line); an unchanged line is written back as it was,
  a changed one re-serialized as the single-process path does it.
- Parquet: read_parquet, batches as Arrow tables; columns not named go through as Arrow arrays, types and all.

Cache: every actor opens the SQLite segment cache at the given path on its own machine (on one machine that
is the same file as a single-process run's; on a cluster each node has its own unless the path is on shared
storage). --no-cache: none.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Optional, Sequence

from ..errors import GugugoError, InputError, ModelError, UsageError
from .run import DatasetSummary, failed_path_for

log = logging.getLogger("gugugo_cli")

RAY_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
BATCH_ROWS = 500
INSTALL_HINT = "--ray needs Ray Data: pip install 'gugugo-translate[ray]'"


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


def output_folder(path: Path, to: str) -> Path:
    """data.jsonl -> data.ko.jsonl/ (a folder of parts)."""
    from ..job.inputs import output_path

    return output_path(path, to)


def _output_schema(pa, schema, keep_source: bool, paths, tgt: str):
    """The output's Arrow schema and the columns whose values come from the rows (as ParquetWriter makes them)."""
    from .formats.parquet import _with_source_keys
    from .paths import source_key

    changed = list(dict.fromkeys(p.column for p in paths))
    if not keep_source:
        return schema, changed
    fields = []
    added = {p.column: source_key(p.column, tgt) for p in paths if len(p.steps) == 1}
    for f in schema:
        if f.name in added.values() and f.name not in added:
            continue
        dtype = f.type
        for p in (p for p in paths if p.column == f.name and len(p.steps) > 1):
            dtype = _with_source_keys(pa, dtype, p.steps, tgt)
        fields.append(f.with_type(dtype))
        if f.name in added:
            fields.append(pa.field(added[f.name], f.type))
            changed.append(added[f.name])
    return pa.schema(fields, metadata=schema.metadata), changed


class BatchTranslator:
    """A Ray actor: loads the translator once (on the first segment that needs it) and translates batches."""

    def __init__(self, resolved, fields: Sequence[str], to: str, src: str, keep_source: bool, kind: str,
                 cache_path: Optional[str], torch_threads: Optional[int] = None):
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
        from ..job.cache import SegmentCache
        from .paths import FieldPath, parse

        self.resolved, self.to, self.src, self.keep_source, self.kind = resolved, to, src, keep_source, kind
        self.paths = [f if isinstance(f, FieldPath) else parse(f) for f in fields]
        self.cache = SegmentCache(Path(cache_path) if cache_path else None)
        self.key = resolved.cache_key
        self.state = {"translator": None, "capped_before": None}

    def _load(self):
        from ..api import load_resolved
        from ..console import quiet_transformers

        quiet_transformers()
        return load_resolved(self.resolved)

    def __call__(self, batch):
        from ..job import pool
        from .formats import Record
        from .formats.jsonl import parse_line
        from .formats.parquet import column_array
        from .paths import FieldProblem, locate, put
        from .planner import plan_field
        from .run import Progress, _translate

        import pyarrow as pa

        summary = DatasetSummary("")
        if self.kind == "jsonl":
            lines = batch.column("line").to_pylist()
            rows = batch.column("row").to_pylist()
            numbers = batch.column("lineno").to_pylist()
            records = [parse_line(n, raw) for raw, n in zip(lines, numbers)]
        else:
            columns = list(dict.fromkeys(p.column for p in self.paths))
            values = {c: batch.column(c).to_pylist() for c in columns}
            records = [Record(i, {c: values[c][i] for c in columns}) for i in range(batch.num_rows)]
            rows = [None] * batch.num_rows

        failures: dict[int, tuple[str, str]] = {}  # record position -> (field, reason)
        slots: dict[int, list] = {}
        for i, r in enumerate(records):
            if r.value is None and r.problem is None:
                continue
            summary.rows += 1
            if r.problem:
                failures[i] = ("", r.problem)
                continue
            try:
                found, missing = [], 0
                for p in self.paths:
                    locations, m = locate(r.value, p)
                    found += locations
                    missing += m
                    if locations and p.text not in summary.matched:
                        summary.matched.append(p.text)
            except FieldProblem as e:
                failures[i] = ("", str(e))
                continue
            summary.rows_missing += bool(missing)
            slots[i] = [(loc, plan_field(loc.value, self.to, self.src)) for loc in found]
        order = pool.keys_of(plan for row in slots.values() for _, plan in row)
        summary.segments += sum(len(plan.segments) for row in slots.values() for _, plan in row)
        summary.unique += len(order)
        done = pool.look_up(self.cache, self.key, order, self.to)
        summary.cache_hits += len(done)
        remaining = [k for k in order if k not in done]
        bad: dict = {}
        if remaining:
            _translate(remaining, self.to, self._load, self.state, self.key, self.cache, summary, Progress(), done,
                       bad)
        for i, row in slots.items():
            r = records[i]
            reasons = [(loc.where, bad[(s.src, s.text)]) for loc, plan in row for s in plan.segments
                       if (s.src, s.text) in bad]
            if reasons:
                failures[i] = (reasons[0][0], f"translation {reasons[0][1]}")
                continue
            texts = [plan.render(done) for _, plan in row]
            r.changed = self.keep_source and bool(row) or any(t != loc.value for (loc, _), t in zip(row, texts))
            if r.changed:
                for (loc, _), text in zip(row, texts):
                    put(loc, text, self.keep_source, self.to)
                summary.rows_changed += 1

        failed = []
        for i, r in enumerate(records):
            if i in failures:
                entry = {"row": rows[i]} if rows[i] is not None else {}
                if self.kind == "jsonl":
                    entry["line"] = r.index + 1
                if failures[i][0]:
                    entry["field"] = failures[i][0]
                entry["reason"] = failures[i][1]
                failed.append(json.dumps(entry, ensure_ascii=False))
            else:
                failed.append("")
        stats = [json.dumps({"rows": summary.rows, "rows_changed": summary.rows_changed,
                             "rows_missing": summary.rows_missing, "segments": summary.segments,
                             "unique": summary.unique, "cache_hits": summary.cache_hits,
                             "model_segments": summary.model_segments, "capped": summary.capped,
                             "matched": summary.matched})]
        stats += [""] * (len(records) - 1)

        if self.kind == "jsonl":
            from .formats.jsonl import dump_line

            out = []
            for i, r in enumerate(records):
                if r.changed and i not in failures:
                    bom = r.raw.startswith(b"\xef\xbb\xbf") and r.index == 0
                    out.append((b"\xef\xbb\xbf" if bom else b"") + dump_line(r.value, r.raw[3:] if bom else r.raw))
                else:
                    out.append(r.raw)
            table = pa.table({"line": pa.array(out, pa.binary())})
        else:
            schema, changed = _output_schema(pa, batch.schema, self.keep_source, self.paths, self.to)
            arrays = []
            for f in schema:
                if f.name in changed:
                    arrays.append(column_array(pa, batch, f, records))
                else:
                    arrays.append(batch.column(f.name))
            table = pa.Table.from_arrays(arrays, schema=schema)
        return table.append_column("_failed", pa.array(failed, pa.string())).append_column(
            "_stats", pa.array(stats, pa.string()))


def _jsonl_datasource(path: str, block_rows: int):
    from ray.data.datasource import FileBasedDatasource

    class JsonLinesSource(FileBasedDatasource):
        """Lines as they are (bytes, line ending kept), with line numbers and data-row numbers, in blocks."""

        def _read_stream(self, f, path):
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
    NAME.<to>.EXT/ beside the input; its old parts are replaced); rows that fail are listed in
    FOLDER.failed.jsonl beside the folder. Ray must be initialised (or RAY_ADDRESS set)."""
    ray = _ray()
    from ray.data import ActorPoolStrategy, DataContext

    path = Path(path)
    kind = RAY_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UsageError(f"{path}: --ray reads .jsonl and .parquet files (translate .json, .csv and .tsv "
                         "without --ray)")
    if not path.is_file():
        raise InputError(path, "no such file")
    from .formats import ParquetFile
    from .paths import parse

    table = ParquetFile(path) if kind == "parquet" else None
    paths = [table.field_path(f) if table is not None else parse(f) for f in fields]
    if not paths:
        raise InputError(path, "no field named to translate")
    if keep_source and any(p.last_key is None for p in paths):
        raise UsageError("--keep-source needs field paths that end in a key, not an index")
    if table is not None:
        table.use_columns([p.column for p in paths])  # a missing column: a usage error now
    dest = Path(output) if output is not None else output_folder(path, to)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: --ray writes a folder of parts; this is a file")
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob(f"part-*.{kind}"):
        old.unlink()

    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(log_to_driver=False, include_dashboard=False)
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
        compute=ActorPoolStrategy(size=actors), num_gpus=gpus, num_cpus=num_cpus,
        fn_constructor_kwargs=dict(resolved=resolved, fields=paths, to=to, src=src, keep_source=keep_source,
                                   kind=kind, cache_path=str(cache_path) if cache_path else None,
                                   torch_threads=None if gpus else max(1, int(num_cpus))))
    sink = _datasink(str(dest.resolve()), kind)
    try:
        ds.write_datasink(sink)
    except Exception as e:  # noqa: BLE001 - a Ray task that failed: one line when it was the project's own error
        own = _own_error(e)
        if own is None:
            raise
        raise own from None

    summary = DatasetSummary(str(path), dest)
    failed = []
    for ret in sorted((r for r in sink.returns if r), key=lambda r: r["task"]):
        failed += ret["failed"]
        for s in ret["stats"]:
            for name, value in s.items():
                setattr(summary, name, getattr(summary, name) + value)
    summary.rows_failed = len(failed)
    summary.failures = [json.loads(f) for f in failed[:5]]
    failed_file = failed_path_for(dest)
    if failed:
        failed_file.write_text("".join(f + "\n" for f in failed), encoding="utf-8")
        summary.failed_path = failed_file
    elif failed_file.exists():
        failed_file.unlink()
    summary.seconds = time.perf_counter() - started
    return summary


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
