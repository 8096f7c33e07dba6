"""Rows/s and segments/s of one JSONL dataset translated in one process and on a local Ray cluster (--ray), with
the same model, no cache; checks that the two outputs are the same bytes.

    python bench/datasets_ray.py --rows 1000 --actors 2 --model tests/models/echo
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path


def make_rows(path: Path, n: int) -> None:
    rng = random.Random(1)
    words = "the sea is wide and blue a poem about light rain in the city quiet morning river stone old tree".split()

    def sentence(k):
        return " ".join(rng.choice(words) for _ in range(k)).capitalize() + "."

    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            row = {"id": i, "instruction": f"{sentence(8)} {sentence(6)}",
                   "output": f"{sentence(10)} {sentence(7)} {sentence(5)}"}
            f.write(json.dumps(row) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--model", default="tests/models/echo")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()

    import ray

    from gugugo_cli.translators import load_resolved
    from gugugo_cli.datasets.ray_run import parts, translate_dataset_ray
    from gugugo_cli.datasets.run import translate_dataset
    from gugugo_cli.engines.loading import resolve

    work = Path(tempfile.mkdtemp(prefix="gb"))
    src = work / "data.jsonl"
    make_rows(src, args.rows)
    fields = ["instruction", "output"]
    resolved = resolve(model=args.model, device=args.device)

    started = time.perf_counter()
    single = translate_dataset(src, fields, "ko", lambda: load_resolved(resolved), output=work / "single.jsonl",
                               keep_source=True, translator_key=resolved.cache_key)
    single_s = time.perf_counter() - started

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    started = time.perf_counter()
    ray.init(_temp_dir=str(work / "ray"), include_dashboard=False, log_to_driver=False, logging_level="WARNING",
             object_store_memory=256 * 2**20)
    init_s = time.perf_counter() - started
    cpus = ray.cluster_resources().get("CPU", 1)
    per_actor = max(0.5, int(2 * (cpus - 1) / args.actors) / 2)
    started = time.perf_counter()
    on_ray = translate_dataset_ray(src, fields, "ko", resolved, output=work / "out", keep_source=True,
                                   actors=args.actors, num_cpus=per_actor)
    ray_s = time.perf_counter() - started
    ray.shutdown()
    same = b"".join(p.read_bytes() for p in parts(work / "out")) == (work / "single.jsonl").read_bytes()

    for name, s, secs in (("single process", single, single_s), (f"Ray, {args.actors} actors", on_ray, ray_s)):
        print(f"{name}: {s.rows} rows, {s.segments} segments ({s.model_segments} by the model) in {secs:.1f} s: "
              f"{s.rows / secs:.1f} rows/s, {s.segments / secs:.1f} segments/s")
    print(f"ray.init: {init_s:.1f} s (not counted above); outputs identical: {same}")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
