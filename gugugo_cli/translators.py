"""The translator a resolved request describes: the engine, with protection, the glossary and the guards around
it. The commands, the Ray actors and the Python API all load translators here."""

from __future__ import annotations


def load_resolved(resolved):
    """The translator `resolved` describes (engines.loading.Resolved): the engine, protected spans and the
    glossary around it, and guards around that if asked for (the guards see real sources and outputs)."""
    from .engines.loading import load

    translator = load(resolved)
    if resolved.wrap.protect or resolved.wrap.glossary is not None:
        from .protect import ProtectingTranslator

        translator = ProtectingTranslator(translator, resolved.wrap.glossary, resolved.wrap.protect)
    if resolved.wrap.guard:
        from .guards import GuardedTranslator

        translator = GuardedTranslator(translator)
    return translator
