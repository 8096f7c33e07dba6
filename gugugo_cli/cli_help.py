"""`gugugo-translate --help` in sections, and `--list-formats`. Imports nothing heavy."""

from __future__ import annotations

import click

# --help shows the options in these sections, in this order (by parameter name); an option in none of them is
# shown under "Other options", so a new option is never hidden.
HELP_SECTIONS: dict[str, list[str]] = {
    "Input and output": ["tgt", "src", "output", "overwrite", "include", "exclude", "encoding", "max_input_size"],
    "Formats": ["list_formats", "bilingual", "line_width", "splitter"],
    "Model and engine": ["model", "device", "dtype", "quantize", "engine", "engine_option_texts", "batch_size",
                         "batch_tokens", "num_beams", "max_new_tokens"],
    "Datasets": ["fields", "keep_source", "quoting", "use_ray", "ray_actors"],
    "Quality and guards": ["guard", "report_path", "glossary_path", "no_protect"],
    "Segment cache": ["cache_path", "no_cache", "cache_clear"],
    "Run": ["workers", "dry_run", "quiet", "debug", "version"],
}
HELP = "-h/--help"  # the help option's place in the sections


class SectionedCommand(click.Command):
    """A click command whose --help lists its options by HELP_SECTIONS."""

    def format_options(self, ctx, formatter) -> None:
        help_option = self.get_help_option(ctx)
        records = {param.name: param.get_help_record(ctx) for param in self.get_params(ctx)
                   if isinstance(param, click.Option) and param is not help_option}
        records = {name: record for name, record in records.items() if record is not None}
        if help_option is not None:
            records[HELP] = help_option.get_help_record(ctx)
        placed = set()
        for title, names in HELP_SECTIONS.items():
            names = names + [HELP] if title == "Run" else names  # --help last
            rows = [records[name] for name in names if name in records]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [record for name, record in records.items() if name not in placed]
        if rest:
            with formatter.section("Other options"):
                formatter.write_dl(rest)


def formats_listing() -> str:
    """Every extension the command reads, grouped by format: documents, then datasets."""
    from .datasets import DATASET_NAMES
    from .datasets.ray_run import RAY_SUFFIXES
    from .formats import FORMAT_NAMES, FORMATS

    by_format: dict[str, list[str]] = {}
    for suffix, (_, name) in FORMATS.items():
        by_format.setdefault(FORMAT_NAMES.get(name, name), []).append(suffix)
    lines = ["Documents and subtitles (a file, a folder of them, or stdin as plain text):"]
    lines += [f"  {' '.join(suffixes):<22}{name}" for name, suffixes in by_format.items()]
    by_dataset: dict[str, list[str]] = {}
    for suffix, name in DATASET_NAMES.items():
        by_dataset.setdefault(name, []).append(suffix)
    lines.append("Datasets (named as inputs, with --field for what to translate in every row):")
    lines += [f"  {' '.join(suffixes):<22}{name}" for name, suffixes in by_dataset.items()]
    lines.append(f"  --ray reads {', '.join(RAY_SUFFIXES)}")
    return "\n".join(lines)


def list_formats(ctx, param, value) -> None:
    """--list-formats: print the formats and exit."""
    if not value or ctx.resilient_parsing:
        return
    click.echo(formats_listing())
    ctx.exit(0)
