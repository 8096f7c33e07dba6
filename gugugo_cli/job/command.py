"""The documents command: find the inputs, read and segment them, translate them as one cached pooled stream
(job.run) and write each output; its report, warnings and summary. The datasets command is datasets/command.py."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger("gugugo_cli")


def run(inputs, src, output, overwrite, include, exclude, request, options, cache_path, no_cache,
         dry_run, interactive, limits=None, report_path=None, workers=None) -> int:
    from .. import console, job
    from ..translators import load_resolved

    tgt = options.tgt
    summary = job.Summary()
    reported = 0

    def report_failures():
        nonlocal reported
        for path, problem in summary.failed[reported:]:
            log.error("%s: %s", path, problem)
        reported = len(summary.failed)

    tasks = job.find_inputs(inputs, tgt, output, overwrite, include, exclude, summary, report=report_path)
    nothing = not tasks and not summary.failed and not any("exists" in why for _, why in summary.skipped)
    _log_skipped(summary.skipped, name_datasets=not nothing)  # with nothing to translate, the error names them
    if nothing:
        return _nothing_to_translate(inputs, summary)
    _warn_unused_options(tasks, options)
    cache = job.SegmentCache(None if no_cache else (cache_path or job.default_cache_path()))
    resolved = []

    def translator_key():  # what the model would be, for the cache key (--dry-run asks torch nothing)
        if not resolved:
            resolved.append(request.resolve(probe_torch=not dry_run))
        return resolved[0].cache_key

    def get_translator():
        console.quiet_transformers()
        translator_key()
        return load_resolved(resolved[0])

    stdin = sys.stdin.buffer if "-" in inputs else None
    texts = []  # --dry-run --glossary: every segment's text, to count the terms in
    counting = request.wrap.glossary is not None and dry_run
    progress = console.RichProgress() if interactive and not dry_run else None
    failed_before = len(summary.failed)
    try:
        job.run_files(tasks, tgt, get_translator, translator_key, cache, summary, progress, _write,
                      options=options, src=src, workers=workers or job.default_workers(), stdin=stdin,
                      limits=limits, dry_run=dry_run,
                      on_keys=(lambda keys: texts.extend(t for _, t in keys)) if counting else None)
    finally:
        cache.close()
        report_failures()
    if dry_run:
        console.report_dry_run(summary, len(tasks) - (len(summary.failed) - failed_before)
                               - len(summary.nothing_to_translate))
        if counting:
            from ..protect import count_terms

            console.report_glossary(count_terms(request.wrap.glossary, texts, request.wrap.protect))
        return 1 if summary.failed else 0
    console.report_capped(summary.capped, summary.capped_examples)
    report_written = _report_suspects(summary.suspects, report_path)
    if interactive:
        console.print_summary(summary)
    return 1 if summary.failed or not report_written else 0


def _report_suspects(suspects: list[dict], report_path) -> bool:
    """One warning line for what the guards found, and every suspect segment in --report (written anyway).
    False when the report could not be written."""
    from ..console import write_report

    written = report_path is None or write_report(report_path, suspects)
    if suspects:
        repaired = sum(s["repaired"] for s in suspects)
        where = (f"; listed in {report_path}" if written else "; the report could not be written") \
            if report_path is not None else " (--report FILE lists them)"
        log.warning("%d segment%s looked wrong: %d repaired, %d kept as the best attempt%s", len(suspects),
                    "" if len(suspects) == 1 else "s", repaired, len(suspects) - repaired, where)
    return written


def _warn_unused_options(tasks, options) -> None:
    """One warning per format option given for files it does nothing for (--bilingual on a .txt, say)."""
    from ..formats import OPTION_FORMATS

    given = {"--bilingual": options.bilingual, "--line-width": options.line_width is not None}
    for option, (suffixes, applies_to) in OPTION_FORMATS.items():
        if not given[option]:
            continue
        left = [task.source for task in tasks if _suffix(task.source) not in suffixes]
        if left:
            kinds = sorted({_suffix(name) for name in left})
            log.warning("%s does nothing for %s (%d file%s): it applies to %s", option, ", ".join(kinds), len(left),
                        "" if len(left) == 1 else "s", applies_to)


def _suffix(source: str) -> str:
    return ".txt (stdin)" if source == "-" else Path(source).suffix.lower()


def _log_skipped(skipped, name_datasets: bool = True) -> None:
    """A line per file left out (a warning for an existing output, else shown on a terminal), and one warning
    naming the datasets a folder run left out."""
    from .inputs import DATASET_SKIPPED

    datasets = [path for path, why in skipped if why == DATASET_SKIPPED] if name_datasets else []
    for path, why in skipped:
        if why != DATASET_SKIPPED:
            (log.warning if "exists" in why else log.info)("skipped %s: %s", path, why)
    if len(datasets) == 1:
        log.warning("skipped %s: %s", datasets[0], DATASET_SKIPPED)
    elif datasets:
        more = f" and {len(datasets) - 3} more" if len(datasets) > 3 else ""
        log.warning("skipped %d datasets (%s%s): run each with --field", len(datasets), ", ".join(datasets[:3]), more)


def _nothing_to_translate(inputs, summary) -> int:
    """A folder run that found no file it can translate says so (exit 1), in a pipe too."""
    from ..formats import FORMATS
    from .inputs import DATASET_SKIPPED

    unsupported = [p for p, why in summary.skipped if why == "unsupported file type"]
    datasets = sum(why == DATASET_SKIPPED for _, why in summary.skipped)
    kinds = sorted({Path(p).suffix or "(no extension)" for p in unsupported})
    found = [f"{len(unsupported)} file{'' if len(unsupported) == 1 else 's'} of unsupported type "
             f"({', '.join(kinds[:5])}{', ...' if len(kinds) > 5 else ''})"] if unsupported else []
    if datasets:
        found.append(f"{datasets} dataset{'' if datasets == 1 else 's'} (run {'it' if datasets == 1 else 'each'} "
                     "with --field)")
    log.error("nothing to translate in %s: %s; supported: %s", ", ".join(inputs), ", ".join(found) or "no files",
              ", ".join(sorted(FORMATS)))
    return 1


def _write(task, data: bytes) -> None:
    from .run import write_file

    if task.dest is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_file(task, data)
