"""The timed part of a benchmark way, shared by bench/throughput.py and the vLLM child (bench/vllm_way.py):
the jobs' texts through the project's pipeline (plan, dedupe, translate) on a translator. No torch here."""

from __future__ import annotations

import time

from gugugo_cli.formats.txt import TextDocument
from gugugo_cli.job import pool


def plan_documents(docs, tgt, src):
    return [pool.plan_document(doc, tgt, src) for doc in docs]


def time_way(name: str, translator, jobs, synchronize=None) -> dict:
    """jobs: list of (src, tgt, [sentences]). A result row: sentences, output tokens (the translator's
    generated_tokens), seconds, rates and the time to the first translation. synchronize() waits for the device."""
    sentences = sum(len(texts) for _, _, texts in jobs)
    start = time.perf_counter()
    first = None
    for src, tgt, texts in jobs:
        docs = [TextDocument.of_text(t) for t in texts]
        plans = [p for doc_plans in plan_documents(docs, tgt, src) for p in doc_plans]
        for _ in pool.translate_keys(translator, pool.keys_of(plans), tgt):
            first = first or time.perf_counter() - start
    if synchronize is not None:
        synchronize()
    seconds = time.perf_counter() - start
    tokens = translator.generated_tokens
    return dict(way=name, sentences=sentences, output_tokens=tokens, seconds=round(seconds, 2),
                sentences_per_s=round(sentences / seconds, 3), tokens_per_s=round(tokens / seconds, 2),
                first_output_s=round(first or 0, 2))
