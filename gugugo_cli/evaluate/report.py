"""What gugugo-eval shows and writes: one table (rich on a terminal, plain text otherwise), the same as one
JSON object, and each configuration's hypotheses."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from ..textio import atomic_write_bytes
from .scores import CONFIDENCE, SEED


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def _scores(estimates: dict) -> dict:
    return {name: {"score": round(e.score, 4), "ci95": [round(e.low, 4), round(e.high, 4)],
                   "p_value": None if e.p_value is None else round(e.p_value, 4)} for name, e in estimates.items()}


def config_json(name: str, options: dict, run, estimates: dict, saved) -> dict:
    seconds = max(run.seconds, 1e-9)
    per_second = {"sentences_per_second": round(len(run.hypotheses) / seconds, 3),
                  "output_tokens_per_second": None if run.output_tokens is None
                  else round(run.output_tokens / seconds, 3),
                  "output_chars_per_second": round(run.output_chars / seconds, 3)}
    return {"name": name, "options": options, "scores": _scores(estimates), **per_second,
            "segments": run.segments, "output_tokens": run.output_tokens, "output_chars": run.output_chars,
            "seconds": round(run.seconds, 3), "load_seconds": round(run.load_seconds, 3),
            "peak_rss_mib": round(run.peak_rss_mib, 1),
            "peak_cuda_mib": None if run.peak_cuda_mib is None else round(run.peak_cuda_mib, 1),
            "guards": run.guards, "outputs": None if saved is None else str(saved)}


def document(test, src: str, tgt: str, tokenize: str, samples: int, signatures: dict, configs: list,
             device: str) -> dict:
    return {"test_set": {"source": test.src_name, "reference": test.ref_name, "sentences": len(test.sources),
                         "from": src, "to": tgt},
            "bleu_tokenizer": tokenize, "bootstrap_resamples": samples, "confidence": CONFIDENCE, "seed": SEED,
            "signatures": signatures, "cpu": cpu_name(), "device": device, "configurations": configs}


def _interval(score: dict) -> str:
    low, high = score["ci95"]
    return f"{score['score']:.1f} [{low:.1f}, {high:.1f}]"


def _p(config: dict, first: bool) -> str:
    if first:
        return "-"
    return " / ".join("-" if s["p_value"] is None else f"{s['p_value']:.3f}" for s in config["scores"].values())


def _speed(config: dict) -> str:
    if config["output_tokens_per_second"] is not None:
        return f"{config['output_tokens_per_second']:.1f}"
    return f"{config['output_chars_per_second']:.1f} chars"


def _memory(config: dict) -> str:
    text = f"{config['peak_rss_mib']:.0f}"
    return text + (f" / {config['peak_cuda_mib']:.0f} GPU" if config["peak_cuda_mib"] is not None else "")


def rows(doc: dict) -> tuple[list[str], list[list[str]]]:
    configs = doc["configurations"]
    metrics = list(configs[0]["scores"])
    header = ["config"] + metrics + (["p vs first"] if len(configs) > 1 else [])
    header += ["sent/s", "out tok/s", "peak MiB", "guards"]
    body = []
    for i, c in enumerate(configs):
        g = c["guards"]
        row = [c["name"]] + [_interval(c["scores"][m]) for m in metrics]
        row += [_p(c, i == 0)] if len(configs) > 1 else []
        row += [f"{c['sentences_per_second']:.2f}", _speed(c), _memory(c),
                f"{g['loops']}/{g['length']}/{g['wrong_language']}/{g['capped']}"]
        body.append(row)
    return header, body


def caption(doc: dict) -> str:
    t = doc["test_set"]
    metrics = " / ".join(doc["configurations"][0]["scores"])
    return (f"{t['sentences']} sentences, {t['source']} -> {t['reference']} (--to {t['to']}). Scores: "
            f"score [95% CI] from {doc['bootstrap_resamples']} bootstrap resamples (seed {doc['seed']}); p: paired "
            f"bootstrap, {metrics}. BLEU tokenizer: {doc['bleu_tokenizer']}. out tok/s: output tokens by the "
            f"model's tokenizer. peak MiB: the process's resident peak so far. guards: "
            f"loops/length/wrong language/capped. {doc['device']}, {doc['cpu']}")


def print_table(doc: dict, terminal: bool) -> None:
    header, body = rows(doc)
    if terminal:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="gugugo-eval", caption=caption(doc))
        for name in header:
            table.add_column(name, overflow="fold")
        for row in body:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    for row in [header] + body:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    sys.stdout.write(caption(doc) + "\n")


def write_json(doc: dict, target: str) -> None:
    data = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if target == "-":
        sys.stdout.write(data)
    else:
        atomic_write_bytes(target, data.encode("utf-8"))


def save_outputs(folder: Path, index: int, name: str, tgt: str, hypotheses: list[str]) -> Path:
    """DIR/<n>-<configuration>.<to>: one hypothesis a line, in the test set's order."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:80] or "run"
    path = folder / f"{index}-{slug}.{tgt}"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, "".join(h.replace("\n", " ") + "\n" for h in hypotheses).encode("utf-8"))
    return path
