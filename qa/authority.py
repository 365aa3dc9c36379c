"""How a resolved authority is shown: a full citation cut to the citation itself, then printed with one occurrence's
pin and opinion.

``cite`` resolves each back-reference to the full citation of its authority and hands its text here twice:
``authority_text`` when the full citation is read (no explanatory parentheticals, no hereinafter clause, no pin of
its own, no prose after it), ``with_pin`` for each occurrence ("602 U.S. 680, 717 (2024) (Kavanaugh, J.,
concurring)", a book's "GAME THEORY 370 (2013)", a draft's "(manuscript at 46)").
"""

from __future__ import annotations

import re

from qa.citations import is_opinion

# parentheticals that say which work it is (a hearing's one statement, an unpublished draft): kept
_IDENTIFIES = re.compile(r"(?:(?:combined|prepared|written|joint|oral)\s+)*(?:statement|testimony|remarks)s?\s+of\b|"
                         r"on\s+file\b|unpublished\b|forthcoming\b|(?:draft\s+)?manuscript\b(?!\s+at\b)|draft\b", re.IGNORECASE)
# prose after a dated citation, not its subsequent history ("cert. denied", "aff’d", "overruled by") nor its link
_PROSE_AFTER = re.compile(r"(?<=\((?:1[5-9]|20)\d\d\)),\s+(?!cert\.|aff|rev|overruled|vacated|abrogated|superseded|"
                          r"modified|reh|appeal|available|archived|https?:|\[)(?=[a-z])")
# the citation's sentence ends, prose follows: after a parenthesis or a link, or after a section or a page when a
# sentence follows ("21 C.F.R. § 808.1. The regulation provides …")
_SENTENCE_AFTER = re.compile(r"(?<=[)\]])\.\s+(?=[A-Z“\"])|(?<=\d)\.\s+(?=[A-Z][a-z]+\s+[a-z])")
_SHOWN = 500  # characters of an authority shown at most
DATED = r"\s*\((?:[^()]*\s)?(?:1[5-9]|20)\d\d\)"  # a parenthetical ending in its year: "(9th Cir. 2022)"
# pages as a book prints them ("104–05", "103, 108 & n.4"), never a date's year ("SEPTEMBER 30, 2022 1–3")
_PAGES = r"\d[\d–\-]*(?:(?:,\s*|\s*&\s*)(?!(?:1[5-9]|20)\d\d\b)(?:nn?\.\s*)?\d[\d–\-]*)*(?:\s*nn?\.\s*\d[\d–\-]*)?"
# the pin a book or statute is printed with: the pages or section before its date, or a statute's section at its end
_BOOK_PIN = re.compile(rf"\s(?P<pin>{_PAGES}(?={DATED})|§+\s*[\w.:()–\-, ]+?(?={DATED}|$))")


def authority_text(text: str, page: int | None = None) -> str:
    """Return a full citation as shown for a back-reference: no explanatory, quoting or opinion parentheticals, no
    hereinafter clause, no pin after the first page (``page`` where it is known), no closing period."""
    text = re.sub(r"\s*[\[(]\s*hereinafter\b(?:[^\[\]()]|\([^()]{0,40}\))*[\])]", "", text, flags=re.IGNORECASE)
    out: list[str] = []
    depth, opened = 0, 0
    attached = False  # "230(c)": a subsection, not a parenthetical
    for ch in text:
        if ch == "(":
            if depth == 0:
                opened, attached = len(out), bool(out) and not out[-1].isspace()
            depth += 1
        out.append(ch)
        if ch == ")" and depth:
            depth -= 1
            if depth == 0 and not attached and any(c.isdigit() for c in out[:opened]):  # not in a title before the
                inner = "".join(out[opened + 1: -1]).strip()  # volume: "Get Out the Vote (or Else): Testing …"
                if _explanatory(inner):
                    del out[opened:]
    if depth and not attached and any(c.isdigit() for c in out[:opened]) and _explanatory("".join(out[opened + 1:])):
        del out[opened:]  # an explanatory parenthetical the note never closes runs to its end
    shown = re.sub(r"\s+", " ", "".join(out)).strip(" .,;")
    prose = _PROSE_AFTER.search(shown) or _SENTENCE_AFTER.search(shown)  # "…, 50 Tex. 614 (1879), in which …",
    if prose:  # "… (2022). “[T]he First Circuit …", "…privacy.html [https://perma.cc/X]. For …"
        shown = shown[: prose.start()]
    shown = re.sub(r"\s+,", ",", shown)
    # the pin after the first page: "505 U.S. 1003, 1028–29 (1992)", "in FORGIVENESS AND MERCY 162, 164 (1988)"
    first = rf"\s{page}" if page else r"\s\d{1,7}(?!,\s*(?:1[5-9]|20)\d\d\b)"  # not "SEPTEMBER 30, 2022 1–3 (2022)"
    shown = re.sub(rf"({first}),\s*(?:at\s+)?\*?\d[\d–\-,\s&n.*]*?(?=\s*\()", r"\1", shown, count=1)
    return shown[:_SHOWN]


def _explanatory(inner: str) -> bool:
    """A parenthetical that explains, quotes, names an opinion or gives this citation's own pin ("manuscript at 12"),
    not one that dates or places the work."""
    if _IDENTIFIES.match(inner):
        return False
    return not inner or inner[0].islower() or inner[0] in "“\"‘'[" or is_opinion(inner)


def with_pin(authority: str, pin: str | None, opinion: str | None, first_page: re.Pattern[str] | None = None,
              own_pin: re.Pattern[str] | None = None) -> str:
    """Return the authority with this occurrence's pin ("602 U.S. 680, 717 (2024)") and opinion. A work without a
    volume and first page (a book, a statute) prints its pin where the other's stood: "GAME THEORY 365
    (2013)" at 370 is "GAME THEORY 370 (2013)"; "5 U.S.C. § 553" at § 553(b) is "5 U.S.C. § 553(b)"; a
    document about a case where its own page stood ("Transcript … at 28, Case, 600 U.S. 181")."""
    shown = authority
    if pin and pin.startswith("manuscript"):  # a draft's own pages: "(forthcoming 2025) (manuscript at 46)"
        shown = f"{shown} ({pin})"
        return f"{shown} ({opinion})" if opinion else shown
    if own_pin:
        printed = own_pin.search(shown) if pin else None
        if printed and pin:
            shown = f"{shown[: printed.start('pin')]}{pin}{shown[printed.end('pin'):]}"
        elif pin:
            shown = f"{shown}, {'at ' if pin[0].isdigit() else ''}{pin}"
        return f"{shown} ({opinion})" if opinion else shown
    printed = _BOOK_PIN.search(shown) if pin and not first_page else None
    if printed and pin and (pin[0].isdigit() == printed.group("pin")[0].isdigit()):
        shown = f"{shown[: printed.start('pin')]}{pin}{shown[printed.end('pin'):]}"
    elif pin:
        page = pin[0].isdigit() or pin[0] == "*"  # a page ("717") or a star page ("*8"), not "¶ 4" or "§ 2"
        at = first_page.search(shown) if page and first_page else None  # after the first page
        pin = f"at {pin}" if pin[0] == "*" else pin
        if at:
            shown = f"{shown[: at.end()]}, {pin}{shown[at.end():]}"
        else:
            shown = f"{shown}, {'at ' if page and pin[0] != 'a' else ''}{pin}"
    return f"{shown} ({opinion})" if opinion else shown
