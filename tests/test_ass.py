"""ASS/SSA subtitles: each Dialogue's text translated in place, override blocks kept where they apply, every
other byte of the file as it was; the output opens in pysubs2 with the same events, times and styles."""

import re

import pytest
from click.testing import CliRunner

from conftest import DATA, UNLOADABLE_MODEL, SHARED, IdentityTranslator, MarkTranslator
from gugugo_cli.api import translate_documents
from gugugo_cli.cli import cli
from gugugo_cli.errors import InputError
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.formats.subtitles import display_width

REAL = DATA / "realworld"

HEAD = ("[Script Info]\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 480\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        "Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n")


def ass(*texts, gap=3):
    """A script whose events are `gap` seconds apart (too far apart to be read as one sentence)."""
    return HEAD + "".join(f"Dialogue: 0,0:00:{gap * i:02d}.00,0:00:{gap * i + 1:02d}.00,Default,,0,0,0,,{t}\n"
                          for i, t in enumerate(texts))


def translate(text, translator=None, tgt="ko", name="a.ass", **options):
    data = text.encode("utf-8") if isinstance(text, str) else text
    doc = read_document(name, data, FormatOptions(tgt=tgt, **options))
    return translate_documents([doc], tgt, "auto", translator or MarkTranslator())[0]


def texts(out: bytes) -> list[str]:
    """The Text field of every Dialogue line (Text is the tenth field)."""
    return [l.split(",", 9)[9] for l in out.decode("utf-8-sig").splitlines() if l.startswith("Dialogue:")]


class Korean:
    """Answers every segment with Korean words, about half as wide as the source."""

    def translate_batch(self, texts, src, tgt):
        return [" ".join(["번역된"] * max(1, display_width(t) // 14)) for t in texts]


@pytest.fixture
def pysubs2():
    return pytest.importorskip("pysubs2")


# --- override blocks -------------------------------------------------------------------------------------

def test_blocks_before_and_after_the_text_stay_there():
    out = texts(translate(ass("{\\an8}Up here.", "{\\i1}Slanted words.{\\i0}", "{\\pos(10,20)\\fs30}Sign text.")))
    assert out == ["{\\an8}«Up here.»", "{\\i1}«Slanted words.»{\\i0}", "{\\pos(10,20)\\fs30}«Sign text.»"]


def test_whole_event_tags_inside_the_text_move_before_it_and_style_toggles_are_dropped():
    marker = MarkTranslator()
    out = texts(translate(ass("He said {\\b1}no{\\b0} twice.", "Moved {\\an8\\i1}up here.",
                              "Wait {\\pos(320,50)}here, {\\c&H0000FF&}please."), marker))
    assert out == ["«He said no twice.»", "{\\an8}«Moved up here.»", "{\\pos(320,50)}«Wait here, please.»"]
    assert marker.segments == ["He said no twice.", "Moved up here.", "Wait here, please."]


def test_inline_comments_are_never_translated_and_are_kept_after_the_text():
    marker = MarkTranslator()
    out = texts(translate(ass("Hello {TL note: a pun} there.", "Bye.{not shown}"), marker))
    assert out == ["«Hello there.»{TL note: a pun}", "«Bye.»{not shown}"]
    assert not any("pun" in s or "shown" in s for s in marker.segments)


def test_lines_each_in_their_own_style_are_translated_one_by_one():
    text = "{\\an5}{\\bord0}First line here.\\N{\\r\\shad0}Second line here."
    marker = MarkTranslator()
    assert texts(translate(ass(text), marker)) == ["{\\an5}{\\bord0}«First line here.»\\N{\\r\\shad0}«Second line here.»"]
    assert marker.segments == ["First line here.", "Second line here."]


def test_dialogue_dashes_keep_one_speaker_a_line():
    out = texts(translate(ass("- Did he tell you what it was about?\\N- He did.")))
    assert out == ["- «Did he tell you what it was about?»\\N- «He did.»"]


def test_hard_spaces_around_the_text_stay_and_soft_breaks_are_spaces():
    marker = MarkTranslator()
    out = texts(translate(ass("Pushed left\\h\\h\\h", "No break here,\\nreally."), marker))
    assert out == ["«Pushed left»\\h\\h\\h", "«No break here, really.»"]
    assert marker.segments == ["Pushed left", "No break here, really."]


def test_a_translation_cannot_add_markup_or_line_breaks():
    class Tricky:
        def translate_batch(self, texts, src, tgt):
            return ["{\\an8}숨김 \\N 줄\n바꿈" for _ in texts]

    out = texts(translate(ass("Hello there."), Tricky()))
    assert len(out) == 1 and "{" not in out[0] and "\\N" not in out[0] and "(\\" in out[0]


# --- line breaks and width ---------------------------------------------------------------------------------

def test_an_event_is_one_unit_and_is_wrapped_again_at_the_korean_line_width():
    marker = MarkTranslator()
    text = "This line is long so it should\\Nautomatically be broken into several lines\\Nof about even length."
    translate(ass(text), marker)
    assert marker.segments == ["This line is long so it should automatically be broken into several lines of about even length."]
    (out,) = texts(translate(ass(text), Korean()))
    lines = out.split("\\N")
    assert len(lines) == 2 and all(display_width(l) <= 32 for l in lines)
    (wide,) = texts(translate(ass(text), Korean(), line_width=200))
    assert "\\N" not in wide


def test_a_sentence_over_two_events_is_translated_once_and_spread_back():
    marker = MarkTranslator()
    out = texts(translate(ass("It seems a paradox, does it not,", "that the image is inverted?", gap=1), marker))
    assert marker.segments == ["It seems a paradox, does it not, that the image is inverted?"]
    assert out[0].startswith("«") and out[1].endswith("»") and " ".join(out).replace("\\N", " ").count("«") == 1


def test_events_shown_at_the_same_time_are_not_joined():
    text = HEAD + ("Dialogue: 0,0:00:01.00,0:00:04.00,Default,,0,0,0,,Top speaker says,\n"
                   "Dialogue: 0,0:00:01.50,0:00:04.00,Default,,0,0,0,,bottom speaker answers.\n")
    marker = MarkTranslator()
    translate(text, marker)
    assert marker.segments == ["Top speaker says,", "bottom speaker answers."]


def test_events_with_the_same_text_are_translated_once():
    marker = MarkTranslator()
    out = texts(translate(ass("I'm a creep", "What the hell am I doing here?", "I'm a creep"), marker))
    assert marker.segments.count("I'm a creep") == 1
    assert out[0] == out[2] == "«I'm a creep»"


# --- left alone --------------------------------------------------------------------------------------------

def test_drawings_karaoke_comments_and_empty_events_are_left_alone():
    drawing = "{\\an5\\bord1\\p1\\pos(316,312)}m 0 0 b 33 -3 48 -7 61 -19{\\p0}"
    karaoke = "{\\k10}And {\\k5}now {\\k20}for {\\kf50}ka{\\kf20}ra{\\K70}o{\\K10}ke{\\k0}!"
    text = ass(drawing, karaoke, "{\\an8}", "", "♪") + "Comment: 0,0:00:30.00,0:00:31.00,Default,,0,0,0,,A comment.\n"
    marker = MarkTranslator()
    assert translate(text, marker) == text.encode()
    assert marker.segments == []


def test_everything_but_the_dialogue_text_comes_back_byte_for_byte():
    text = ("\ufeff[Script Info]\r\n; a comment, with a comma\r\nTitle: Test\r\nScriptType: v4.00+\r\n\r\n"
            "[Aegisub Project Garbage]\r\nActive Line: 2\r\n\r\n[V4+ Styles]\r\nFormat: Name, Fontname\r\n"
            "Style: Default,Arial\r\n\r\n[Fonts]\r\nfontname: a_0.ttf\r\n\"12%M39\"C&&9OAC!!!%%1)BD6&CR\r\n\r\n"
            "[Events]\r\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\r\n"
            "Comment: 0,0:00:00.00,0:00:05.00,Default,,0000,0000,0000,,Not shown.\r\n"
            "Dialogue: 0,0:00:00.00,0:00:05.00,Default,Anna,0000,0000,0000,,Shown, with commas, here.\r\n"
            "Dialogue: 0,0:00:06.00,0:00:07.00,Default,,0000,0000,0000,,이미 한국어.\r\n")
    out = translate(text).decode("utf-8")
    assert out == text.replace("Shown, with commas, here.", "«Shown, with commas, here.»")


def test_identity_gives_back_the_same_bytes_and_a_target_language_file_is_untouched():
    text = ass("{\\an8}Hello, {\\i1}you{\\i0}.\\NSecond line.", "- One?\\N- Two.", "Pushed\\h\\h")
    assert translate(text, IdentityTranslator()) == text.encode()
    korean = ass("{\\an8}안녕, {\\i1}너{\\i0}.\\N둘째 줄.", "- 하나?\\N- 둘.")
    assert translate(korean, MarkTranslator()) == korean.encode()


def test_bilingual_puts_the_translation_above_the_original():
    out = texts(translate(ass("{\\an8}Up here.", "- One?\\N- Two."), bilingual=True))
    assert out == ["{\\an8}«Up here.»\\N{\\an8}Up here.", "- «One?»\\N- «Two.»\\N- One?\\N- Two."]


# --- SSA, encodings, field layouts ---------------------------------------------------------------------------

SSA = ("[Script Info]\nScriptType: v4.00\n\n[V4 Styles]\n"
       "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, TertiaryColour, BackColour, Bold, Italic, "
       "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, AlphaLevel, Encoding\n"
       "Style: Default,Arial,20,16777215,255,0,0,0,0,1,2,2,2,10,10,10,0,1\n\n"
       "[Events]\nFormat: Marked, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
       "Dialogue: Marked=0,0:00:00.00,0:01:00.00,Default,,0,0,0,,An, example, subtitle.\n"
       "Comment: Marked=0,0:00:00.00,0:01:00.00,Default,,0,0,0,,You can't see this one.\n"
       "Dialogue: Marked=0,0:01:00.00,0:02:00.00,Default,,0,0,0,,Subtitle number\\Ntwo.\n")


def test_ssa_v4_files_are_read_by_their_own_format_line(pysubs2):
    out = translate(SSA, name="a.ssa")
    assert texts(out) == ["«An, example, subtitle.»", "«Subtitle number two.»"]
    subs = pysubs2.SSAFile.from_string(out.decode(), format_="ssa")
    assert [(e.type, e.start, e.end) for e in subs] == [(e.type, e.start, e.end)
                                                         for e in pysubs2.SSAFile.from_string(SSA, format_="ssa")]


def test_text_is_found_by_the_format_line_wherever_the_fields_are():
    text = ("[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Start, End, Style, Text\n"
            "Dialogue: 0:00:01.00,0:00:02.00,Default,Hello, world.\n")
    out = translate(text).decode()
    assert out.endswith("Dialogue: 0:00:01.00,0:00:02.00,Default,«Hello, world.»\n")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_mark_and_line_endings_are_kept(encoding):
    text = ass("Hello.").replace("\n", "\r\n")
    out = translate(text.encode(encoding))
    assert out == ("\ufeff" + text.replace("Hello.", "«Hello.»")).encode("utf-8")


# --- refused -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,problem", [
    ("Just some text.\nNothing else.\n", "no [Script Info] or [Events] section"),
    ("[Script Info]\nTitle: x\n\n[V4+ Styles]\nStyle: Default,Arial\n", "no [Events] section"),
    ("[Script Info]\n\n[Events]\nDialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Hi\n", "line 4"),
    (HEAD + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0\n", "line 12"),
    (HEAD + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,Fine.\nDialogue: 0,0:0x:01.00,0:00:02.00,Default,,0,0,0,,Hi\n",
     "line 13"),
    ("[Events]\nFormat: Layer, Start, End, Style\nDialogue: 0,0:00:01.00,0:00:02.00,Default\n", "no Text field"),
    (ass("word " * 3000), "more than 10,000 characters"),
])
def test_damaged_files_are_refused_in_one_line(text, problem):
    with pytest.raises(InputError) as e:
        read_document("bad.ass", text.encode(), FormatOptions(tgt="ko"))
    assert problem in str(e.value) and "\n" not in str(e.value)


def test_the_cli_refuses_a_damaged_file_in_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.ass"
    path.write_text(HEAD + "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0\n", encoding="utf-8")
    binary = tmp_path / "binary.ssa"
    binary.write_bytes(b"[Script Info]\x00\x01\x02" * 100)
    result = CliRunner().invoke(cli, [str(path), str(binary), "--to", "ko", "--model", str(UNLOADABLE_MODEL)])
    assert result.exit_code == 1
    errors = [l for l in result.stderr.splitlines() if "bad.ass" in l or "binary.ssa" in l]
    assert len(errors) == 2 and "line 12" in errors[0] + errors[1]
    assert not (tmp_path / "bad.ko.ass").exists() and not (tmp_path / "binary.ko.ssa").exists()


# --- real files ------------------------------------------------------------------------------------------

def real_files():
    files = sorted(p for ext in ("ass", "ssa") for p in REAL.glob(f"*.{ext}"))
    names = {p.name for p in files}
    for folder in ("ass", "ssa"):
        if (SHARED / "realworld" / folder).is_dir():
            files += sorted(p for ext in ("ass", "ssa") for p in (SHARED / "realworld" / folder).glob(f"*.{ext}")
                            if p.name not in names)
    return files


def plain(event) -> str:
    """An event's text without override blocks, comments and line breaks, as pysubs2 gives it."""
    return " ".join(re.sub(r"\{[^}]*\}", "", event.text).replace("\\N", " ").replace("\\n", " ")
                    .replace("\\h", " ").split())


@pytest.mark.parametrize("path", real_files(), ids=lambda p: p.name)
@pytest.mark.parametrize("tgt", ["ko", "en"])
def test_real_files_identity_unchanged_and_marking_reaches_every_visible_text(path, tgt, pysubs2):
    data = path.read_bytes()
    source = read_document(path, options=FormatOptions(tgt=tgt)).decoded
    same = translate(data, IdentityTranslator(), tgt, name=path.name)
    if source.encoding == "utf-8":
        assert same == data
    else:  # written as UTF-8: the same text
        assert same.decode("utf-8-sig") == source.text
    marker = MarkTranslator()
    out = translate(data, marker, tgt, name=path.name, merge=False)
    fmt = "ssa" if path.suffix == ".ssa" else "ass"
    before = pysubs2.SSAFile.from_string(source.text, format_=fmt)
    after = pysubs2.SSAFile.from_string(out.decode("utf-8-sig"), format_=fmt)
    # the same events, times and styles; script info, fonts and pictures as they were
    keep = ("type", "layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect")
    assert [[getattr(e, k) for k in keep] for e in after] == [[getattr(e, k) for k in keep] for e in before]
    assert after.styles == before.styles and after.info == before.info
    assert after.fonts_opaque == before.fonts_opaque and after.graphics_opaque == before.graphics_opaque
    # every line but the Text of Dialogue lines byte for byte
    lines_in, lines_out = source.text.splitlines(), out.decode("utf-8-sig").splitlines()
    assert [l for l in lines_out if not l.startswith("Dialogue:")] == [l for l in lines_in if not l.startswith("Dialogue:")]
    assert not any("{" in s or "\\N" in s or "\\h" in s for s in marker.segments)
    for old, new in zip(before, after):
        if old.type != "Dialogue" or new.text == old.text:
            # not translated: nothing to translate, already in the target language, a drawing or karaoke
            assert not (tgt == "ko" and old.type == "Dialogue" and re.search("[A-Za-z]", plain(old))
                        and not re.search(r"\\p[1-9]|\\k", old.text)), old.text
            continue
        # translated: all a reader sees is inside the marks, and no override block is inside them
        seen = plain(new)
        assert not re.search(r"\w", re.sub(r"«[^»]*»", "", seen)), new.text
        assert not re.search(r"«[^»]*\{", new.text), new.text
        assert not re.search(r"\\p[1-9]|\\k", old.text), old.text  # drawings and karaoke never touched
    if any(e.type == "Dialogue" and plain(e) and not re.search(r"\\p[1-9]|\\k", e.text) for e in before):
        assert ("«" in out.decode("utf-8-sig")) == bool(marker.segments)


def test_aegisub_format_tests_keep_positions_and_leave_the_drawing_and_karaoke(pysubs2):
    path = REAL / "aegisub_ass-format-tests.ass"
    out = translate(path.read_bytes(), name=path.name).decode("utf-8")
    assert "{\\an5\\pos(258,131)}«Positioning... this line\\Nshould be in an odd place»" in out
    assert "{\\an5\\move(182,157,414,311)}«This line moves»" in out
    assert "{\\k10}And {\\k5}now {\\k20}for {\\kf50}ka{\\kf20}ra{\\K70}o{\\K10}ke{\\k0}!" in out
    assert "{\\an5\\bord1\\shad0\\p1\\fscx300\\fscy300\\pos(316,312)}m 0 0 b 33 -3" in out
    assert "«This line is pushed left by adding\\Nsome hard spaces to the right»" + "\\h" * 20 in out
    assert ("{By the way, this is a common abuse, \"inline-comments\" in override tag groups. They should not be "
            "rendered and not generate errors, just be ignored.}") in out


def test_echo_model_through_the_cli_writes_the_script_back_as_it_was(tmp_path):
    from conftest import read_lines

    en = read_lines("echo_sentences.en")
    text = ass(f"{{\\an8}}{en[0]}", f"{en[1]}{{\\i0}}").replace("\n", "\r\n")
    path = tmp_path / "a.ass"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(DATA.parent / "models" / "echo"),
                                      "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.ko.ass").read_bytes() == path.read_bytes()


def test_karaoke_lines_left_alone_are_counted_in_the_summary(tmp_path, capsys):
    from gugugo_cli import console, job

    path = REAL / "aegisub_furi-test.ass"
    karaoke = [t for t in texts(path.read_bytes()) if re.search(r"\{[^}]*\\[kK]", t)]
    assert len(karaoke) == 8
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--dry-run", "-o", str(tmp_path / "out.ass")])
    assert result.exit_code == 0, result.stderr
    assert "karaoke lines left as they are: 8" in result.stdout.splitlines()

    summary = job.Summary()
    tasks = job.find_inputs([str(path)], "ko", str(tmp_path / "out.ass"), False, summary=summary)
    tasks = job.plan_tasks(tasks, FormatOptions(tgt="ko"), "auto", summary)
    job.run(tasks, "ko", IdentityTranslator, "", job.SegmentCache(None), summary)
    console.print_summary(summary)
    assert re.search(r"karaoke lines left as they are\s*│\s*8\b", capsys.readouterr().err)
    plain = tmp_path / "plain.ass"
    plain.write_text(ass("Where are you going?"), encoding="utf-8")
    result = CliRunner().invoke(cli, [str(plain), "--to", "ko", "--dry-run", "-o", str(tmp_path / "p.ass")])
    assert "karaoke" not in result.stdout
