"""The static-slot engine (the CUDA engine's logic, run eagerly on the CPU): exact, and independent of which
rows share the slots, however often slots are reused and rows moved."""

import pytest

from conftest import read_lines
from gugugo_cli import load_translator
from test_engine import VARIED

EN = read_lines("echo_sentences.en")
KO = read_lines("echo_sentences.ko")


def slots(model, **options):
    return load_translator(str(model), device="cpu", dtype="float32", engine="slots", **options)


@pytest.mark.parametrize("sync_every", [1, 8])
def test_echo_exact_with_more_prompts_than_slots(sync_every):
    from conftest import ECHO_MODEL

    tr = slots(ECHO_MODEL, batch_size=3, sync_every=sync_every)
    texts = EN + [EN[4], EN[0]]  # duplicates too
    assert tr.translate_batch(texts, "en", "ko") == texts
    assert tr.translate_batch(KO, "ko", "en") == KO
    assert tr.stats.prefills >= len(set(texts)) // 3  # slots were freed and filled again many times
    assert tr.stats.capped == 0


def test_rows_are_moved_left_when_the_columns_run_out_and_stay_exact():
    from conftest import ECHO_MODEL

    tr = slots(ECHO_MODEL, batch_size=1)  # one slot: every row runs after the other, column after column
    assert tr.translate_batch(EN, "en", "ko") == EN
    assert tr.stats.shifts > 0


def test_same_results_as_continuous_batching_and_alone_on_a_random_model(tiny_model_dir):
    continuous = load_translator(str(tiny_model_dir), device="cpu", dtype="float32", max_new_tokens=12,
                                 engine="continuous")
    ours = slots(tiny_model_dir, max_new_tokens=12, batch_size=4)
    together = ours.translate_batch(VARIED, "en", "ko")
    assert together == continuous.translate_batch(VARIED, "en", "ko")
    assert together == [ours.translate_batch([s], "en", "ko")[0] for s in VARIED]
    eight = slots(tiny_model_dir, max_new_tokens=12, batch_size=5, sync_every=8)
    assert eight.translate_batch(VARIED, "en", "ko") == together


def test_out_of_memory_halves_the_slots(tiny_model_dir):
    import torch

    tr = slots(tiny_model_dir, max_new_tokens=6, batch_size=8)
    expected = tr.translate_batch(VARIED[:9], "en", "ko")
    seen = []

    def at_most_two(module, args, kwargs):
        rows = kwargs["input_ids"].shape[0]
        seen.append(rows)
        if rows > 2:
            raise torch.OutOfMemoryError("CUDA out of memory")

    hook = tr.unwrapped.model.register_forward_pre_hook(at_most_two, with_kwargs=True)
    try:
        assert tr.translate_batch(VARIED[:9], "en", "ko") == expected
    finally:
        hook.remove()
    assert max(seen) > 2 and seen[-1] <= 2


def test_auto_picks_the_continuous_engine_on_cuda_and_cpu():
    from conftest import ECHO_MODEL
    from gugugo_cli.engines.loading import resolve

    assert resolve(str(ECHO_MODEL), "cpu").decode.engine == "continuous"
    assert resolve(str(ECHO_MODEL), "cuda", probe_torch=False).decode.engine == "continuous"
    assert resolve(str(ECHO_MODEL), "cuda", probe_torch=False, engine="slots").decode.engine == "slots"
    assert resolve(str(ECHO_MODEL), "cpu").cache_key != resolve(str(ECHO_MODEL), "cpu", engine="slots").cache_key


def test_cli_engine_option_runs_the_slot_engine(tmp_path):
    from click.testing import CliRunner

    from conftest import ECHO_MODEL
    from gugugo_cli.cli import cli

    path = tmp_path / "notes.txt"
    text = f"{EN[0]} {EN[1]}\n\n{EN[2]}\n"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO_MODEL), "--engine", "slots",
                                      "--dtype", "float32", "--no-cache"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "notes.ko.txt").read_text(encoding="utf-8") == text
    bad = CliRunner().invoke(cli, [str(path), "--to", "ko", "--engine", "warp"])
    assert bad.exit_code == 2


def test_the_slot_engine_does_not_import_the_continuous_one():
    import ast
    from pathlib import Path

    import gugugo_cli.engines.slots as slots

    tree = ast.parse(Path(slots.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name and "continuous" in name}, imported


def test_one_table_of_engines_gives_the_command_line_choices_and_what_loads():
    from conftest import ECHO_MODEL
    from gugugo_cli.cli import cli
    from gugugo_cli.engines.loading import ENGINE_CHOICES, ENGINES, resolve

    choices = next(p for p in cli.params if p.name == "engine").type.choices
    assert tuple(choices) == ENGINE_CHOICES == ("auto", "hf", *ENGINES)
    for name in ENGINES:
        assert resolve(str(ECHO_MODEL), "cpu", probe_torch=False, engine=name).decode.engine == name
