"""Glossary: a TSV file of source and target terms; every source term in a segment comes out as its target term,
the same way across a whole run, in any format."""

import io

import pytest
from click.testing import CliRunner

from conftest import ECHO_MODEL, read_lines
from gugugo_cli.cli import cli
from gugugo_cli.glossary import GlossaryError, load, parse
from gugugo_cli.protect import ProtectingTranslator

EN = read_lines("echo_sentences.en")
TERMS = "# names and places\nMr. Smith\t스미스 씨\nOxford\t옥스퍼드\n\nPoland\t폴란드\ncow\t소\tnocase\n"
TARGETS = ["스미스 씨", "옥스퍼드", "폴란드", "소"]


@pytest.fixture
def terms(tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text(TERMS, encoding="utf-8")
    return path


def cli_run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_file_format_comments_blank_lines_and_case_rule(terms):
    g = load(terms)
    assert [(t.source, t.target, t.case) for t in g.terms] == [
        ("Mr. Smith", "스미스 씨", "case"), ("Oxford", "옥스퍼드", "case"), ("Poland", "폴란드", "case"),
        ("cow", "소", "nocase")]


@pytest.mark.parametrize("content, message", [
    ("Oxford\n", "line 1: expected SOURCE<TAB>TARGET[<TAB>case|nocase], found 1 column"),
    ("# c\nOxford\t옥스퍼드\tcase\textra\n", "line 2: expected SOURCE<TAB>TARGET[<TAB>case|nocase], found 4 columns"),
    ("Oxford\t\n", "line 1: empty target term"),
    ("\t옥스퍼드\n", "line 1: empty source term"),
    ("Oxford\t옥스퍼드\tsometimes\n", "line 1: unknown case rule 'sometimes' (case or nocase)"),
    ("Oxford\t옥스퍼드\nOxford\t옥스포드\n", "line 2: 'Oxford' is already given as '옥스퍼드'"),
])
def test_a_bad_line_is_one_error_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError) as e:
        load(path)
    assert str(e.value) == f"glossary {path}, {message}"


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(GlossaryError, match="no such file"):
        load(tmp_path / "none.tsv")
    (tmp_path / "cp949.tsv").write_bytes("Oxford\t옥스퍼드\n".encode("utf-8") + "서울\t".encode("cp949") + b"x\n")
    with pytest.raises(GlossaryError, match=r"line 2: not UTF-8"):
        load(tmp_path / "cp949.tsv")


def test_longest_match_whole_words_case_rule_and_korean_particles():
    g = parse(["Frodo\t프로도", "Frodo Baggins\t프로도 배긴스", "ring\t반지\tnocase", "Shire\t샤이어", "프로도\tFrodo"])
    text = "Frodo Baggins found the Ring; Frodo left the Shire, not Shires or Ringo. 프로도는 떠났다."
    assert [(text[a:b], t.target) for a, b, t in g.find(text)] == [
        ("Frodo Baggins", "프로도 배긴스"), ("Ring", "반지"), ("Frodo", "프로도"), ("Shire", "샤이어"), ("프로도", "Frodo")]
    assert g.find("the RING and the shire") == [(4, 8, g.terms[2])]  # Shire is case-sensitive


def test_terms_come_out_as_targets_and_the_model_never_sees_them(marker):
    g = parse(["Oxford\t옥스퍼드"])
    out = ProtectingTranslator(marker, g).translate_batch(["I stayed in Oxford.", "Oxford.", "Oxfordshire"], "en", "ko")
    assert out == ["«I stayed in 옥스퍼드.»", "옥스퍼드.", "«Oxfordshire»"]
    assert marker.segments == ["I stayed in ‹0›.", "Oxfordshire"]


def test_a_glossary_term_inside_a_url_is_left_alone(marker):
    g = parse(["example\t예시"])
    out = ProtectingTranslator(marker, g).translate_batch(["An example at https://example.com/example."], "en", "ko")
    assert out == ["«An 예시 at https://example.com/example.»"]


def test_api_glossary_with_a_given_translator_is_consistent_across_the_text(identity):
    from gugugo_cli import translate_text

    text = "Frodo went home.\n\nThen Frodo slept. Frodo woke up.\n"
    out = translate_text(text, to="ko", translator=identity, glossary={"Frodo": "프로도"})
    assert out == "프로도 went home.\n\nThen 프로도 slept. 프로도 woke up.\n"


def test_api_load_translator_with_a_glossary_file(terms):
    from gugugo_cli import load_translator, translate_text

    tr = load_translator(str(ECHO_MODEL), device="cpu", dtype="float32", glossary=terms)
    out = translate_text(f"{EN[4]}\n\n{EN[3]}\n", to="ko", translator=tr)
    assert "스미스 씨" in out and "옥스퍼드" in out and "폴란드" in out
    assert "Smith" not in out and "Oxford" not in out and "Poland" not in out


def test_cli_glossary_on_txt(tmp_path, terms):
    src = tmp_path / "notes.txt"
    src.write_text(f"{EN[4]}\n{EN[2]}\n\n{EN[3]} {EN[4]}\n", encoding="utf-8")
    r = cli_run(src, "--to", "ko", "--glossary", terms, "--model", ECHO_MODEL, "--device", "cpu")
    assert r.exit_code == 0, r.output
    out = (tmp_path / "notes.ko.txt").read_text(encoding="utf-8")
    assert out.count("스미스 씨") == 2 and out.count("옥스퍼드") == 2 and "폴란드" in out and "소" in out
    assert "Smith" not in out and "cow" not in out


def test_cli_glossary_on_srt_keeps_cue_timings(tmp_path, terms):
    cues = [("00:00:01,000 --> 00:00:02,500", EN[4]), ("00:00:03,000 --> 00:00:04,000", EN[3]),
            ("00:01:00,250 --> 00:01:02,000", EN[2])]
    src = tmp_path / "film.srt"
    src.write_text("".join(f"{i}\n{t}\n{s}\n\n" for i, (t, s) in enumerate(cues, 1)), encoding="utf-8")
    r = cli_run(src, "--to", "ko", "--glossary", terms, "--model", ECHO_MODEL, "--device", "cpu")
    assert r.exit_code == 0, r.output
    out = (tmp_path / "film.ko.srt").read_text(encoding="utf-8")
    assert [l for l in out.splitlines() if "-->" in l] == [t for t, _ in cues]
    for target in TARGETS:
        assert target in out
    assert "Smith" not in out and "Oxford" not in out and "Poland" not in out


def test_cli_glossary_on_docx(tmp_path, terms):
    import docx

    d = docx.Document()
    d.add_paragraph(EN[4])
    p = d.add_paragraph()
    p.add_run(EN[3][:6]).bold = True  # "Poland" split over two runs
    p.add_run(EN[3][6:])
    d.add_table(rows=1, cols=1).cell(0, 0).text = EN[2]
    src = tmp_path / "report.docx"
    d.save(src)
    r = cli_run(src, "--to", "ko", "--glossary", terms, "--model", ECHO_MODEL, "--device", "cpu")
    assert r.exit_code == 0, r.output
    out = docx.Document(io.BytesIO((tmp_path / "report.ko.docx").read_bytes()))
    texts = [p.text for p in out.paragraphs] + [out.tables[0].cell(0, 0).text]
    assert "스미스 씨" in texts[0] and "옥스퍼드" in texts[0]
    assert texts[1].startswith("폴란드") and "소" in texts[2]


def test_cli_dry_run_counts_segments_per_term(tmp_path, terms):
    src = tmp_path / "notes.txt"
    src.write_text(f"{EN[4]}\n{EN[4]}\n{EN[3]}\nSee https://example.com/Oxford here.\n", encoding="utf-8")
    r = cli_run(src, "--to", "ko", "--glossary", terms, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "glossary: Mr. Smith -> 스미스 씨: 2 segments\n" in r.output
    assert "glossary: Oxford -> 옥스퍼드: 2 segments\n" in r.output  # not the one inside the URL
    assert "glossary: Poland -> 폴란드: 1 segment\n" in r.output
    assert "glossary: cow -> 소: 0 segments\n" in r.output


def test_cli_bad_glossary_is_a_usage_error_before_anything_is_read(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Oxford 옥스퍼드\n", encoding="utf-8")
    r = cli_run(tmp_path / "missing.txt", "--to", "ko", "--glossary", bad)
    assert r.exit_code == 2
    assert f"glossary {bad}, line 1: expected SOURCE<TAB>TARGET" in r.output


def _regex_find(terms, text, start=0, end=None):
    """The matcher as one regular expression (longest term first, lookarounds for whole words): the reference
    the glossary's own matcher must agree with."""
    import re

    parts = []
    for i in sorted(range(len(terms)), key=lambda i: -len(terms[i].source)):
        t = terms[i].source
        body = f"(?i:{re.escape(t)})" if terms[i].case == "nocase" else re.escape(t)
        before = r"(?<![A-Za-z0-9])" if t[0].isascii() and t[0].isalnum() else ""
        after = r"(?![A-Za-z0-9])" if t[-1].isascii() and t[-1].isalnum() else ""
        parts.append(f"(?P<t{i}>{before}{body}{after})")
    pattern = re.compile("|".join(parts))
    end = len(text) if end is None else end
    return [(m.start(), m.end(), terms[int(m.lastgroup[1:])]) for m in pattern.finditer(text, start, end)]


def test_matcher_agrees_with_the_regular_expression_on_random_terms_and_texts():
    import random

    rng = random.Random(7)
    alphabet = ["a", "b", "A", "B", "1", " ", "-", "가", "나", "는", "é", "É", "ß", "."]
    for _ in range(300):
        lines = {}
        for _ in range(rng.randint(1, 12)):
            source = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))).strip() or "a"
            case = rng.choice(["case", "nocase"])
            key = (source.lower() if case == "nocase" else source, case)
            lines.setdefault(key, f"{source}\tT{len(lines)}\t{case}")
        glossary = parse(lines.values())
        for _ in range(20):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
            start = rng.randint(0, len(text))
            end = rng.randint(start, len(text))
            assert glossary.find(text) == _regex_find(glossary.terms, text), (glossary.terms, text)
            assert glossary.find(text, start, end) == _regex_find(glossary.terms, text, start, end), \
                (glossary.terms, text, start, end)


def _words(n, seed):
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {}
    while len(words) < n:
        words["".join(rng.choice(letters) for _ in range(rng.randint(4, 10)))] = None
    return list(words)


def test_a_50000_term_glossary_over_200_lines_takes_seconds_not_minutes():
    import time

    words = _words(50_000, 1)
    lines = [f"{w} term\t용어{i}\t{'nocase' if i % 3 else 'case'}" for i, w in enumerate(words)]
    texts = [" ".join(words[(i * 31 + j) % len(words)] for j in range(25)) + " term." for i in range(200)]
    started = time.process_time()  # this process's CPU time: other work on the machine does not count
    glossary = parse(lines)
    found = [glossary.find(t) for t in texts]
    assert time.process_time() - started < 3.0
    assert sum(map(len, found)) > 0


def test_a_glossary_larger_than_the_limit_is_one_line_error(tmp_path):
    from gugugo_cli.glossary import MAX_GLOSSARY_BYTES

    big = tmp_path / "big.tsv"
    with open(big, "wb") as f:
        f.truncate(MAX_GLOSSARY_BYTES + 1)
    for path in (big, "/dev/zero"):
        r = cli_run(tmp_path / "missing.txt", "--to", "ko", "--glossary", path)
        assert r.exit_code == 2
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and f"glossary {path}: larger than" in lines[0], r.stderr
