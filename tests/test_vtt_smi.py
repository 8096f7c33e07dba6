import re

import pytest
from click.testing import CliRunner

from conftest import DATA, SHARED, IdentityTranslator, MarkTranslator, read_lines
from gugugo_cli.cli import cli
from gugugo_cli.formats import FormatOptions, read_document
from gugugo_cli.api import translate_documents
from gugugo_cli.languages import detect_language

ECHO = DATA.parent / "models" / "echo"
TIMING = re.compile(r"^.*-->.*$", re.MULTILINE)
SYNC = re.compile(r"<sync[^>]*>", re.IGNORECASE)


def real_files(ext):
    files = sorted((DATA / "realworld").glob(f"*.{ext}"))
    shared = SHARED / "realworld" / ext
    if shared.is_dir():
        names = {p.name for p in files}
        files += [p for p in sorted(shared.glob(f"*.{ext}")) if p.name not in names]
    return files


def translate(path, translator, tgt="ko", **options):
    doc = read_document(path, options=FormatOptions(tgt=tgt, **options))
    return doc, translate_documents([doc], tgt, "auto", translator)[0].decode("utf-8")


def norm(text):
    return " ".join(text.split())


def vtt_blocks(text):
    return [b for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]


@pytest.mark.parametrize("path", real_files("vtt"), ids=lambda p: p.name)
def test_vtt_identity_keeps_every_block(path):
    doc, out = translate(path, IdentityTranslator(), tgt="ko")
    src = doc.decoded.text
    assert TIMING.findall(out) == TIMING.findall(src)
    a, b = vtt_blocks(out), vtt_blocks(src)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if "-->" in y:  # cue: id and timing line exact, text the same up to line breaks
            head = y.split("\n")[: 1 + next(i for i, l in enumerate(y.split("\n")) if "-->" in l)]
            assert x.split("\n")[: len(head)] == head
            assert norm(x) == norm(y)
        else:  # header, NOTE, STYLE: byte for byte
            assert x == y


@pytest.mark.parametrize("path", real_files("vtt"), ids=lambda p: p.name)
def test_vtt_marking_translates_every_cue_and_nothing_else(path):
    doc, out = translate(path, MarkTranslator(), tgt="ko", merge=False)
    again = read_document(path, out.encode("utf-8"), FormatOptions(tgt="ko")).translation.cues
    assert len(again) == len(doc.translation.cues)
    for cue in again:
        if detect_language(cue.text):
            assert cue.text.startswith("«") and cue.text.endswith("»")
    cue_lines = {l for c in again for l in c.lines}
    assert all("«" not in l for l in out.splitlines() if l not in cue_lines)


def player_text(cue_lines):
    """A cue's text as a WebVTT player shows it: from any `<` to the next `>` is a tag, the rest has its
    character references decoded (the spec's cue text tokenizer)."""
    import html

    return norm(html.unescape(re.sub(r"<[^>]*(?:>|$)", "", "\n".join(cue_lines))))


@pytest.mark.parametrize("name", ["vttjs_escapes-together.vtt", "vttjs_escapes-incorrect.vtt"])
def test_vtt_escapes_next_to_each_other_keep_every_word(name):
    path = DATA / "realworld" / name
    doc, out = translate(path, MarkTranslator(), tgt="ko", merge=False)
    again = read_document(path, out.encode("utf-8"), FormatOptions(tgt="ko")).translation.cues
    for before, after in zip(doc.translation.cues, again, strict=True):
        assert player_text(after.lines) == norm("«" + player_text(before.lines) + "»")


def test_vtt_without_header_is_refused(tmp_path):
    path = tmp_path / "bad.vtt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n", encoding="utf-8")  # SubRip, named .vtt
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "bad.vtt" in result.stderr and "WEBVTT" in result.stderr
    assert not (tmp_path / "bad.ko.vtt").exists()


def test_vtt_through_the_cli_with_the_echo_model(tmp_path):
    en = read_lines("echo_sentences.en")
    body = f"WEBVTT\n\nNOTE kept\n\nintro\n00:00:01.000 --> 00:00:02.000 line:0 align:start\n{en[0]}\n"
    path = tmp_path / "a.vtt"
    path.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "ko", "--model", str(ECHO), "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "a.ko.vtt").read_text(encoding="utf-8") == body


@pytest.mark.parametrize("path", real_files("smi"), ids=lambda p: p.name)
def test_smi_identity_keeps_syncs_and_text(path):
    doc, out = translate(path, IdentityTranslator(), tgt="en")
    src = doc.decoded.text
    assert SYNC.findall(out) == SYNC.findall(src)
    assert out.count("&nbsp;") == src.count("&nbsp;")
    # text between SYNC tags is the same once line breaks and the language class are set aside
    def body(t):
        t = t[t.lower().index("<body"):]
        return norm(re.sub(r"class=\w+", "", t, flags=re.IGNORECASE).replace("<br>", " "))

    assert body(out) == body(src)


@pytest.mark.parametrize("path", real_files("smi"), ids=lambda p: p.name)
def test_smi_marking_sets_target_class_and_keeps_clear_cues(path):
    doc, out = translate(path, MarkTranslator(), tgt="en")
    src = doc.decoded.text
    chunks_out = SYNC.split(out)[1:]
    chunks_src = SYNC.split(src)[1:]
    assert len(chunks_out) == len(chunks_src)
    for x, y in zip(chunks_out, chunks_src):
        visible = re.sub(r"<[^>]*>|&nbsp;", "", y).strip()
        if detect_language(visible) == "ko":
            assert "«" in x and re.search(r"class=ENCC", x, re.IGNORECASE)
        else:  # clear cues, empty syncs and cues without words keep their text
            assert re.sub(r"class=\w+", "", x, flags=re.I) == re.sub(r"class=\w+", "", y, flags=re.I)
    assert ".ENCC" in out.split("</", 1)[0] or ".ENCC" in out[: out.lower().index("</style>")]


def test_cp949_smi_through_the_cli_is_written_as_utf8(tmp_path):
    ko = read_lines("echo_sentences.ko")
    body = ("<SAMI>\r\n<HEAD>\r\n<STYLE TYPE=\"text/css\">\r\n<!--\r\n.KRCC { Name:Korean; lang:ko-KR; SAMIType:CC; }\r\n"
            "-->\r\n</STYLE>\r\n</HEAD>\r\n<BODY>\r\n"
            f"<SYNC Start=1000><P Class=KRCC>\r\n{ko[0]}\r\n<SYNC Start=3000><P Class=KRCC>&nbsp;\r\n</BODY>\r\n</SAMI>\r\n")
    path = tmp_path / "ko.smi"
    path.write_bytes(body.encode("cp949"))
    result = CliRunner().invoke(cli, [str(path), "--to", "en", "--model", str(ECHO), "--line-width", "200"])
    assert result.exit_code == 0, result.stderr
    # the echo model gives the text back as it was: nothing changes but the encoding
    assert (tmp_path / "ko.en.smi").read_bytes() == body.encode("utf-8")


def test_not_a_sami_file(tmp_path):
    path = tmp_path / "x.smi"
    path.write_text("<html><body>hello</body></html>", encoding="utf-8")
    result = CliRunner().invoke(cli, [str(path), "--to", "en", "--model", str(tmp_path / "none")])
    assert result.exit_code == 1 and "not a SAMI file" in result.stderr
