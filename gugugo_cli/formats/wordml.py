"""WordprocessingML details of translated text: the language it is tagged with, a font that has Hangul, and the
bilingual copy of a paragraph.

Word draws Hangul with a run's East Asian font (w:rFonts/@w:eastAsia, ECMA-376 17.3.2.26). Western templates
leave it to the theme's East Asian font, which is usually empty, so Korean text then depends on whatever the
reader's machine substitutes, and shows as boxes where nothing fits. A run that receives Korean text and whose
East Asian font (found through the run, its character style, the paragraph style and the document defaults, as
Word looks it up) is not known to have Hangul gets an explicit one: the theme's font for the Hangul script
(a:font script="Hang", 맑은 고딕 in Office's themes), else 맑은 고딕.
"""

from __future__ import annotations

import copy
import re

from ..languages import HANGUL, LANGUAGE_TAGS

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"  # the same elements in a Strict Open XML document
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
A_STRICT = "http://purl.oclc.org/ooxml/drawingml/main"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
DEFAULT_KOREAN_FONT = "맑은 고딕"


def namespace(element) -> str:
    """The namespace an element is written in (a Strict document's WordprocessingML is in W_STRICT)."""
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag[1:tag.index("}")] if tag.startswith("{") else ""


def w(name: str, ns: str = W) -> str:
    return f"{{{ns}}}{name}"


# Children of w:rPr in the order the schema requires (CT_RPr: EG_RPrBase, then w:rPrChange).
_RPR_ORDER = {name: i for i, name in enumerate((
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow",
    "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern",
    "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em",
    "lang", "eastAsianLayout", "specVanish", "oMath", "rPrChange"))}
# Children of w:pPr in schema order (CT_PPr), for the numbering and indentation of a bilingual copy.
_PPR_ORDER = {name: i for i, name in enumerate((
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr", "suppressLineNumbers",
    "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap", "overflowPunct", "topLinePunct",
    "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing",
    "mirrorIndents", "suppressOverlap", "jc", "textDirection", "textAlignment", "textboxTightWrap",
    "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"))}

# Fonts known to draw Hangul syllables, by name without spaces, lower case (a name written in Hangul counts too).
# CJK families (Noto Sans/Serif CJK, Source Han) cover Hangul in every regional build.
_HANGUL_FONT_PREFIXES = (
    "malgun", "batang", "gulim", "dotum", "gungsuh", "newgulim", "nanum", "notosanskr", "notoserifkr",
    "notosanscjk", "notoserifcjk", "sourcehansans", "sourcehanserif", "applesdgothic", "applegothic",
    "applemyungjo", "hcr", "hancom", "pretendard", "spoqahansans", "arialunicode", "unbatang", "undotum",
    "baekmuk", "ibmplexsanskr", "kopub", "gowun", "hy")


def has_hangul_font(name: str | None) -> bool:
    if not name:
        return False
    if HANGUL.search(name):
        return True
    key = re.sub(r"[\s_-]+", "", name).lower()
    return key.startswith(_HANGUL_FONT_PREFIXES)


def _insert_ordered(parent, new, order: dict[str, int]):
    """Insert new among parent's children at its place in the schema order (extensions stay last)."""
    rank = order[new.tag.rsplit("}", 1)[-1]]
    ns = namespace(new)
    for i, existing in enumerate(parent):
        tag = existing.tag if isinstance(existing.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        if not tag.startswith(f"{{{ns}}}") or local not in order or order[local] > rank:
            parent.insert(i, new)
            return new
    parent.append(new)
    return new


def _child(parent, name: str, order: dict[str, int]):
    """parent's child w:NAME, added at its place in the schema order if missing."""
    tag = w(name, namespace(parent))
    found = parent.find(tag)
    return found if found is not None else _insert_ordered(parent, parent.makeelement(tag, {}), order)


def run_properties(run):
    """The run's w:rPr, added as its first child if missing."""
    tag = w("rPr", namespace(run))
    rpr = run.find(tag)
    if rpr is None:
        rpr = run.makeelement(tag, {})
        run.insert(0, rpr)
    return rpr


class WordStyles:
    """Where a run's East Asian font comes from: the run, its character style, its paragraph's style (or the
    default paragraph style), the document defaults; theme references resolved through the document's theme."""

    def __init__(self, styles_root=None, theme_root=None, numbering_root=None, ns: str = W):
        self.ns = ns
        self.numbering = numbering_root
        self.styles: dict[str, object] = {}
        self.default_paragraph_style = None
        self.defaults = None
        if styles_root is not None:
            for style in styles_root.iter(self.w("style")):
                self.styles[style.get(self.w("styleId"))] = style
                if style.get(self.w("type")) == "paragraph" and style.get(self.w("default")) in ("1", "true", "on"):
                    self.default_paragraph_style = style.get(self.w("styleId"))
            self.defaults = styles_root.find(f"{self.w('docDefaults')}/{self.w('rPrDefault')}/{self.w('rPr')}")
        self.theme: dict[str, dict[str, str]] = {}  # "minor"/"major" -> {"latin"/"ea"/"cs"/"Hang": typeface}
        if theme_root is not None:
            a = A_STRICT if namespace(theme_root) == A_STRICT else A
            for kind in ("minor", "major"):
                scheme = theme_root.find(f".//{{{a}}}{kind}Font")
                if scheme is None:
                    continue
                faces = {}
                for slot in scheme:
                    if slot.tag == f"{{{a}}}font":
                        faces[slot.get("script", "")] = slot.get("typeface", "")
                    elif isinstance(slot.tag, str):
                        faces[slot.tag.rsplit("}", 1)[-1]] = slot.get("typeface", "")
                self.theme[kind] = faces

    def w(self, name: str) -> str:
        return w(name, self.ns)

    def _style_chain(self, style_id):
        """The style and the styles it is based on, nearest first (a loop of basedOn ends the chain)."""
        seen = set()
        while style_id and style_id not in seen and style_id in self.styles:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style
            based = style.find(self.w("basedOn"))
            style_id = based.get(self.w("val")) if based is not None else None

    def _paragraph_style(self, paragraph):
        ppr = paragraph.find(self.w("pPr"))
        style = ppr.find(self.w("pStyle")) if ppr is not None else None
        return style.get(self.w("val")) if style is not None else self.default_paragraph_style

    def list_item(self, paragraph) -> tuple[bool, str | None]:
        """(is it numbered or bulleted, the w:ind left/start where its text starts, when the definition says)."""
        q = self.w
        ppr = paragraph.find(q("pPr"))
        num_pr = ppr.find(q("numPr")) if ppr is not None else None
        for style in self._style_chain(self._paragraph_style(paragraph)) if num_pr is None else ():
            num_pr = style.find(f"{q('pPr')}/{q('numPr')}")
            if num_pr is not None:
                break
        num_id = num_pr.find(q("numId")) if num_pr is not None else None
        if num_id is None or num_id.get(q("val")) in (None, "0"):
            return False, None
        level = num_pr.find(q("ilvl"))
        level = level.get(q("val"), "0") if level is not None else "0"
        indent = None
        if self.numbering is not None and num_id.get(q("val")).isdigit() and level.isdigit():
            num = self.numbering.find(f"{q('num')}[@{q('numId')}='{num_id.get(q('val'))}']")
            abstract = num.find(q("abstractNumId")) if num is not None else None
            if abstract is not None:
                definition = self.numbering.find(
                    f"{q('abstractNum')}[@{q('abstractNumId')}='{abstract.get(q('val'))}']")
                ind = definition.find(f"{q('lvl')}[@{q('ilvl')}='{level}']/{q('pPr')}/{q('ind')}") \
                    if definition is not None else None
                if ind is not None:
                    indent = ind.get(q("left")) or ind.get(q("start"))
        return True, indent

    def _theme_font(self, reference: str) -> tuple[str, str]:
        """(typeface, "minor"/"major") of a theme reference such as minorEastAsia or majorHAnsi."""
        kind = "major" if reference.startswith("major") else "minor"
        slot = {"EastAsia": "ea", "Bidi": "cs"}.get(reference[5:], "latin")
        return self.theme.get(kind, {}).get(slot, ""), kind

    def east_asian_font(self, run, paragraph) -> tuple[str, str]:
        """(typeface or "", theme kind "minor"/"major") that Word draws the run's East Asian text with."""
        rpr = run.find(self.w("rPr"))
        char_style = rpr.find(self.w("rStyle")) if rpr is not None else None
        styles = list(self._style_chain(char_style.get(self.w("val")))) if char_style is not None else []
        styles += self._style_chain(self._paragraph_style(paragraph))
        sources = [rpr, *(style.find(self.w("rPr")) for style in styles), self.defaults]
        for props in sources:
            fonts = props.find(self.w("rFonts")) if props is not None else None
            if fonts is None:
                continue
            if fonts.get(self.w("eastAsiaTheme")):
                return self._theme_font(fonts.get(self.w("eastAsiaTheme")))
            if fonts.get(self.w("eastAsia")):
                return fonts.get(self.w("eastAsia")), "minor"
        return "", "minor"

    def korean_font(self, kind: str) -> str:
        """The theme's font for Hangul (its East Asian font if that has Hangul), else 맑은 고딕."""
        faces = self.theme.get(kind, {})
        for face in (faces.get("Hang"), faces.get("ea")):
            if has_hangul_font(face):
                return face
        return DEFAULT_KOREAN_FONT


def mark_language(run, paragraph, tgt: str, styles: WordStyles) -> None:
    """Tag a run that now holds a translation with its language; give Korean text a font that has Hangul."""
    tag = LANGUAGE_TAGS.get(tgt)
    if tag is None:
        return
    ns = namespace(run)
    rpr = run_properties(run)
    lang = _child(rpr, "lang", _RPR_ORDER)
    lang.set(w("val", ns), tag)
    if tgt != "ko":
        return
    lang.set(w("eastAsia", ns), tag)
    typeface, kind = styles.east_asian_font(run, paragraph)
    if not has_hangul_font(typeface):
        fonts = _child(rpr, "rFonts", _RPR_ORDER)
        fonts.attrib.pop(w("eastAsiaTheme", ns), None)  # a theme reference would win over the named font
        fonts.set(w("eastAsia", ns), styles.korean_font(kind))


# Revision marks and section breaks belong to the original paragraph only.
_NOT_COPIED = ("rPrChange", "pPrChange", "ins", "del", "moveFrom", "moveTo", "sectPr")


def _strip(element) -> None:
    ns = namespace(element)
    for name in _NOT_COPIED:
        for found in element.findall(f".//{w(name, ns)}"):
            found.getparent().remove(found)


def bilingual_copy(paragraph, run, text: str, numbered: bool = False, indent: str | None = None):
    """A new paragraph holding text, placed right after paragraph: the same paragraph properties (style,
    alignment, spacing) and the formatting of run, the run the translation would have gone into.

    The copy of a numbered paragraph (numbered: by its own properties or its style) is not numbered again; it
    is indented to indent (where the item's text starts) when given. A paragraph that ends a section passes the
    break on to its copy, so the translation stays in the original's section."""
    ns = namespace(paragraph)
    new = paragraph.makeelement(w("p", ns), {})
    ppr = paragraph.find(w("pPr", ns))
    if ppr is not None or numbered:
        new_ppr = copy.deepcopy(ppr) if ppr is not None else paragraph.makeelement(w("pPr", ns), {})
        _strip(new_ppr)
        section = ppr.find(w("sectPr", ns)) if ppr is not None else None
        if section is not None:
            _insert_ordered(new_ppr, section, _PPR_ORDER)  # moved, not copied
        if numbered:
            own = new_ppr.find(w("numPr", ns))
            if own is not None:
                new_ppr.remove(own)
            _child(new_ppr, "numPr", _PPR_ORDER).append(new_ppr.makeelement(w("numId", ns), {w("val", ns): "0"}))
            if indent is not None and new_ppr.find(w("ind", ns)) is None:
                # Strict Open XML names the leading indent w:start (w:left is transitional only)
                _child(new_ppr, "ind", _PPR_ORDER).set(w("start" if ns == W_STRICT else "left", ns), indent)
        new.append(new_ppr)
    new_run = new.makeelement(w("r", ns), {})
    old_rpr = run.find(w("rPr", ns))
    if old_rpr is not None:
        new_rpr = copy.deepcopy(old_rpr)
        _strip(new_rpr)
        if run.getparent().tag == w("hyperlink", ns):  # the copy is no link, so it does not look like one
            style = new_rpr.find(w("rStyle", ns))
            if style is not None:
                new_rpr.remove(style)
        new_run.append(new_rpr)
    t = new_run.makeelement(w("t", ns), {})
    t.text = text
    if text != text.strip():
        t.set(XML_SPACE, "preserve")
    new_run.append(t)
    new.append(new_run)
    paragraph.addnext(new)
    return new, new_run
