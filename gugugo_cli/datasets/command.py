"""The command line's dataset branch: `gugugo-translate data.jsonl --to ko --field instruction ...`.

Datasets are translated only when named as input files with --field; without --field the string fields
of the first rows are listed and nothing is translated. Folder runs leave dataset files out.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..errors import FieldError, InputError, UsageError
from . import is_dataset

log = logging.getLogger("gugugo_cli")


def run(inputs, fields, keep_source, src, tgt, output, overwrite, request, cache_path, no_cache, dry_run,
        interactive, report_path=None, quoting="auto", workers=None) -> int:
    if "-" in inputs or any(Path(i).is_dir() or not is_dataset(i) for i in inputs):
        raise UsageError("--field applies to dataset files named as inputs (.jsonl, .json, .csv, .tsv, .parquet), "
                         "not to stdin, folders or documents")
    for name in inputs:
        if not Path(name).is_file():
            raise UsageError(f"{name}: no such file")
    if not fields:
        return _list(inputs, quoting)

    from ..console import RichDatasetProgress
    from ..job.cache import SegmentCache, default_cache_path
    from ..job.host import default_workers
    from .run import translate_dataset

    jobs = _destinations(inputs, tgt, output, overwrite or dry_run, report_path)
    summaries = []
    cache = SegmentCache(None if no_cache else (cache_path or default_cache_path()))
    resolved = None
    failed_files = 0
    try:
        from ..translators import load_resolved

        resolved = request.resolve(probe_torch=not dry_run)
        loaded = []

        def get_translator():
            if not loaded:
                from ..console import quiet_transformers

                quiet_transformers()
                loaded.append(load_resolved(resolved))
            return loaded[0]

        def one(path, dest):
            progress = RichDatasetProgress() if interactive and not dry_run else None
            return translate_dataset(path, fields, tgt, get_translator, src=src, output=dest, keep_source=keep_source,
                                     cache=cache, translator_key=lambda: resolved.cache_key, progress=progress,
                                     dry_run=dry_run, quoting=quoting, workers=workers or default_workers())

        failed_files = _translate_each(jobs, one, fields, summaries, dry_run, interactive)
    finally:
        cache.close()
    reported = dry_run or write_report(report_path, summaries)
    return 1 if failed_files or not reported else 0


def _destinations(inputs, tgt, output, overwrite, report_path, parts=False) -> list[tuple[Path, Path]]:
    """(input, output) of each dataset, named as documents are (job.inputs.find_inputs), the list of failed rows
    beside each output included; existing outputs are skipped with a warning. A symlink output is written
    through; a device or pipe is refused (a dataset is written to a temp file and renamed into place)."""
    from ..job.inputs import Summary, find_inputs
    from ..textio import is_stream
    from ..textio import write_target
    from .run import failed_path_for

    found = Summary()
    tasks = find_inputs(inputs, tgt, output, overwrite, summary=found, report=report_path,
                        beside_output=failed_path_for, parts=parts)
    for path, problem in found.failed:
        raise UsageError(f"{path}: {problem}")
    for path, why in found.skipped:
        log.warning("skipped %s: %s", path, why)
    jobs = []
    for task in tasks:
        dest = task.dest
        if not parts and (dest.is_symlink() or is_stream(dest)):
            try:
                dest, special = write_target(dest)
            except OSError as e:
                raise UsageError(f"-o {task.dest}: {e.strerror}") from None
            if special:
                raise UsageError(f"-o {task.dest}: a dataset is written to a temp file and renamed into place; "
                                 f"name a file or a folder, not a device or a pipe")
        jobs.append((Path(task.source), dest))
    return jobs


def write_report(report_path, summaries) -> bool:
    """--report for datasets: every failed row of every file, as JSON Lines: file, row (line), field, reason.
    False when it could not be written."""
    if report_path is None:
        return True
    import json

    from ..console import write_report as write

    def rows():
        for summary in summaries:
            if summary.failed_path is not None:
                with open(summary.failed_path, encoding="utf-8") as f:
                    yield from ({"file": summary.source, **json.loads(line)} for line in f if line.strip())

    return write(report_path, rows())


def run_ray(inputs, fields, keep_source, src, tgt, output, overwrite, request, cache_path, no_cache, dry_run,
            actors, report_path=None) -> int:
    """--ray: each dataset translated on a Ray cluster ($RAY_ADDRESS, else a local one) into a folder of parts
    (datasets/ray_run.py). --dry-run reads and segments here, as without --ray."""
    from .ray_resume import in_output_folder
    from .ray_run import NOT_SPLITTABLE, RAY_SUFFIXES, _ray, start

    for name in inputs:
        if is_dataset(name) and Path(name).suffix.lower() not in RAY_SUFFIXES:
            raise UsageError(f"{name}: {NOT_SPLITTABLE}")
    if "-" in inputs or any(Path(i).is_dir() or Path(i).suffix.lower() not in RAY_SUFFIXES for i in inputs):
        raise UsageError("--ray translates dataset files named as inputs: .jsonl, .ndjson or .parquet")
    for name in inputs:
        if not Path(name).is_file():
            raise UsageError(f"{name}: no such file")
    if not fields or dry_run:
        return run(inputs, fields, keep_source, src, tgt, output, overwrite, request, cache_path, no_cache,
                   dry_run, False, report_path)
    ray = _ray()
    jobs = _destinations(inputs, tgt, output, overwrite, report_path, parts=True)
    for path, dest in jobs:
        if in_output_folder(path, dest):
            raise UsageError(f"{path}: refusing to write the parts into the folder holding the input ({dest}); "
                             "choose another -o")
    if not jobs:
        return 0 if write_report(report_path, []) else 1

    from ..job.cache import default_cache_path
    from .ray_run import translate_dataset_ray

    resolved = request.resolve()
    started_here = start(ray)
    failed_files = 0
    summaries = []
    try:
        resources = ray.cluster_resources()
        gpu = resolved.device_kind == "cuda"
        cpus = float(resources.get("CPU", 1))
        if actors is None:
            actors = max(1, int(resources.get("GPU", 1))) if gpu else max(1, min(8, int(cpus // 4)))
        per_actor = 1.0 if gpu else max(0.5, int(2 * (cpus - 1) / actors) / 2)  # one CPU left for reading
        log.info("Ray: %s, %d %s actor%s", ray.get_runtime_context().gcs_address, actors, "GPU" if gpu else "CPU",
                 "" if actors == 1 else "s")
        cache = None if no_cache else (cache_path or default_cache_path())
        failed_files = _translate_each(
            jobs, lambda path, dest: translate_dataset_ray(path, fields, tgt, resolved, src=src, output=dest,
                                                           keep_source=keep_source, cache_path=cache,
                                                           actors=actors, num_cpus=per_actor),
            fields, summaries)
    finally:
        if started_here:
            ray.shutdown()
    reported = write_report(report_path, summaries)
    return 1 if failed_files or not reported else 0


def _translate_each(jobs, translate_one, fields, summaries: list, dry_run=False, interactive=False) -> int:
    """translate_one(input, output) for each job, its summary reported and kept in summaries; a file that
    cannot be read fails alone. The number of files that failed, had rows that failed, or named a field no
    row has."""
    failed = 0
    for path, dest in jobs:
        try:
            summary = translate_one(path, dest)
        except InputError as e:
            log.error(str(e))
            failed += 1
            continue
        except FieldError as e:
            raise UsageError(str(e)) from None
        failed += not _report(summary, dry_run, interactive, fields) or summary.rows_failed > 0
        summaries.append(summary)
    return failed


def _list(inputs, quoting="auto") -> int:
    from .run import list_fields

    for name in inputs:
        found = list_fields(name, quoting=quoting)
        click.echo(f"{name}: string fields in the first rows (rows having it, an example):")
        for path, (count, example) in found.items():
            example = example.replace("\n", " ")
            click.echo(f"  {path}  ({count})  {example[:60]!r}")
        if not found:
            click.echo("  (none)")
    log.error("name the fields to translate with --field (e.g. --field %s)", next(iter(found), "FIELD")
              if inputs else "FIELD")
    return 2


def _report(summary, dry_run: bool, interactive: bool, fields=()) -> bool:
    """Log what a file's run did; False when a --field named no string in any row (a misspelt name, say)."""
    _log_summary(summary, dry_run)
    unmatched = [f for f in fields if f not in summary.matched] if summary.rows else []
    for name in unmatched:
        log.warning("%s: --field %s names no text in any row (check the name; fields in the first rows are "
                    "listed without --field)", summary.source, name)
    return not unmatched


def _log_summary(summary, dry_run: bool) -> None:
    if dry_run:
        for note in summary.notes:
            click.echo(f"{summary.source}: {note}")
        click.echo(f"{summary.source}: rows: {summary.rows}, failed: {summary.rows_failed}, "
                   f"segments: {summary.segments} ({summary.unique} distinct in windows), "
                   f"cache hits: {summary.cache_hits}, segments for the model: {summary.unique - summary.cache_hits}, "
                   f"estimated source tokens: {summary.est_tokens}")
        return
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    log.info("wrote %s: %d rows (%d changed, %d failed), %d segments (%d from the cache, %d by the model), "
             "%.1f s, %.1f rows/s", summary.dest, summary.rows, summary.rows_changed, summary.rows_failed,
             summary.segments, summary.cache_hits, summary.model_segments, summary.seconds, rate)
    if summary.rows_missing:
        log.info("%s: %d rows had a named field missing or null (left as it was)", summary.source,
                 summary.rows_missing)
    if summary.rows_failed:
        log.warning("%s: %d row%s failed and %s kept as %s (listed in %s)", summary.source, summary.rows_failed,
                    "" if summary.rows_failed == 1 else "s", "was" if summary.rows_failed == 1 else "were",
                    "it was" if summary.rows_failed == 1 else "they were", summary.failed_path)
    from ..console import report_capped

    report_capped(summary.capped, summary.capped_examples)
