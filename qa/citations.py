"""Find the citations in one footnote: full citations, "Id.", "supra note N", case short forms, "[hereinafter X]".

The first of two steps (as freelawproject/eyecite does it): ``find`` reads one note's text and hands
``cite.resolve_footnotes`` a list of ``Found`` records in reading order; resolving each back-reference to
its antecedent is the second step. Nothing here looks at another note.

A note is cut into citation clauses at ";" and at a sentence that starts a new citation, never inside
parentheses, brackets or quotation marks. Citations inside a parenthetical ("(quoting X)", "(citing X)")
are found too, marked ``nested``: a short form may point at them, an "Id." may not (Bluebook R4.1).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from qa.names import FIRM, PROSE_NAME, case_name_start, name_after_prose, reads_as_prose

# Signals that may open a citation clause: "See", "See also", "Cf.", "E.g.,", "See, e.g.,", "But see", …
_SIGNAL = re.compile(
    r"^(?:(?:(?:see(?:\s+also|\s+generally)?|compare|accord|contra|but(?:\s+see)?|and|with|also|quoting|citing|"
    r"inter\s+alia|for\s+example|for\s+instance)\b|cf\.|but\s+cf\.|e\.\s?g\.)\s*,?\s*)+",
    re.IGNORECASE)  # whole words: "Anderson" is no "And"
# Volume, reporter (or journal), first page: "141 S. Ct. 2063", "35 Ecology L.Q. 1", "84 F.4th 378".
_WORD = r"[A-Z][\w.’'&]*(?:-[\w.’'&]+)*"  # "F.4th", "CHI.-KENT"
_REPORTER = rf"(?:{_WORD}|\d+(?:d|th|st|nd|rd)\.?|&|of|in|on)"  # "Yale J. on Reg."
# a volume is no part of a number ("5,000 YEARS 129": a title's number, then a book's page), a first page starts no range
# ("28 U.S.C. 351–364" in a title)
_VOLUME_PAGE = re.compile(rf"(?<!\d[,.])(?<![–-])\b(?P<vol>[1-9]\d{{0,3}})\s+(?P<rep>{_WORD}(?:\s+{_REPORTER})*?)"
                          r"\s+(?P<page>\d{1,7})\b(?![–-]\w)")
_SHORT = re.compile(rf"^(?:(?P<name>[^,;()]{{1,80}}?{FIRM}),\s+)?(?P<vol>\d{{1,4}})\s+(?P<rep>{_WORD}(?:\s+{_REPORTER})*?)"
                    r"\s+at\s+(?P<pin>[^(;]+)")
# a short form that prints a page range where "at" and a pin stand ("See 54 F.4th 342–43", "Texas v. Yellen, 105
# F.4th 763–67"): no date follows it
_SHORT_RANGE = re.compile(rf"^(?:(?P<name>[^,;()]{{1,80}}?{FIRM}),\s+)?(?P<vol>\d{{1,4}})\s+(?P<rep>{_WORD}(?:\s+{_REPORTER})*?)"
                          r"\s+(?P<pin>\d{1,7}[–-]\d{1,7})(?=\s*[.,]?\s*$|\.\s+[A-Z“])")
_ID = re.compile(r"^id\.\s*(?P<pin>§+\s*[\w.:–-]+(?:\(\w{1,4}\))*|[^(;]*)", re.IGNORECASE)
_SUPRA = re.compile(r"\bsupra\b(?:\s+notes?\s+(?P<note>\d{1,6})(?:[–-]\d+)?)?,?\s*(?P<pin>[^(;]*)", re.IGNORECASE)
_HEREINAFTER = re.compile(r"[\[(]\s*hereinafter,?\s+(?P<name>(?:[^\[\]()]|\([^()]{0,40}\)){1,120}?)\s*[\])]",
                          re.IGNORECASE)  # "[hereinafter Kim (2023)]"
_OPINION = re.compile(r"^(?:[\w.’' -]+,\s+(?:C\.\s?)?J+\.,?\s+(?:concurring|dissenting)[^)]*|(?:majority|plurality|lead|"
                      r"principal|controlling)\s+opinion|opinion\s+of\s+[^)]+|per\s+curiam)$", re.IGNORECASE)
# What makes a clause a citation and not prose: a reporter cite, a year in parentheses, a section, a link.
_CITATION_LIKE = re.compile(r"\d{1,4}\s+[A-Z][\w.’'&]*(?:\s+\S+){0,6}?\s+\d+|\((?:[^()]*\s)?(?:(?:1[5-9]|20)\d\d[–-])?"
                            r"(?:1[5-9]\d\d|20\d\d)\)|§|"
                            r"https?://|\bNo\.\s*\d|\bU\.N\. Doc\b|\bart\.\s*\d|¶|,\s+at\s+\d|"
                            r",”?\s+accessed(?:\s+on)?\s+[A-Z][a-z]+\.?\s+\d{1,2},\s+(?:19|20)\d\d\b")  # a web page's
# A sentence inside a note that starts a new citation ("… (1992). See id. at 5.").
_NEW_SENTENCE = re.compile(r"(?:(?:see|but|compare|accord|contra|ibid|for\s+example,\s+see)\b|cf\.|e\.g\.|id\.)",
                           re.IGNORECASE)
_DOCUMENT_ABOUT_A_CASE = re.compile(r"\b(?:brief|reply|petition|motion|transcript|oral\s+argument|complaint|memorandum|"
                                    r"appendix|letter|amicus|recent\s+case)\b", re.IGNORECASE)
# ("Recent Case, Baker v. …, 84 F.4th 378 (5th Cir. 2023), 137 HARV. L. REV. 2408 (2024)": a student's comment on it)
_PIN_PART = (r"(?:\*?\d[\w–\-:]*|[ivxlc]+(?:[–-][ivxlc]+)?\b|§+\s*[\w.:()–\-]+|¶+\s*[\w.–\-]+|(?:arts?|ch|pt|para|cmt|r)\.\s*"
             r"[\w.–\-]+|nn?\.\s*\d[\d–\-]*)")
_PIN_SHAPE = re.compile(rf"(?:at\s+)?{_PIN_PART}(?:(?:\s*,\s*|\s*&\s*|\s+){_PIN_PART})*", re.IGNORECASE)
# where prose ends before a citation: a signal, a sentence ending in a lower-case word ("a fire. Keller …"), a
# quotation's last word ("… in the State.” Letter from …") or a year ("… in May of 2023. Judicial Conference …"), not
# a colon (titles have them)
_SIGNAL_WORD = r"(?:[Ss]ee(?:\s+also|\s+generally)?|[Cc]f\.|[Aa]ccord|[Ee]\.g\.,)"  # as set, not "SEE" in a title
_ABBREVIATION = r"(?:rel|seq|etc|supp|cert|app|cmt|eds|trans|art|sec|ann|rev|stat|cong|sess|reg)\."  # "ex rel. Barez"
_PROSE_END = re.compile(rf"(?:(?<![A-Za-z])(?!{_ABBREVIATION})[a-z]{{3,}}[.!?][’'”\"]{{0,3}}|(?<![A-Za-z])[A-Za-z][a-z]{{2,}}"
                        rf"[.!?][’”\"]{{1,3}}|\b(?:1[5-9]|20)\d\d\.)\s+(?=[A-Z“])|(?:^|\s){_SIGNAL_WORD}\s+")
_DATE = re.compile(r"\((?:[^()]*\s)?(?:(?:1[5-9]|20)\d\d[–-])?(?:1[5-9]\d\d|20\d\d)\)")  # "(… eds., 1915-1918)"
_DATED = re.compile(rf"{_DATE.pattern}|https?://")
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_ANOTHER = re.compile(r",?\s+(?:and|with)\s+(?=[A-Z])")
# a decision's later (or earlier) history with its own reporter cite: "…, aff’d 928 F.2d 646", "aff’d sub nom. Beare
# v. Briscoe, 498 F.2d 244"
_HISTORY = re.compile(rf"\b(?:aff[’']d|rev[’']d|aff[’']g|rev[’']g|vacated|modified)(?:\s+in\s+part)?(?:\s+sub\s+nom\.,?\s+"
                      rf"(?P<name>(?:[^,()]|,\s+(?=(?:Inc|Co|Corp|Ltd|LLC|LLP|L\.P)\b)){{1,120}}?))?,?\s+(?P<vol>[1-9]\d{{0,3}})\s+(?P<rep>{_WORD}(?:\s+{_REPORTER})*?)\s+"
                      r"(?P<page>\d{1,7})\b(?![–-]\w)")
# a chapter's first page: "Folk Tort Law, in RESEARCH HANDBOOK ON PRIVATE LAW THEORY 338 (eds., 2020)"
_CHAPTER = re.compile(r",\s+in\s+[A-Z][^()]*?\s(?P<page>\d{1,5})(?=(?:,\s*\d[\d–\-]*)?\s*\()")
# a statute's short form: "Pub. L. No. 111-31, § 3, 123 Stat. at 1781", "ch. 675, § 505, 52 Stat. at 1052"
_STATUTE_SHORT = re.compile(rf"^(?P<name>(?:ch\.|Pub\.\s*L\.\s*No\.)\s*\d[\d-]*)(?:,\s*(?:§+|sec\.)\s*[\w.()–-]+)?,\s+"
                            rf"(?P<vol>\d{{1,4}})\s+(?P<rep>{_WORD}(?:\s+{_REPORTER})*?)\s+at\s+(?P<pin>[^(;]+)", re.IGNORECASE)
# after an unclosed parenthesis, a semicolon and a signal start a new citation: "(quoting X (8th Cir. 2010); see also Y"
_SIGNAL_AFTER = re.compile(r"\s+(?:[Ss]ee|[Cc]f\.|[Bb]ut\s+see|[Aa]ccord|[Cc]ontra|[Cc]ompare)\b")
_AT_PIN = re.compile(r"\sat\s+\*?\d")  # a short form's pin: "Levine, 555 U.S. at 565"
_DOCKET = re.compile(r"No\.\s*\S+")  # "No. 3:23-0058": a docket number, no case name
# "Id., 34 F.4th at 847": the volume and reporter repeated before the pin
_REPEATED = re.compile(rf"^\s*,?\s*\d{{1,4}}\s+{_WORD}(?:\s+{_REPORTER})*?\s+(?=at\s)")
_OPEN, _CLOSE = "([“", ")]”"


@dataclass(frozen=True)
class Found:
    """One citation in a note: where it is, what kind, and the parts a resolver needs."""

    kind: str  # "full" | "id" | "supra" | "short" | "text" (a clause that cites nothing found: prose, a bare name)
    start: int
    end: int
    text: str  # the clause without its signal (for "full": the citation as printed, with its parentheticals)
    name: str = ""  # the author or short title before "supra", the case name of a short form or full citation
    note: int | None = None  # "supra note N"
    volume: str | None = None
    reporter: str | None = None  # folded: "s.ct."
    page: int | None = None  # a full citation's first page (a chapter's in its book)
    pin: str | None = None  # "at 717" → "717"; "¶ 76", "§ 1:25", "art. 32"; a full citation's after its first page
    opinion: str | None = None  # "Kavanaugh, J., concurring", "majority opinion"
    nested: bool = False  # inside another citation's parenthetical: never what an "Id." points to
    history: bool = False  # the decision as another citation's history cites it ("…, aff’d 928 F.2d 646")
    defines: tuple[str, ...] = ()  # "[hereinafter X]" names given to this citation
    named_by_text: bool = False  # ``name`` is the case the body text names at the note's marker, not printed here


def find(text: str) -> list[Found]:
    """Return the citations of one note's text, in reading order (nested ones after their clause)."""
    out: list[Found] = []
    for start, end in _clauses(text):
        out.extend(_read_clause(text, start, end, nested=False))
    return out


def is_opinion(parenthetical: str) -> bool:
    """Return whether a parenthetical names an opinion ("Kavanaugh, J., concurring", "majority opinion")."""
    return bool(_OPINION.match(parenthetical))


def is_about_a_case(name: str) -> bool:
    """Return whether a citation's head names a document about a case (a brief, a petition, "Environmental
    Respondents' Brief at 20, Seven Cnty."), not the case: a "In re Petition of X" is left unresolved."""
    return bool(_DOCUMENT_ABOUT_A_CASE.search(name.strip()))


def pin_page(pin: str | None) -> int | None:
    """Return the first page of a pin cite ("1028–29" → 1028), or None for "¶ 4", "§ 2", none."""
    m = re.match(r"(?:at\s+)?(\d{1,5})\b(?!\s*[A-Za-z]{2})", pin or "")
    return int(m.group(1)) if m else None


def _clauses(text: str) -> list[tuple[int, int]]:
    """Cut a note into citation clauses: at ";" and where a new citation sentence starts, at depth 0."""
    cuts, opened, i = [0], [], 0  # opened: the parentheses and quotations open at i
    closing = _closing_after(text)
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            opened.append(ch)
        elif ch in _CLOSE:
            if ch == ")" and "(" in opened:  # a parenthesis closes the quotations opened in it and never closed
                del opened[len(opened) - 1 - opened[::-1].index("("):]  # ("… certain “foreign …, observing …”);")
            elif opened:
                opened.pop()
            if not opened and ch == ")" and _ANOTHER.match(text, i + 1) and (
                    _YEAR.search(text, cuts[-1], i) or _AT_PIN.search(text, cuts[-1], i)
                    or _ID.match(_strip_signal(text[cuts[-1]: i]))):
                # "Compare A (2023), and B (2021), with C", "A (1996) (discussing …), with B", "X 122 (2005) and Y",
                # "Compare Levine, 555 U.S. at 565 (…), with Riegel", "Compare id. (noting …), with Baker"; not "(IIAs)
                # and" in a title before the work's date
                cuts.append(i + 1)
            elif not opened and ch == "”" and text[i - 1: i] in ".!?" and _NEW_SENTENCE.match(text, i + 2) \
                    and text[i + 1: i + 2] == " ":
                cuts.append(i + 1)  # a quotation ends a sentence: "… a far more demanding test.” Id. at 248"
            elif not opened and ch == "”" and text[i - 1: i] == ";":
                cuts.append(i + 1)  # a title quoted with the semicolon inside: "TMC, “… for NORI;” and TMC, “…”"
        elif not opened and (ch == ";" or (ch == "." and _sentence_ends(text, i))):
            cuts.append(i + 1)
        elif opened and ch == "." and text[i - 1: i] in ")”" and closing[i] < len(opened) and _sentence_ends(text, i):
            opened = []  # a parenthesis the note never closes ends with its sentence: "(analyzing … (quoting 21 U.S.C.
            cuts.append(i + 1)  # § 360k(a)(1)). For more information …, see CRS Report R45825 …"
        elif opened and ch == ";" and closing[i] < len(opened) and _SIGNAL_AFTER.match(text, i + 1):
            opened = []  # or with a semicolon and a signal: "(quoting In re Medtronic …, 623 F.3d 1200, 1204 (8th Cir.
            cuts.append(i + 1)  # 2010); see also Hughes v. Boston Sci. Corp., 631 F.3d 762 …"
        i += 1
    cuts.append(len(text))
    spans = []
    for cut, next_cut in itertools.pairwise(cuts):
        a, b = cut, next_cut
        while a < b and text[a] in " ;.,":
            a += 1
        while b > a and text[b - 1] in " ;":
            b -= 1
        if b > a:
            spans.append((a, b))
    return spans


def _closing_after(text: str) -> list[int]:
    """For each position, how many more parentheses and quotations the rest of the note closes than it opens:
    fewer than are open there, and one of them is never closed (one pass, so a long note costs no more)."""
    out = [0] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        out[i] = out[i + 1] + (1 if ch in _CLOSE else -1 if ch in _OPEN else 0)
    return out


def _sentence_ends(text: str, i: int) -> bool:
    """Whether the period at i ends a citation sentence: a new citation follows ("… (1992). See id."), a
    capital after a closing parenthesis, quotation mark or "Id." ("See id. Professor Hansford's …"), or a
    sentence after a pin ("… 145 S. Ct. at 1508. As detailed by …")."""
    if text[i + 1: i + 2] != " ":
        return False
    if _NEW_SENTENCE.match(text, i + 2):
        return True
    if text[i - 1: i].isdigit() and re.match(r"[A-Z][a-z]+\s+[a-z]", text[i + 2: i + 40]):
        return True
    return text[i + 2: i + 3].isupper() and (
        text[i - 1: i] in ")]”\"" or bool(re.search(r"(?:^|[\s(])id$", text[max(0, i - 3): i], re.IGNORECASE)))


def _parentheticals(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Return the (start, end) of the top-level (...) groups of text[start:end], brackets excluded."""
    out, depth, opened = [], 0, 0
    for i in range(start, end):
        if text[i] == "(":
            if depth == 0:
                opened = i
            depth += 1
        elif text[i] == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((opened, i + 1))
    return out


def _read_clause(text: str, start: int, end: int, nested: bool) -> list[Found]:
    clause = text[start:end]
    lead = _SIGNAL.match(clause)
    head = start + (lead.end() if lead else 0)
    groups = _parentheticals(text, head, end)
    bare_end = groups[0][0] if groups else end  # the clause before its first parenthetical
    opinion = next((o for o in (text[a + 1: b - 1].strip() for a, b in groups) if _OPINION.match(o)), None)
    body = text[head:end]
    out: list[Found] = []
    if not _ID.match(body) and (lead_in := _id_after_prose(text, head, end, groups)):
        return _read_clause(text, head + lead_in, end, nested)  # "For broader histories, see generally id."
    after_prose = _short_after_prose(text, head, end, groups)
    if m := _ID.match(body):
        pin_end = head + m.end("pin") if m.group("pin").startswith("§") else min(bare_end, head + m.end("pin"))
        pin = _clean_pin(text[head + m.start("pin"): pin_end])  # "§ 12112(b)(5)" keeps its parentheses
        out.append(Found("id", head, end, body, pin=pin or _manuscript_pin(text, groups), opinion=opinion, nested=nested))
    elif sup := _supra_in(text, head, end, groups):
        name_start, at, s = sup
        note = int(s.group("note")) if s.group("note") else None
        out.append(Found("supra", name_start, end, text[name_start:end], name=text[name_start: at].strip(" ,"),
                         note=note, pin=_clean_pin(s.group("pin")) or _manuscript_pin(text, groups), opinion=opinion,
                         nested=nested))
    elif sh := _SHORT.match(body):
        out.append(Found("short", head, end, body, name=name_after_prose(_strip_signal(sh.group("name") or "")),
                         volume=sh.group("vol"),
                         reporter=_reporter_key(sh.group("rep")), pin=_clean_pin(sh.group("pin")), opinion=opinion,
                         nested=nested))
    elif statute := _STATUTE_SHORT.match(body):  # "Pub. L. No. 111-31, § 3, 123 Stat. at 1781"
        out.append(Found("short", head, end, body, name=statute.group("name"), volume=statute.group("vol"),
                         reporter=_reporter_key(statute.group("rep")), pin=_clean_pin(statute.group("pin")), nested=nested))
    elif ranged := _SHORT_RANGE.match(body):  # "See 54 F.4th 342–43": a range is no first page, but a pin
        out.append(Found("short", head, end, body, name=_strip_signal(ranged.group("name") or ""), volume=ranged.group("vol"),
                         reporter=_reporter_key(ranged.group("rep")), pin=ranged.group("pin"), opinion=opinion,
                         nested=nested))
    elif after_prose is not None:
        at, sh = after_prose
        own = next((o for o in (text[a + 1: b - 1].strip() for a, b in groups if a > at) if _OPINION.match(o)), None)
        out.append(Found("short", at, end, text[at:end], name=(sh.group("name") or "").strip(), volume=sh.group("vol"),
                         reporter=_reporter_key(sh.group("rep")), pin=_clean_pin(sh.group("pin")), opinion=own,
                         nested=nested))
    else:
        full = _full(text, head, end, groups, nested, opinion)
        out.append(full)
        out.extend(_history(full))
    for a, b in groups if not nested else ():  # citations quoted or cited inside a parenthetical (one level)
        inner = text[a + 1: b - 1]
        if re.match(r"\s*hereinafter\b", inner, re.IGNORECASE):
            continue  # the name given to this citation: "(hereinafter NOAA, “…,” 82 Federal Register 42327)"
        if _VOLUME_PAGE.search(inner) or _HEREINAFTER.search(inner):
            for ia, ib in _clauses(inner):
                found = _read_clause(text, a + 1 + ia, a + 1 + ib, nested=True)
                # a cited work's own citations; of its back-references only those naming an author or title:
                # a short form there already names its case, volume and reporter
                out.extend(f for f in found if f.kind in ("full", "supra"))
        elif out and out[0].kind == "text":  # prose citing a work by a name it was given: "… over time” (EPA
            out.append(Found("text", a + 1, b - 1, inner, nested=True))  # Inventory, p. 3-6)"
    return out


def _id_after_prose(text: str, head: int, end: int, groups: list[tuple[int, int]]) -> int:
    """Where an "Id." starts that prose leads into ("For broader histories, see generally id."), when nothing like a
    citation comes before it in the clause ("Compare X, 24 FCC Rcd at 9558 (…) with, e.g., id." is not that); 0 when
    there is none."""
    outside = _blanked(text, head, end, groups)
    lead = _citation_start(outside)
    before = outside[:lead]
    if lead and _ID.match(text[head + lead: end]) and not (_CITATION_LIKE.search(before) or _DATED.search(before)):
        return lead
    return 0


def _manuscript_pin(text: str, groups: list[tuple[int, int]]) -> str | None:
    """A pin a clause gives in a parenthetical ("Id. (manuscript at 46)", "Starr, supra note 14 (manuscript at
    45–46)"): "manuscript at 46"; None when there is none."""
    for a, b in groups:
        m = re.match(r"manuscript\s+at\s+(.+)$", text[a + 1: b - 1].strip())
        if m and (pin := _clean_pin(m.group(1))):
            return f"manuscript at {pin}"
    return None


def _blanked(text: str, start: int, end: int, groups: list[tuple[int, int]]) -> str:
    """text[start:end] with its parentheticals blanked (same length, so offsets hold)."""
    out = text[start:end]
    for a, b in reversed(groups):
        out = out[: a - start] + " " * (b - a) + out[b - start:]
    return out


def _short_after_prose(text: str, head: int, end: int, groups: list[tuple[int, int]]) -> tuple[int, re.Match[str]] | None:
    """A short form ending a prose clause ("… not the boardroom.” SFFA, 600 U.S. at 411"): where it starts, and its
    match; None when the clause opens with its citation or holds none."""
    outside = _blanked(text, head, end, groups)
    at = re.search(rf"\b\d{{1,4}}\s+{_WORD}(?:\s+{_REPORTER})*?\s+at\s+\d", outside)
    if not at:
        return None
    lead = _citation_start(outside[: at.start()])
    if not lead:  # "Similarly, in Common Cause, 243 F. Supp. at 1322, the court …": the capitalized name before it
        name = PROSE_NAME.search(outside[: at.start()])
        lead = name.start("name") if name and name.start("name") else 0
    short = _SHORT.match(text[head + lead: end]) if lead else None
    return (head + lead, short) if short else None


def _supra_in(text: str, head: int, end: int, groups: list[tuple[int, int]]) -> tuple[int, int, re.Match[str]] | None:
    """Where "supra" sits in a clause, outside its parentheticals ("Kim (2023), supra note 177, at 323"): the start
    of the name before it, of "supra", and the match (on the clause with its parentheticals blanked)."""
    s = _SUPRA.search(_blanked(text, head, end, groups))
    at = head + s.start() if s else end
    if s and any(a < at for a, _ in groups) and re.search(r"\d|https?:", _blanked(text, head, at, groups)):
        return None  # after a citation's parentheticals ("Smith, Title 5 (2000), cited in Doe, supra"): not its name
    if not s or not text[head: at].strip(" ,") or not text[head: at].rstrip().endswith(","):
        return None  # "See supra note 5", "as discussed supra in Part II": a cross-reference, not "Name, supra"
    before = text[head: at]
    # in a prose clause the name starts after its last signal ("…, see generally Fiduciaries of Humanity, supra")
    starts = list(re.finditer(rf"(?:^|\s){_SIGNAL_WORD}\s+|[a-z’']{{4}}[.:][”’\"]?\s+(?=[A-Z“])", before))
    name_start = head + (starts[-1].end() if starts else 0)
    return name_start, at, s


def _full(text: str, head: int, end: int, groups: list[tuple[int, int]], nested: bool, opinion: str | None) -> Found:
    body = text[head:end]
    defines = tuple(m.group("name").strip(" “”\"") for m in _HEREINAFTER.finditer(body)
                    if not any(a < head + m.start() < b for a, b in groups))  # not one of a cited work's
    outside = _blanked(text, head, end, groups)  # the reporter cite outside parentheticals
    vp = _VOLUME_PAGE.search(outside)
    dated = _DATED.search(body)  # in the text as printed: ``outside`` has its parentheses blanked
    like = _CITATION_LIKE.search(body)
    year = _DATE.search(body)  # a date, not only a link: "… submit such complaints through the Commission's website:
    if not (vp or defines or like) or (not (vp or year or defines) and like and reads_as_prose(outside[: like.start()])):
        return Found("text", head, end, body, nested=nested)  # http://…" is prose), or prose that names a "§ 706" (not
        # "21 U.S.C. § 343-1 notes. The savings clause is not codified …": a citation, then prose)
    anchor = vp.start() if vp else dated.start() if dated else 0
    lead = _citation_start(outside[:anchor])
    if vp:
        lead = case_name_start(outside, lead, vp.start())
    if _ID.match(body[lead:]):  # prose, then an "Id." the cuts did not see: never a work of its own
        return Found("text", head, end, body, nested=nested)
    name = body[lead: vp.start()].strip(" ,") if vp else ""  # with an alias: "Ping v. United States (The Chinese …)"
    name = "" if _DOCKET.fullmatch(name) else name  # "No. 3:23-0058, 2023 WL 5490179": named by the text, if at all
    if vp and re.search(r"[.!?][”’\"]?\s+$", outside[lead: vp.start()]):
        lead = vp.start()  # "… in Texas v. Yellen in June 2024. 105 F.4th 755 (5th Cir. 2024)": the prose names the
        # case (kept for the short forms naming it), the citation is the reporter's alone
    chapter = None if vp else _CHAPTER.search(body, lead)
    page = int(vp.group("page")) if vp else int(chapter.group("page")) if chapter else None
    after = re.match(r",\s*((?:at\s+)?\*?\d[^(;]*)", outside[vp.end():]) if vp else None
    pin = _clean_pin(after.group(1)) if after else None  # its own pin: "…, 2022 Cal. Super. LEXIS 1969, at *4"
    return Found("full", head + lead, end, body[lead:], name=name, volume=vp.group("vol") if vp else None,
                 reporter=_reporter_key(vp.group("rep")) if vp else None, page=page, pin=pin,
                 opinion=opinion, nested=nested, defines=defines)


def _history(full: Found) -> list[Found]:
    """The same decision as its history cites it ("Hoffman v. Maryland, 736 F. Supp. 83 (D. Md. 1990), aff’d 928 F.2d
    646 (4th Cir. 1991)"): the whole citation again, under the history's reporter cite and name, marked nested (no
    "Id." points to it; a short form "Hoffman, 928 F.2d at 647" does). A history under a name of its own ("aff’d sub
    nom. Beare v. Briscoe, 498 F.2d 244 (5th Cir. 1974)") is a citation by itself: that name to its date."""
    if full.kind != "full" or full.volume is None:
        return []
    out = []
    for h in _HISTORY.finditer(_blanked(full.text, 0, len(full.text), _parentheticals(full.text, 0, len(full.text)))):
        text = full.text
        if h.group("name"):
            date = re.compile(r"\s*\([^()]*\)").match(full.text, h.end())
            text = full.text[h.start("name"): date.end() if date else len(full.text)]
        out.append(Found("full", full.start, full.end, text, name=(h.group("name") or full.name).strip(),
                         volume=h.group("vol"), reporter=_reporter_key(h.group("rep")), page=int(h.group("page")),
                         nested=True, history=True))
    return out


def _citation_start(before: str) -> int:
    """Where a citation starts in a clause that opens with prose ("Steele cited one case. Keller v. …"):
    after the last signal or sentence end before its reporter or date; 0 when there is none."""
    cuts = list(_PROSE_END.finditer(before))
    return cuts[-1].end() if cuts else 0


def _reporter_key(rep: str) -> str:
    return re.sub(r"\s+", "", rep).lower().rstrip(".")  # "F. Supp. 2d." as "F. Supp. 2d"


def _strip_signal(name: str) -> str:
    m = _SIGNAL.match(name)
    return name[m.end():].strip() if m else name.strip()


def _clean_pin(raw: str | None) -> str | None:
    """A pin cite as printed without "at" ("717", "¶ 76", "§ 1:25", "207 n.3", "2, 7–8"), or None where what
    follows is no pin; prose after it ("at 37. RFID is …", "at 850–51, and courts' …") is left out."""
    m = _PIN_SHAPE.match(_REPEATED.sub("", raw or "").strip(" ,.;"))
    pin = m.group(0).strip(" ,&") if m else ""
    return re.sub(r"^at\s*", "", pin) or None


# an author–title short form: "Camp et al., “Automotive Dealerships 2007-19.”", "USDA NASS, Quick Stats.", after prose
# and a signal ("For demonstration …, see Havlin, “…”"); several in one list ("see A, Form 10-K; and B, Form 10-K")
_LAST_SIGNAL = re.compile(r"(?:^|\s)(?:[Ss]ee(?:\s+also)?|[Ff]or\s+example,?)\s+")
_HEAD_WORD = re.compile(r"^(?:[A-Z][\w.’'&-]*|et|al\.?|and|&|of|the|de|van|von)$")
_HEAD_WORDS = 8  # an author or agency is no longer than this


def short_titles(clause: Found) -> list[tuple[int, int, str, str]]:
    """Return the author–title short forms a clause that cites nothing found reads as ("Camp et al., “Automotive
    Dealerships 2007-19.”"): each as (start, end, head, title), where the head is a name (capitalized words, "et
    al.") and the title what follows its comma, unquoted; [] for prose or a bare name."""
    text = clause.text
    signals = list(_LAST_SIGNAL.finditer(text))
    at = signals[-1].end() if signals else 0  # prose before the last signal is no part of it
    body = re.sub(r"[,”\"]*\s+respectively\s*$", "", text[at:])
    out = []
    for m in re.finditer(r"[^;]+", body):
        part = re.sub(r"^\s*and\s+", "", m.group())
        if part.count("(") != part.count(")"):  # runs into or out of a parenthetical: a sentence, not one citation
            continue
        head, comma, title = part.partition(", ")
        words = head.split()
        title = title.strip().strip("“”\"").rstrip(".,”").strip().strip("“”")
        if not comma or not words or len(words) > _HEAD_WORDS or not all(_HEAD_WORD.match(w) for w in words) \
                or len(title.split()) < 2:
            continue
        start = clause.start + at + m.start() + m.group().index(head)
        out.append((start, clause.start + at + m.end(), head, title))
    return out
