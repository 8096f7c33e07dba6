"""Telling Korean from English in mixed text: a sentence written in Korean grammar is Korean whatever English terms
it holds, and English that quotes a Korean word is English (measured on tests/data/mixed-language.jsonl)."""

import json

import pytest

from conftest import DATA, MarkTranslator
from gugugo_cli import translate_dataset, translate_text
from gugugo_cli.languages import detect_language

ROWS = [json.loads(line) for line in (DATA / "mixed-language.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_measured_set_is_real_mixed_text_of_both_kinds():
    assert len(ROWS) >= 60
    assert {r["lang"] for r in ROWS} == {"ko", "en"} and sum(r["lang"] == "en" for r in ROWS) >= 15
    assert all(r["source"] for r in ROWS)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_mixed_unit_of_the_measured_set_is_told_right(lang):
    wrong = [r["text"] for r in ROWS if r["lang"] == lang and detect_language(r["text"]) != lang]
    assert wrong == []


def test_a_korean_sentence_with_english_terms_is_translated_into_english():
    text = "KcBERT-finetune Performance score를 본문에 추가하였습니다.\n\nHan Kang (Korean: 한강) is a South Korean writer.\n"
    marker = MarkTranslator()
    out = translate_text(text, "en", translator=marker)
    assert marker.calls == [(["KcBERT-finetune Performance score를 본문에 추가하였습니다."], "ko", "en")]
    assert out == "«KcBERT-finetune Performance score를 본문에 추가하였습니다.»\n\n" \
                  "Han Kang (Korean: 한강) is a South Korean writer.\n"


def test_an_english_sentence_quoting_korean_is_translated_into_korean():
    text = "Also, 계 is much more often pronounced 게.\n\nTokenizer는 Huggingface의 라이브러리를 사용했습니다.\n"
    marker = MarkTranslator()
    translate_text(text, "ko", translator=marker)
    assert marker.calls == [(["Also, 계 is much more often pronounced 게."], "en", "ko")]


def test_datasets_tell_the_languages_apart_by_the_same_rule(tmp_path):
    src = tmp_path / "rows.jsonl"
    rows = [{"text": "pad token의 index 수정"},
            {"text": "Mingyu Kim (김민규) wrote the tokenizer."}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    marker = MarkTranslator()
    summary = translate_dataset(src, ["text"], "en", marker)
    out = [json.loads(line)["text"] for line in summary.dest.read_text(encoding="utf-8").splitlines()]
    assert out == ["«pad token의 index 수정»", rows[1]["text"]]


def test_markdown_bullets_of_a_korean_readme_are_all_translated_into_english():
    from gugugo_cli.api import translate_documents
    from gugugo_cli.formats import FormatOptions, read_document

    text = ("** Updates on 2021.03.14 **\n\n- KcBERT Paper 인용 표기를 추가하였습니다.(bibtex)\n"
            "- KcBERT-finetune Performance score를 본문에 추가하였습니다.\n")
    doc = read_document("README.md", text.encode("utf-8"), FormatOptions(tgt="en"))
    marker = MarkTranslator()
    out = translate_documents([doc], "en", "auto", marker)[0].decode("utf-8")
    assert out == ("** Updates on 2021.03.14 **\n\n- «KcBERT Paper 인용 표기를 추가하였습니다.(bibtex)»\n"
                   "- «KcBERT-finetune Performance score를 본문에 추가하였습니다.»\n")
