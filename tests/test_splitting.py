"""Sentence splitting: the splitter chosen and its fallback, long texts cut into chunks, offsets kept exact."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import DATA
from gugugo_cli import splitters, translate_text
from gugugo_cli.cli import cli
from gugugo_cli.segment import sentence_spans

CORPORA = [(name, lang) for name in ("jhe-koen-dev", "korean-english-park.dev") for lang in ("ko", "en")]


def _one_paragraph(name: str, lang: str, times: int = 1) -> str:
    lines = [l.strip() for l in (DATA / f"{name}.{lang}").read_text(encoding="utf-8").splitlines() if l.strip()]
    return " ".join(lines * times)


@pytest.fixture(params=["kiwi", "kss"])
def korean_splitter(request, monkeypatch):
    if request.param == "kiwi":
        pytest.importorskip("kiwipiepy")
    monkeypatch.setenv(splitters.SPLITTER_ENV_VAR, request.param)
    return request.param


@pytest.mark.parametrize("name, lang", CORPORA)
def test_a_chunked_split_gives_the_sentences_of_the_unchunked_split(name, lang, korean_splitter, monkeypatch):
    text = _one_paragraph(name, lang)  # 4-17 KB of real text as one paragraph: several chunks
    assert len(splitters.chunk_spans(text, lang)) > 1
    chunked = sentence_spans(text, lang)
    monkeypatch.setattr(splitters, "CHUNK_CHARS", len(text) + 1)
    assert sentence_spans(text, lang) == chunked


@pytest.mark.parametrize("name, lang", CORPORA)
def test_offsets_map_back_exactly(name, lang):
    lines = [l.strip() for l in (DATA / f"{name}.{lang}").read_text(encoding="utf-8").splitlines() if l.strip()]
    # odd spacing between sentences, and hard-wrapped into one unit with CRLF line breaks
    text = "  " + "   \t".join(lines[:60]) + " \r\n" + "  ".join(lines[60:]) + "  "
    spans = sentence_spans(text, lang)
    assert spans and all(a < b for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
    gaps = [text[b1:a2] for (_, b1), (a2, _) in zip([(0, 0)] + spans, spans + [(len(text), len(text))])]
    assert all(not g.strip() for g in gaps)  # nothing but whitespace is left out
    assert all(text[a:b] == text[a:b].strip() for a, b in spans)
    assert translate_text(text, to="en" if lang == "ko" else "ko", translator=_Identity()) == text


class _Identity:
    def translate_batch(self, texts, src, tgt):
        return list(texts)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_splitter_never_sees_more_than_one_chunk(lang, monkeypatch):
    text = _one_paragraph("korean-english-park.dev", lang, times=6)  # 50-100 KB in one paragraph
    seen = []
    split = splitters.split

    def recording(chunk, chunk_lang):
        seen.append(len(chunk))
        return split(chunk, chunk_lang)

    monkeypatch.setattr(splitters, "split", recording)
    spans = sentence_spans(text, lang)
    assert len(spans) > 600 and seen
    assert max(seen) <= splitters.CHUNK_CHARS
    assert sum(seen) < len(text) / 4  # most sentences end where no splitter is needed


def test_pysbd_with_its_patterns_compiled_once_splits_as_pysbd_does(monkeypatch):
    import re

    import pysbd

    lines = [l.strip() for l in (DATA / "korean-english-park.dev.en").read_text(encoding="utf-8").splitlines()]
    gold = (DATA / "splitting" / "gold.en.txt").read_text(encoding="utf-8").split("\n\n")
    paragraphs = [" ".join(lines[i:i + 5]) for i in range(0, len(lines), 5)] + [" ".join(g.split()) for g in gold]
    from pysbd.lang.english import English

    paragraphs += [f"It was {a}. Then {a.upper()}. in {a.title()}. (see {a}.) A {a} also. I met {a}. {a}. on 2."
                   for a in English.Abbreviation.ABBREVIATIONS]  # each abbreviation before a capital and not
    ours = [splitters.split(p, "en") for p in paragraphs]
    assert isinstance(sys.modules["pysbd.abbreviation_replacer"].re, splitters._CompiledOnce)
    for name in splitters._PYSBD_MODULES:
        monkeypatch.setattr(sys.modules[f"pysbd.{name}"], "re", re)
    plain = pysbd.Segmenter(language="en", clean=False, char_span=True)
    assert ours == [splitters._align(p, [s.sent for s in plain.segment(p)]) for p in paragraphs]


@pytest.mark.parametrize("text, reaches", [
    ("He met Mr. Smith and Sen. Barack Obama at the U.S. embassy at 5 p.m. on Monday.", False),
    ("(CNN) Sen. Barack Obama left.", True),       # pysbd cuts after "(CNN)"
    ('He lives in the U.S."', True),               # and before a closing quote
    ("He met Mr. Smith in the U.S. The end.", True),
])
def test_pysbd_runs_only_where_it_may_cut(text, reaches, monkeypatch):
    import pysbd

    plain = pysbd.Segmenter(language="en", clean=False, char_span=True)
    seen = []
    segmenter = splitters._english_segmenter()
    monkeypatch.setattr(segmenter, "segment", lambda chunk: seen.append(chunk) or plain.segment(chunk))
    assert splitters.split(text, "en") == splitters._align(text, [s.sent for s in plain.segment(text)])
    assert bool(seen) == reaches


def test_chunks_cover_the_text_also_without_spaces():
    text = "x" * 5000 + " 다음 문장입니다. " + "가" * 3000 + ". 끝."
    spans = splitters.chunk_spans(text, "ko")
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(b == a2 for (_, b), (a2, _) in zip(spans, spans[1:]))
    assert text[spans[0][0]:spans[0][1]] == "x" * 5000 + " "


@pytest.mark.parametrize("text, lang, chunks", [
    ("그는 “나는 간다. 너는 남아라.” 하고 말했다. 그리고 떠났다.", "ko",
     ["그는 “나는 간다. 너는 남아라.” 하고 말했다. ", "그리고 떠났다."]),
    ('그가 물었다. "정말 갔니? 언제?" 나는 몰랐다.', "ko", ['그가 물었다. ', '"정말 갔니? 언제?" ', '나는 몰랐다.']),
    ("그는 “나는 간다. 너는 남아라.” 라는 말을 남겼다. 끝.", "ko",
     ["그는 “나는 간다. 너는 남아라.” 라는 말을 남겼다. ", "끝."]),
    ("“그렇게 말하지 마. 그는 떠났다. 나는 남았다.", "ko", ["“그렇게 말하지 마. ", "그는 떠났다. ", "나는 남았다."]),
    ("설명했다. ‘풍웡’은 북상했다.", "ko", ["설명했다. ", "‘풍웡’은 북상했다."]),
    ('그녀는 “엄마는 나갔어. 내가 "Clothes"에 가서 셔츠를 본다.', "ko",
     ['그녀는 “엄마는 나갔어. ', '내가 "Clothes"에 가서 셔츠를 본다.']),
    ("왜? 하고 물었다. 답은 없었다.", "ko", ["왜? 하고 물었다. ", "답은 없었다."]),
    ("조지 W. 부시가 왔다. 2. 둘째 항목.", "ko", ["조지 W. 부시가 왔다. ", "2. 둘째 항목."]),
    ("He met Sen. Barack Obama on Monday. The U.S. team won. I left.", "en",
     ["He met Sen. Barack Obama on Monday. ", "The U.S. team won. ", "I left."]),
    ("(Those are his eyes. Look!) Then go. Start. 이것은 문장입니다.", "ko",
     ["(Those are his eyes. Look!) Then go. Start. ", "이것은 문장입니다."]),
    ('She said. "We go home." Then she left.', "en", ['She said. ', '"We go home." ', 'Then she left.']),
    ('She said, "We go home. We stay." Then she left.', "en", ['She said, "We go home. We stay." ', 'Then she left.']),
    ('She answered, "Mother went out an hour ago. I go to "Clothes Express" today.', "en",
     ['She answered, "Mother went out an hour ago. ', 'I go to "Clothes Express" today.']),
    ("It cost 200. At least 12 were missing. CNN saw it. (CNN) A man left. U.S. troops left.", "en",
     ["It cost 200. ", "At least 12 were missing. ", "CNN saw it. ", "(CNN) A man left. ", "U.S. troops left."]),
    # after a hyphenated word, and after an abbreviation pysbd itself ends a sentence with before a capital (not
    # "I" alone, and never one written before a name); "Yahoo!" is a name to pysbd
    ("It is well-known. She told me. He met Dr. Smith. It was in Jan. I came. Go to Yahoo! Then wait.", "en",
     ["It is well-known. ", "She told me. ", "He met Dr. Smith. ", "It was in Jan. I came. ",
      "Go to Yahoo! Then wait."]),
])
def test_chunks_are_cut_only_where_no_splitter_disputes_a_sentence_end(text, lang, chunks):
    assert [text[a:b] for a, b in splitters.chunk_spans(text, lang)] == chunks


def test_a_particle_after_a_closing_quote_stays_with_its_sentence():
    pytest.importorskip("kiwipiepy")
    text = '"클리퍼 칩"이라는 모델이 있다. “뭐라고요?" 라며 소리를 질렀다. 내가 “점심 다 됐어요."하고 말했다.'
    assert [text[a:b] for a, b in splitters.split(text, "ko")] == [
        '"클리퍼 칩"이라는 모델이 있다.', '“뭐라고요?" 라며 소리를 질렀다.', '내가 “점심 다 됐어요."하고 말했다.']


@pytest.mark.parametrize("text, reaches", [
    ('그러면 남편은 “나한테 소리지르지 마요!" 라고 외치면서 대답했다.', False),
    ("그는 “됐어. 가자.” 하며 웃었다.", True),
    ("왜? 하고 물었다.", True),
])
def test_a_closing_quote_before_a_quotative_particle_needs_no_splitter(text, reaches, monkeypatch):
    seen = []
    split = splitters.split
    monkeypatch.setattr(splitters, "split", lambda chunk, lang: seen.append(chunk) or split(chunk, lang))
    spans = sentence_spans(text, "ko")
    assert bool(seen) == reaches
    if not reaches:
        assert spans == [(0, len(text))]


def test_without_kiwipiepy_korean_is_split_with_kss_and_one_warning(monkeypatch, caplog):
    monkeypatch.delenv(splitters.SPLITTER_ENV_VAR, raising=False)
    monkeypatch.setattr(splitters, "available", lambda name: name != "kiwi")
    splitters._warn_once.cache_clear()
    text = "그는 Dr. Kim을 만났다! 그리고 돌아왔다."
    assert [text[a:b] for a, b in sentence_spans(text, "ko")] == ["그는 Dr. Kim을 만났다!", "그리고 돌아왔다."]
    sentence_spans(text, "ko")
    assert splitters.korean_splitter() == "kss"
    warnings = [r.getMessage() for r in caplog.records if "kiwipiepy" in r.getMessage()]
    assert len(warnings) == 1 and "kss" in warnings[0]
    splitters._warn_once.cache_clear()


def test_asking_for_kiwi_without_kiwipiepy_is_a_usage_error(monkeypatch, tmp_path):
    monkeypatch.setenv(splitters.SPLITTER_ENV_VAR, "kss")  # restored after the test
    monkeypatch.setattr(splitters, "available", lambda name: name != "kiwi")
    path = tmp_path / "a.txt"
    path.write_text("안녕하세요.\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "en", "--splitter", "kiwi", "--dry-run"])
    assert result.exit_code == 2
    assert "kiwipiepy" in result.output and "Traceback" not in result.output


_MODULES = (
    "import sys\n"
    "from gugugo_cli.cli import main\n"
    "sys.argv = ['gugugo-translate', {path!r}, '--to', 'en', '--dry-run', '--no-cache', '-q'] + {extra!r}\n"
    "try:\n    main()\nexcept SystemExit as e:\n    print('EXIT', e.code)\n"
    "print('LOADED', sorted(m for m in ('torch', 'transformers', 'kss', 'kiwipiepy') if m in sys.modules))\n"
)


def _loaded(path, *extra) -> str:
    code = _MODULES.format(path=str(path), extra=list(extra))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "EXIT 0" in proc.stdout, proc.stdout + proc.stderr
    return proc.stdout.split("LOADED", 1)[1].strip()


def test_splitters_load_only_when_a_text_needs_one_and_splitter_picks_which(tmp_path):
    plain = tmp_path / "plain.txt"  # every sentence end is one no splitter disputes: none is loaded
    plain.write_text("오늘은 날씨가 좋다. 우리는 공원에 갔다.\n\n저녁에는 비가 왔다.\n", encoding="utf-8")
    assert _loaded(plain) == "[]"
    hard = tmp_path / "hard.txt"
    hard.write_text("조지 W. 부시 대통령이 왔다. 그는 “안녕. 잘 가.” 하고 떠났다.\n", encoding="utf-8")
    assert _loaded(hard, "--splitter", "kss") == "['kss']"
    if splitters.available("kiwi"):
        assert _loaded(hard) == "['kiwipiepy']"


def test_a_run_without_spaces_never_reaches_a_splitter_with_sentences_before_it(monkeypatch):
    text = "첫 문장입니다. 조지 W. 부시가 왔다 " + "x" * 20000 + " 끝."
    seen = []
    split = splitters.split
    monkeypatch.setattr(splitters, "split", lambda chunk, lang: seen.append(chunk) or split(chunk, lang))
    spans = sentence_spans(text, "ko")
    assert all(len(chunk) <= splitters.CHUNK_CHARS for chunk in seen)
    assert text[spans[-1][0]:spans[-1][1]].endswith("끝.")


def test_cuts_inside_an_address_are_joined_as_a_search_of_the_whole_text_joins_them():
    from bisect import bisect_left

    from gugugo_cli import segment

    text = ("메일은 a.b@c.com? 또는 x@y 그리고 https://a.org/b?c=1.html! www.x.kr/가나.다 끝. "
            "@@ 이름@ 없음 ftp://h.io/a.b.c@d.e.f 123@abc.def.ghi.")
    spans = [(i, i + 1) for i in range(len(text))]  # a cut between every two characters
    addresses = [m.span() for m in segment._ADDRESS.finditer(text)]
    starts = [a for a, _ in addresses]

    def inside(pos):
        i = bisect_left(starts, pos) - 1
        return i >= 0 and pos < addresses[i][1]

    joined = [spans[0]]
    for start, end in spans[1:]:
        joined[-1:] = [(joined[-1][0], end)] if inside(joined[-1][1]) or inside(start) else [joined[-1], (start, end)]
    assert len(addresses) >= 5 and len(joined) < len(spans)
    assert segment._keep_whole(text, spans) == joined


def _gold_paragraphs(lang: str) -> list[list[str]]:
    """The gold set: one sentence a line, paragraphs apart by blank or comment lines."""
    paragraphs, current = [], []
    for line in (DATA / "splitting" / f"gold.{lang}.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            current.append(line.strip())
        elif current:
            paragraphs, current = paragraphs + [current], []
    return paragraphs + ([current] if current else [])


@pytest.mark.parametrize("lang, least_f1", [("ko", 0.99), ("en", 0.975)])
def test_the_sentence_ends_of_the_gold_sets_are_found(lang, least_f1, monkeypatch):
    if lang == "ko":
        pytest.importorskip("kiwipiepy")
        monkeypatch.setenv(splitters.SPLITTER_ENV_VAR, "kiwi")
    found = wanted = right = 0
    for sentences in _gold_paragraphs(lang):
        text = " ".join(sentences)
        ends = {a for a, _ in sentence_spans(text, lang)} - {0}
        gold = {sum(len(s) + 1 for s in sentences[:i]) for i in range(1, len(sentences))}
        found, wanted, right = found + len(ends), wanted + len(gold), right + len(ends & gold)
    precision, recall = right / found, right / wanted
    assert 2 * precision * recall / (precision + recall) >= least_f1
