"""The one place that knows the Gugugo prompt template and its end marker."""

from .languages import LABELS

END_MARKER = "</끝>"


def build_prompt(text: str, src: str, tgt: str) -> str:
    """`### 영어: Hello.</끝>\\n### 한국어:` for en -> ko."""
    try:
        src_label, tgt_label = LABELS[src], LABELS[tgt]
    except KeyError as e:
        raise ValueError(f"unsupported language {e.args[0]!r}") from None
    return f"### {src_label}: {text}{END_MARKER}\n### {tgt_label}:"


def extract_translation(generated: str) -> tuple[str, bool]:
    """Cut the generated continuation at the first end marker.

    Returns (translation, finished): finished is False when no end marker was produced.
    """
    head, marker, _ = generated.partition(END_MARKER)
    return head.strip(), bool(marker)
