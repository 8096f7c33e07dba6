"""One evaluation: read the test set, translate it with every configuration, score, report."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Optional

from . import pipeline, report, scores, testset

log = logging.getLogger("gugugo_cli")


@contextlib.contextmanager
def _progress(enabled: bool, name: str, total: int):
    """A transient progress bar over segments on stderr (on a terminal); yields its advance function."""
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True), transient=True)
    task = bar.add_task(name, total=total)
    with bar:
        yield lambda n: bar.advance(task, n)


def _device() -> str:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return "cpu"


def evaluate(src_path: str, ref_path: Optional[str], src_field, ref_field, limit, src: str, tgt: str,
             configs: list, samples: int, bleu_tokenize: str, comet_path: Optional[Path], json_target,
             save_outputs: Optional[Path], language_check: bool, progress: bool, terminal: bool) -> int:
    test = testset.load(src_path, ref_path, src_field, ref_field, limit)
    if language_check:
        testset.check_languages(test, src, tgt)
    tokenize = scores.bleu_tokenizer(tgt, bleu_tokenize)
    if tokenize == "ko-mecab" and not scores.korean_mecab_available():
        from ..errors import UsageError

        raise UsageError("--bleu-tokenize ko-mecab needs mecab-ko (pip install 'sacrebleu[ko]')")
    plan = pipeline.plan(test.sources, tgt, src)
    runs, saved = [], []
    for i, (name, options) in enumerate(configs, 1):
        with _progress(progress, name, len(plan.keys)) as advance:
            run = pipeline.translate(options, plan, tgt, advance)
        runs.append(run)
        saved.append(report.save_outputs(save_outputs, i, name, tgt, run.hypotheses) if save_outputs else None)
    hypotheses = [run.hypotheses for run in runs]
    metrics = scores.sacrebleu_metrics(tokenize)
    extra = None
    if comet_path is not None:
        from .comet import segment_scores

        extra = [("COMET", segment_scores(comet_path, test.sources, test.references, hypotheses,
                                          _device() != "cpu"))]
    estimates = scores.score_all(metrics, hypotheses, test.references, samples, extra)
    configurations = [report.config_json(name, options, run, found, path)
                      for (name, options), run, found, path in zip(configs, runs, estimates, saved)]
    doc = report.document(test, src, tgt, tokenize, samples, {m.name: m.signature() for m in metrics},
                          configurations, _device())
    if json_target != "-":
        report.print_table(doc, terminal)
    if json_target is not None:
        report.write_json(doc, json_target)
    return 0
