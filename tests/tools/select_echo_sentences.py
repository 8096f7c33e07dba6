"""Pick sentences the echo model reproduces exactly with a clear margin (top-1 minus top-2 logit >= 3 at
every step), so batch shape or dtype cannot flip a token. Writes tests/data/echo_sentences.{en,ko}.

    python tests/tools/select_echo_sentences.py ../shared/data/korean-english-park.dev ../shared/data/jhe-koen-dev
"""

import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from gugugo_cli.prompt import build_prompt, extract_translation

HERE = Path(__file__).resolve().parent.parent
MODEL = HERE / "models" / "echo"
MARGIN = 3.0
PER_LANGUAGE = 24


def margin_ok(model, tok, text, src, tgt):
    ids = tok(build_prompt(text, src, tgt), return_tensors="pt")
    with torch.inference_mode():
        out = model.generate(**ids, max_new_tokens=96, do_sample=False, output_scores=True,
                             return_dict_in_generate=True, pad_token_id=tok.pad_token_id)
    gen = out.sequences[0, ids.input_ids.shape[1]:]
    result, finished = extract_translation(tok.decode(gen, skip_special_tokens=True))
    if not finished or result != text:
        return False
    for scores in out.scores:
        top = torch.topk(scores[0].float(), 2).values
        if top[0] - top[1] < MARGIN:
            return False
    return True


def main(prefixes):
    tok = AutoTokenizer.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    for src, tgt in (("en", "ko"), ("ko", "en")):
        picked = []
        for prefix in prefixes:
            for line in Path(f"{prefix}.{src}").read_text(encoding="utf-8").splitlines():
                line = line.strip()
                if 15 <= len(line) <= 90 and line not in picked and margin_ok(model, tok, line, src, tgt):
                    picked.append(line)
                if len(picked) >= PER_LANGUAGE:
                    break
            if len(picked) >= PER_LANGUAGE:
                break
        (HERE / "data" / f"echo_sentences.{src}").write_text("\n".join(picked) + "\n", encoding="utf-8")
        print(src, len(picked))


if __name__ == "__main__":
    main(sys.argv[1:])
