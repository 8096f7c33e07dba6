import random
import re
import unicodedata
from pathlib import Path

import pytest
import srt

from conftest import DATA, UNLOADABLE_MODEL, SHARED, IdentityTranslator, MarkTranslator
from gugugo_cli.cli import cli
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.cue_markup import parse_cue
from gugugo_cli.formats.subtitles import LINE_WIDTH, display_width, spread, wrap
from gugugo_cli.api import translate_documents
from click.testing import CliRunner

TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def real_srt_files():
    files = sorted((DATA / "realworld").glob("*.srt"))
    if (SHARED / "realworld" / "srt").is_dir():
        files += [p for p in sorted((SHARED / "realworld" / "srt").glob("*.srt")) if p.name != "invalid.srt"]
    return files


def translate(path_or_bytes, translator, tgt="ko", name="subs.srt", **options):
    if isinstance(path_or_bytes, Path):
        name, data = str(path_or_bytes), path_or_bytes.read_bytes()
    else:
        data = path_or_bytes
    doc = read_document(name, data, FormatOptions(tgt=tgt, **options))
    return translate_documents([doc], tgt, "auto", translator)[0].decode("utf-8-sig")


def parse(data: bytes | str):
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return list(srt.parse(text.lstrip("\ufeff")))


def norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("path", real_srt_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_identity_keeps_indices_timings_and_text(path, tgt):
    doc = read_document(path, options=FormatOptions(tgt=tgt))
    before = parse(doc.decoded.text)
    after = parse(translate(path, IdentityTranslator(), tgt))
    assert len(after) == len(before)
    for a, b in zip(after, before):
        assert (a.index, a.start, a.end) == (b.index, b.start, b.end)
        assert norm(a.content) == norm(b.content)


def test_no_index_file_keeps_having_no_indices():
    # cues without number lines, with a byte-order mark (as in pysrt's no-indexes.srt)
    data = ("\ufeff00:00:06,500 --> 00:00:09,000\nAbout two months ago I found myself on\nthe comment section\n\n"
            "00:00:11,000 --> 00:00:17,000\nAnd I was commenting,\nunfortunately.\n").encode("utf-8")
    out = translate(data, IdentityTranslator())
    assert out.splitlines()[0] == "00:00:06,500 --> 00:00:09,000"
    marked = translate(data, MarkTranslator())
    assert [l for l in marked.splitlines() if "-->" in l] == ["00:00:06,500 --> 00:00:09,000",
                                                              "00:00:11,000 --> 00:00:17,000"]
    assert "«" in marked and not any(l.strip().isdigit() for l in marked.splitlines())


SAMPLE = (
    "1\n00:00:01,000 --> 00:00:03,000\n{\\an8}<i>Where are you going?</i>\n\n"
    "2\n00:00:04,000 --> 00:00:06,000\n- To the market.\n- Can I come?\n\n"
    "3\n00:00:07,000 --> 00:00:08,000\nI went to the\n\n"
    "4\n00:00:08,200 --> 00:00:09,000\nstore with my\n\n"
    "5\n00:00:09,100 --> 00:00:12,000\nmother yesterday.\n\n"
    "6\n00:00:20,000 --> 00:00:22,000\n<font color=\"#ffff00\">Good night.</font>\n\n"
)


def test_marking_translator_tags_dashes_and_merged_cues():
    marker = MarkTranslator()
    out = parse(translate(SAMPLE.encode(), marker))
    assert [s.index for s in out] == [1, 2, 3, 4, 5, 6]
    assert out[0].content == "{\\an8}<i>«Where are you going?»</i>"
    assert out[1].content == "- «To the market.»\n- «Can I come?»"
    assert out[5].content == '<font color="#ffff00">«Good night.»</font>'
    # one sentence over three cues reached the model once, whole
    assert "I went to the store with my mother yesterday." in marker.segments
    assert norm(" ".join(s.content for s in out[2:5])) == "«I went to the store with my mother yesterday.»"


def test_merged_sentence_is_spread_over_the_same_time_spans():
    class Korean:
        def translate_batch(self, texts, src, tgt):
            return ["나는 어제 어머니와 함께 가게에 갔다." if "store" in t else t for t in texts]

    out = parse(translate(SAMPLE.encode(), Korean()))
    merged = out[2:5]
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in merged] == [(7, 8), (8.2, 9), (9.1, 12)]
    assert all(s.content.strip() for s in merged)
    assert " ".join(s.content for s in merged) == "나는 어제 어머니와 함께 가게에 갔다."


def test_long_gap_or_sentence_end_stops_merging():
    text = ("1\n00:00:01,000 --> 00:00:02,000\nHe waited\n\n"
            "2\n00:00:05,000 --> 00:00:06,000\nand waited\n\n"
            "3\n00:00:06,100 --> 00:00:07,000\nDone.\n\n"
            "4\n00:00:07,100 --> 00:00:08,000\nNext one\n\n")
    marker = MarkTranslator()
    translate(text.encode(), marker)
    assert sorted(marker.segments) == sorted(["He waited", "and waited Done.", "Next one"])


def test_lines_are_wrapped_to_the_limit_for_korean_source_to_english():
    path = DATA / "realworld" / "srt-tools_s04-utf8.srt"
    out = parse(translate(path, MarkTranslator(), tgt="en"))
    for sub in out:
        lines = sub.content.split("\n")
        assert len(lines) <= 2
        assert all(display_width(TAG.sub("", l)) <= LINE_WIDTH["en"] for l in lines)
    assert all("«" in s.content for s in out if s.content.strip())


def test_wrap_balances_two_lines_and_respects_width():
    text = "About two months ago I found myself on the comment section of YouTube"
    lines = wrap(text, 42)
    assert len(lines) == 2 and " ".join(lines) == text
    assert all(display_width(l) <= 42 for l in lines)
    assert abs(len(lines[0]) - len(lines[1])) < 12
    ko = wrap("나는 어제 어머니와 함께 시장에 가서 사과를 샀다", 32)
    assert len(ko) == 2 and all(display_width(l) <= 32 for l in ko)


def _wrap_by_trying_every_split(text, width, max_lines=2):
    """wrap() as defined: the split whose longest line is shortest (the first such), tried exhaustively."""
    words = text.split()
    if not words:
        return []
    if display_width(text) <= width or len(words) == 1 or max_lines <= 1:
        return [" ".join(words)]
    best = None
    for i in range(1, len(words)):
        lines = [" ".join(words[:i]), *_wrap_by_trying_every_split(" ".join(words[i:]), width, max_lines - 1)]
        worst = max(display_width(l) for l in lines)
        if best is None or worst < best[0]:
            best = (worst, lines)
    return best[1]


def test_wrap_picks_the_split_that_trying_every_split_picks():
    rng = random.Random(5)
    words = ["a", "bb", "ccc", "한", "국어", "시장에", "\u3000", "ｗｉｄｅ", "x" * 15, "é", "—", "漢字", "😀", "\u0301"]
    for _ in range(400):
        text = rng.choice(["", " ", "  "]).join(rng.choice(words) for _ in range(rng.randint(0, 16)))
        assert display_width(text) == sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
        for width in (8, 20, 32, 42):
            for max_lines in (1, 2, 3):
                assert wrap(text, width, max_lines) == _wrap_by_trying_every_split(text, width, max_lines)


def test_spread_cuts_at_word_boundaries_in_proportion():
    assert spread("a b c d", [1, 1]) == ["a b", "c d"]
    assert spread("one two three four five six", [1, 2]) == ["one two", "three four five six"]
    assert spread("one two", [1, 1, 1]) == ["one two"] * 3


def test_parse_cue_separates_markup():
    [line] = parse_cue(["{\\an8}<i>- Hello <b>there</b>.</i>"])
    assert (line.lead, line.dash, line.text, line.trail) == (["{\\an8}", "<i>", "- "], "- ", "Hello there.", ["</i>"])


def test_bilingual_shows_translation_above_original():
    out = parse(translate(SAMPLE.encode(), MarkTranslator(), bilingual=True))
    assert out[0].content.split("\n") == ["{\\an8}<i>«Where are you going?»</i>", "{\\an8}<i>Where are you going?</i>"]


def test_crlf_and_cp949_input(tmp_path):
    path = tmp_path / "ko.srt"
    path.write_bytes("1\r\n00:00:01,000 --> 00:00:02,000\r\n안녕하세요.\r\n\r\n".encode("cp949"))
    result = CliRunner().invoke(cli, [str(path), "--to", "en", "--model", str(DATA.parent / "models" / "echo")])
    assert result.exit_code == 0, result.stderr
    out = (tmp_path / "ko.en.srt").read_bytes()
    assert out == "1\r\n00:00:01,000 --> 00:00:02,000\r\n안녕하세요.\r\n\r\n".encode("utf-8")


def test_malformed_srt_is_refused_with_a_line_number(tmp_path):
    path = tmp_path / "bad.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:0x,000 --> 00:00:04,000\nlost?\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1
    assert "bad.srt" in result.stderr and "line 6" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.ko.srt").exists()


def test_empty_srt_is_nothing_to_translate(tmp_path):
    path = tmp_path / "empty.srt"
    path.write_bytes(b"")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 0, result.stderr
    assert "nothing to translate" in result.stderr and not (tmp_path / "empty.ko.srt").exists()


def test_echo_model_through_the_cli(tmp_path):
    from conftest import read_lines

    en = read_lines("echo_sentences.en")
    body = "".join(f"{i + 1}\n00:00:{i:02d},000 --> 00:00:{i:02d},900\n<i>{s}</i>\n\n" for i, s in enumerate(en[:4]))
    path = tmp_path / "en.srt"
    path.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(DATA.parent / "models" / "echo"),
                                      "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "en.ko.srt").read_text(encoding="utf-8") == body


def test_binary_file_named_srt_is_refused(tmp_path):
    path = tmp_path / "movie.srt"
    path.write_bytes(b"\x1aE\xdf\xa3\x00\x00\x00\x00" * 64)  # a video container's header
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1
    assert "movie.srt" in result.stderr and "binary" in result.stderr
    assert not (tmp_path / "movie.ko.srt").exists()


def test_three_digit_seconds_are_read_as_players_read_them_and_written_back_as_they_were(tmp_path):
    path = DATA / "srt-three-digit-seconds.srt"
    doc = read_document(path, options=FormatOptions(tgt="ko", line_width=200))
    cues = doc.translation.cues
    assert [(c.start, c.end) for c in cues] == [(1, 1.5), (2, 2.5), (13.567, 15), (15, 17.25), (65.5, 67), (67, 70)]
    out = translate_documents([doc], "ko", "auto", MarkTranslator())[0]
    src_lines, out_lines = path.read_bytes().split(b"\r\n"), out.split(b"\r\n")
    assert len(out_lines) == len(src_lines)
    for a, b in zip(src_lines, out_lines):
        if b"-->" in a or not a.strip() or a.isdigit():
            assert b == a
        else:
            assert b == "«".encode() + a + "»".encode()
    result = CliRunner().invoke(cli, [str(path), "-o", str(tmp_path / "out.srt"), "--to", "ko",
                                      "--model", str(DATA.parent / "models" / "echo"), "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out.srt").read_bytes() == path.read_bytes()
