"""Optional COMET scores (unbabel-comet), only from a local checkpoint: nothing is ever downloaded."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ..errors import UsageError


def checkpoint(path: Path) -> Path:
    """The .ckpt file of a COMET model given as the file or as its folder (checkpoints/model.ckpt inside);
    a UsageError when unbabel-comet is not installed or the checkpoint is not there."""
    if importlib.util.find_spec("comet") is None:
        raise UsageError("--comet-model needs unbabel-comet (pip install unbabel-comet)")
    found = path / "checkpoints" / "model.ckpt" if path.is_dir() else path
    if not found.is_file():
        raise UsageError(f"{path}: no COMET checkpoint (a .ckpt file, or a folder with checkpoints/model.ckpt)")
    return found


def segment_scores(path: Path, sources: list[str], references: list[str], hypotheses: list[list[str]],
                   gpu: bool) -> list[list[float]]:
    """Each configuration's per-sentence COMET scores."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # the encoder's tokenizer must come from the local cache too
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from comet import load_from_checkpoint

    model = load_from_checkpoint(str(path))
    found = []
    for hyps in hypotheses:
        data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hyps, references)]
        found.append(list(model.predict(data, batch_size=16, gpus=1 if gpu else 0, progress_bar=False).scores))
    return found
