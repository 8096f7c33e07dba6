"""Subtitles come back with their markup balanced, their speakers and positions, every cue in place, and
untranslated text exactly as it was."""

import re
import pytest
from click.testing import CliRunner

from conftest import DATA, UNLOADABLE_MODEL, SHARED, IdentityTranslator, MarkTranslator, read_lines
from gugugo_cli.api import translate_documents
from gugugo_cli.cli import cli
from gugugo_cli.formats import FormatOptions, read_document

ECHO = DATA.parent / "models" / "echo"
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:[.\s/][^<>]*)?>")


def translate(name, text, translator=None, tgt="ko", **options):
    data = text.encode("utf-8") if isinstance(text, str) else text
    doc = read_document(name, data, FormatOptions(tgt=tgt, **options))
    return translate_documents([doc], tgt, "auto", translator or MarkTranslator())[0].decode("utf-8-sig")


def cues_of(name, text, tgt="ko"):
    """The cues a fresh read of a file finds: (start, end, lines)."""
    doc = read_document(name, text.encode("utf-8"), FormatOptions(tgt=tgt))
    return [(c.start, c.end, c.lines) for c in doc.translation.cues]


def balanced(text: str) -> bool:
    """Every tag opened is closed, in order, and no tag is closed that was not opened (<br> aside)."""
    stack = []
    for m in TAG.finditer(text):
        name = m.group(2).lower()
        if name == "br" or m.group().endswith("/>"):
            continue
        if m.group(1):
            if not stack or stack[-1] != name:
                return False
            stack.pop()
        else:
            stack.append(name)
    return not stack


def srt(*cues):
    """Cues two seconds apart (too far apart to be read as one sentence)."""
    return "".join(f"{i}\n00:00:{3 * i:02d},000 --> 00:00:{3 * i + 1:02d},000\n{c}\n\n" for i, c in enumerate(cues, 1))


def srt_texts(out):
    return [b.split("\n", 2)[2] for b in out.strip("\n").split("\n\n")]


# --- markup ---------------------------------------------------------------------------------------------

def test_inner_tags_are_dropped_in_pairs():
    out = srt_texts(translate("a.srt", srt("[Alba] <i>En 1928,</i>", "He said <b>no</b> twice.")))
    assert out == ["«[Alba] En 1928,»", "«He said no twice.»"]


def test_tag_around_the_whole_line_or_cue_stays_around_the_translation():
    out = srt_texts(translate("a.srt", srt("<i>Where are you going?</i>", "<font color=\"#ff0\">Wait,\nplease.</font>",
                                           "<i>One more</i>\n<i>thing here.</i>")))
    assert out[0] == "<i>«Where are you going?»</i>"
    assert out[1] == "<font color=\"#ff0\">«Wait, please.»</font>"
    assert out[2] == "<i>«One more thing here.»</i>"


def test_each_line_in_its_own_tag_keeps_its_markup():
    lines = ["<b>The first line.</b>", "<i>The second line.</i>", "<u>The third line.</u>",
             "<b>The fourth line.</b>", "<i>The fifth line.</i>"]
    out = srt_texts(translate("a.srt", srt("\n".join(lines))))[0].split("\n")
    assert out == [re.sub(r">(.*)<", r">«\1»<", l) for l in lines]


def test_dialogue_keeps_each_speakers_markup():
    out = srt_texts(translate("a.srt", srt("<i>- Are you coming?</i>\n- Not today.",
                                           "<i>- Who is it?\n- Nobody.</i>")))
    assert out[0] == "<i>- «Are you coming?»</i>\n- «Not today.»"
    assert out[1] == "<i>- «Who is it?»\n- «Nobody.»</i>"
    assert all(balanced(c) for c in out)


def test_tag_left_open_is_closed_and_stray_closing_tag_dropped():
    out = srt_texts(translate("a.srt", srt("<i>Never closed.", "Stray close.</b>", "<b>Wrong <i>order.</b></i>")))
    assert out[0] == "<i>«Never closed.»</i>"
    assert out[1] == "«Stray close.»"
    assert all(balanced(c) for c in out)


def test_position_blocks_stay_before_the_text():
    out = srt_texts(translate("a.srt", srt("{\\an8}<i>Up here.</i>", "Moved {\\an8}up.")))
    assert out == ["{\\an8}<i>«Up here.»</i>", "{\\an8}«Moved up.»"]


def test_angle_brackets_that_are_not_tags_are_text():
    marker = MarkTranslator()
    out = srt_texts(translate("a.srt", srt("Say 2<3,5>1,4<6 twice.", "a < b and c > d"), marker))
    assert out == ["«Say 2<3,5>1,4<6 twice.»", "«a < b and c > d»"]
    assert "Say 2<3,5>1,4<6 twice." in marker.segments


def test_webvtt_timestamp_and_class_tags_are_dropped_in_pairs():
    text = ("WEBVTT\n\n00:00:20.500 --> 00:00:21.500\nThat's <00:00:21.000><c.colorE5E5E5>amore</c>\n\n"
            "00:00:25.000 --> 00:00:26.000\nthis<00:05:04.199><c> will</c><c.colorE5E5E5><00:05:04.379><c> happen</c></c>\n")
    out = translate("a.vtt", text)
    assert "«That's amore»\n" in out and "«this will happen»\n" in out
    assert balanced(out) and "<c" not in out


def test_webvtt_voice_spans_keep_the_speaker():
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Roger Bingham>We are in New York City\n\n"
            "00:02.000 --> 00:03.000\n<v.loud Esme>Hello there.</v>\n<v Mary>Hi.\n")
    out = translate("a.vtt", text)
    assert "<v Roger Bingham>«We are in New York City»</v>\n" in out
    assert "<v.loud Esme>«Hello there.»</v>\n<v Mary>«Hi.»</v>\n" in out
    assert balanced(out)


def test_webvtt_character_references_are_text_for_the_model_and_escaped_again():
    marker = MarkTranslator()
    out = translate("a.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nTom &amp; Jerry &lt;i&gt; here\n", marker)
    assert marker.segments == ["Tom & Jerry <i> here"]
    assert "«Tom & Jerry &lt;i&gt; here»" in out


# --- text that is not translated -------------------------------------------------------------------------

ODD = ("1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>안녕 ,  세상 !</i>\r\n\r\n"
       "2\r\n00:00:02,500 --> 00:00:03,000\r\n- 네 ?\r\n-  아니요 .\r\n\r\n"
       "3\r\n00:00:04,000 --> 00:00:05,000\r\n[앨바] <i>1928</i>\r\n\r\n")


def test_srt_already_in_the_target_language_comes_back_byte_identical():
    doc = read_document("ko.srt", ODD.encode("utf-8"), FormatOptions(tgt="ko"))
    assert translate_documents([doc], "ko", "auto", MarkTranslator()) == [ODD.encode("utf-8")]


@pytest.mark.parametrize("translator", [IdentityTranslator(), MarkTranslator()], ids=["identity", "marking"])
def test_untranslated_lines_and_cues_never_change(translator):
    text = srt("Hello there ,  friend !", "- 안녕 ?\n- Who is  that ?", "♪ ♪", "1928")
    out = srt_texts(translate("a.srt", text, translator))
    if isinstance(translator, IdentityTranslator):
        assert out == srt_texts(text)
    else:
        assert out[1] == "- 안녕 ?\n- «Who is that ?»"
        assert out[2:] == ["♪ ♪", "1928"]


# --- WebVTT parsing --------------------------------------------------------------------------------------

def test_webvtt_timing_line_without_blank_line_starts_a_new_cue():
    text = ("WEBVTT\n\n00:00.000 --> 00:01.000\nyeah\n<c.colorCCCCCC>what</c>\n"
            "00:01.000 --> 00:02.000 align:start position:0%\nthis is it\n")
    assert [c[2] for c in cues_of("a.vtt", text)] == [["yeah", "<c.colorCCCCCC>what</c>"], ["this is it"]]
    out = translate("a.vtt", text)
    assert "00:01.000 --> 00:02.000 align:start position:0%\n«this is it»\n" in out
    assert len(cues_of("a.vtt", out)) == 2


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"], ids=["cr", "lf", "crlf"])
def test_webvtt_line_endings_are_read_and_kept(newline):
    text = "WEBVTT\n\nNOTE kept\n\n1\n00:01.000 --> 00:02.000\nFirst one.\n\n00:02.000 --> 00:03.000\n안녕.\n"
    text = text.replace("\n", newline)
    assert translate("a.vtt", text, IdentityTranslator()) == text
    out = translate("a.vtt", text)
    assert out == text.replace("First one.", "«First one.»")


def test_webvtt_block_with_broken_timings_is_kept_as_it_is():
    text = "WEBVTT\n\n00:01.000 --> 00:02,000\nNot a cue.\n\n00:03.000 --> 00:04.000\nA cue.\n"
    out = translate("a.vtt", text)
    assert out == text.replace("A cue.", "«A cue.»")


def test_webvtt_parsing_tests_of_the_spec():
    # web-platform-tests webvtt/parsing/file-parsing/tests/support/arrows.vtt: six cues, text1..text6
    path = DATA / "realworld" / "wpt_arrows.vtt"
    doc = read_document(path, options=FormatOptions(tgt="ko"))
    assert [c.lines for c in doc.translation.cues] == [[f"text{i}"] for i in range(1, 7)]


def test_webvtt_without_its_header_line_is_read_when_it_starts_with_a_cue():
    text = "00:00:00.500 --> 00:00:07.000\nCaption text #1.\n\n00:00:07.000 --> 00:00:11.890\nCaption text #2.\n"
    out = translate("a.vtt", text)
    assert out == text.replace("Caption text #1.", "«Caption text #1.»").replace("Caption text #2.", "«Caption text #2.»")


# --- SubRip parsing --------------------------------------------------------------------------------------

def test_srt_timings_players_accept_are_read_and_written_as_they_were():
    text = ("1\n00:01,000 --> 00:02,500\nNo hours here.\n\n"
            "2\n00:00:03,000 -> 00:00:04,000\nShort arrow.\n\n"
            "3\n00:00:05.000 -- > 00:00:06.000\nDots and a spaced arrow.\n\n"
            "4\n00:00:07 --> 00:00:08\nNo milliseconds.\n"
            "5\n00:00:09,000 --> 00:00:10,000\nNo blank line before me.\n")
    cues = cues_of("a.srt", text)
    assert [(c[0], c[1]) for c in cues] == [(1, 2.5), (3, 4), (5, 6), (7, 8), (9, 10)]
    out = translate("a.srt", text)
    assert re.findall(r".*-.*>.*", out) == re.findall(r".*-.*>.*", text)
    assert [c[2] for c in cues_of("a.srt", out)] == [[f"«{c[2][0]}»"] for c in cues]


def test_srt_cue_without_its_timing_line_is_kept_and_does_not_join_the_cue_before():
    text = srt("Caption one.") + "2\nCaption two.\n\n" + "3\n00:00:05,000 --> 00:00:06,000\nCaption three.\n"
    out = translate("a.srt", text)
    assert out == text.replace("Caption one.", "«Caption one.»").replace("Caption three.", "«Caption three.»")


def test_srt_text_before_the_first_cue_is_kept():
    text = "Made by someone\n\n" + srt("Hello.")
    assert translate("a.srt", text) == text.replace("Hello.", "«Hello.»")


def test_srt_broken_timing_is_refused_with_its_line_number(tmp_path):
    path = tmp_path / "bad.srt"
    path.write_text(srt("Fine.") + "2\n00:00:0x,000 --> 00:00:04,000\nLost?\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1 and "line 6" in result.stderr
    assert not (tmp_path / "bad.ko.srt").exists()


# --- SAMI ------------------------------------------------------------------------------------------------

def sami(body, head=""):
    return (f"<SAMI>\n<HEAD>{head}\n<STYLE TYPE=\"text/css\">\n<!--\n.KRCC {{ Name:Korean; lang:ko-KR; SAMIType:CC; }}\n"
            f"-->\n</STYLE>\n</HEAD>\n<BODY>\n{body}</BODY>\n</SAMI>\n")


def test_sami_br_keeps_words_apart():
    marker = MarkTranslator()
    out = translate("a.smi", sami("<SYNC Start=1000><P Class=KRCC>북대서양<br>7시 13분\n"
                                  "<SYNC Start=2000><P Class=KRCC><font color=#ffff00>거기<BR/>누구</font>\n"), marker, "en")
    assert marker.segments == ["북대서양 7시 13분", "거기 누구"]
    assert "«북대서양 7시 13분»" in out and "<font color=#ffff00>«거기 누구»</font>" in out


def test_sami_broken_markup_does_not_swallow_the_cues_after_it():
    body = ("<SYNC Start=1000><P Class=KRCC>첫째 <!-- 닫히지 않은 주석\n"
            "<SYNC Start=2000><P Class=KRCC>둘째 <b 굵게\n"
            "<SYNC Start=3000><P Class=KRCC>셋째\n"
            "<SYNC Start=4000><P Class=KRCC>&nbsp;\n")
    doc = read_document("a.smi", sami(body).encode("utf-8"), FormatOptions(tgt="en"))
    assert [c.start for c in doc.translation.cues] == [1, 2, 3, 4]
    out = translate("a.smi", sami(body), tgt="en")
    assert out.count("<SYNC") == 4 and "«셋째»" in out


def test_sami_clear_cues_take_the_class_of_the_text_they_clear():
    body = ("<SYNC Start=1000><P Class=KRCC>안녕하세요.\n<SYNC Start=2000><P Class=KRCC>&nbsp;\n"
            "<SYNC Start=3000><P Class=KRCC>♪\n<SYNC Start=4000><P Class=KRCC>&nbsp;\n")
    out = translate("a.smi", sami(body), tgt="en")
    assert re.findall(r"<P Class=(\w+)>", out) == ["ENCC"] * 4
    assert ".ENCC {" in out
    assert translate("a.smi", sami(body), IdentityTranslator(), "en") == sami(body)


def test_sami_meta_charset_follows_the_encoding_written():
    text = sami("<SYNC Start=1000><P Class=KRCC>안녕하세요.\n",
                head='\n<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=euc-kr">')
    out = translate("ko.smi", text.encode("cp949"), IdentityTranslator(), "en")
    assert 'charset=utf-8"' in out and out.replace("charset=utf-8", "charset=euc-kr") == text
    doc = read_document("ko.smi", text.encode("cp949"), FormatOptions(tgt="en", encoding="cp949"))
    assert translate_documents([doc], "en", "auto", IdentityTranslator()) == [text.encode("cp949")]


# --- real files ------------------------------------------------------------------------------------------

def real_subtitles():
    files = [p for ext in ("srt", "vtt", "smi") for p in sorted((DATA / "realworld").glob(f"*.{ext}"))]
    names = {p.name for p in files}
    if (SHARED / "realworld").is_dir():
        for ext in ("srt", "vtt", "smi"):
            files += [p for p in sorted((SHARED / "realworld" / ext).glob(f"*.{ext}")) if p.name not in names]
    return files


@pytest.mark.parametrize("path", real_subtitles(), ids=lambda p: p.name)
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_real_files_identity_unchanged_and_marking_balanced(path, tgt):
    doc = read_document(path, options=FormatOptions(tgt=tgt))
    source = doc.decoded.text
    assert translate(path.name, path.read_bytes(), IdentityTranslator(), tgt) == source
    marker = MarkTranslator()
    out = translate(path.name, path.read_bytes(), marker, tgt)
    assert ("«" in out) == bool(marker.segments)
    again = read_document(path.name, out.encode("utf-8"), FormatOptions(tgt=tgt)).translation.cues
    before = doc.translation.cues
    assert [(c.start, c.end) for c in again] == [(c.start, c.end) for c in before]
    for old, new in zip(before, again):
        if new.lines != old.lines:  # translated: its tags balanced
            assert balanced("\n".join(new.lines)), new.lines
        elif "«" not in new.text:  # not translated: as it was
            assert new.lines == old.lines


def test_echo_model_through_the_cli_with_cr_line_endings_and_voices(tmp_path):
    en = read_lines("echo_sentences.en")
    body = f"WEBVTT\r\r00:01.000 --> 00:02.000\r<v Anna>{en[0]}</v>\r00:02.000 --> 00:03.000\r<i>{en[1]}</i>\r"
    path = tmp_path / "a.vtt"
    path.write_bytes(body.encode("utf-8"))
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO), "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.ko.vtt").read_bytes() == body.encode("utf-8")
