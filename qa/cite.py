"""Citations: resolve "Ibid." / "Id." / "supra note N" / "op. cit." footnotes, and turn a hit's markers into citations.

``resolve_footnotes`` runs at parse time (each note learns the full reference it
points to, or is marked unresolved: we never guess); ``citations`` finds a note's
citations, ``authority`` prints a resolved one with its pin. ``citations_for`` runs at
search time and hands the UI and CLI what to show under a passage.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from qa.authority import DATED, authority_text, with_pin
from qa.citations import Found, find, is_about_a_case, pin_page, short_titles
from qa.names import case_named_before, fold, initials, name_after_prose, names_match, names_title, several_authors
from qa.records import Citation, Footnote, Marker, Paragraph, Reference

# "Ibid." / "Ibidem" (other styles than the Bluebook's), German "Ebd." / "Ebda." / "Ebenda" ("Vgl. ebd."): the note
# before, as written.
_IBID = re.compile(r"^\W*(?:(?:see(?:\s+also)?|cf\.|vgl\.)\s+)*(?:ibid(?:em)?|eb(?:d|da|enda))\b\.?", re.IGNORECASE)
_ID = re.compile(r"^\W*(?:(?:see(?:\s+also)?|cf\.|accord|but\s+see|e\.g\.,?)\s+)*id\.", re.IGNORECASE)
_SIGNALED = re.compile(r"^\W*(?:(?:see(?:\s+also)?|cf\.|vgl\.)\s+)+", re.IGNORECASE)  # "Vgl. Braun, a. a. O."
_OP_CIT = re.compile(r"\bop\.?\s*cit\b\.?|(?-i:\b[aA]\.\s?a\.\s?O\.)", re.IGNORECASE)  # German "a.a.O." (am angegebenen Ort)
_AUTHOR_MATCH = 0.8
_PAGES_PER_WORK = 400  # a pin more than this past a work's first page is not in it
_RECENT = 3  # notes before an "Id." whose works its pin is compared with
_PAGED = 1000  # a pin page from here on names no work without a first page (a report, a brief, a book) alone
_CASE = re.compile(r"\sv\.\s|^(?:In\s+re|Ex\s+parte)\b")
_SUPRA_IN = re.compile(r"\bsupra\b|\bid\.\s", re.IGNORECASE)
# a work that has sections: a statute, a code, a regulation, a treatise or restatement printed with one
_SECTIONED = re.compile(r"§|\bsec\.|\bStat\.|U\.S\.C|C\.F\.R|\bCode\b|\bAct\b|\bPub\.\s*L\.|\bch\.\s*\d|Restatement|"
                        r"\bArt(?:icle)?s?\b|\bConst\.|\bRules?\b|\bReg\.", re.IGNORECASE)
_IN_BOOK = re.compile(r"^(?P<chapter>.+?),\s+in\s+(?:(?P<volume>\d{1,3})\s+)?(?P<book>[A-Z].*)$")  # "Title, in 3 BOOK"
_LINK = re.compile(r"\[?https?://\S+")
# what may stand with a hereinafter name as its pin, folded: "p 5", "pp 1100 1102", "table a 233", "annex 6", "3 a i"
_LOCATOR_WORDS = frozenset("at p pp page pages table tables figure fig annex chapter ch section sec para paragraph "
                           "appendix app part pt note n nn and see".split())
_BEFORE_NAME = frozenset({"the", "annex", "preamble", "to"})  # "… of the Annex to the 1994 Agreement"
_LEAD_IN = ("for example", "for instance", "in particular", "see also", "see", "also")  # before a name, folded
_NAME_WORDS = 30  # words of a hereinafter name at most
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_NOTICES = frozenset({"fed.reg", "federalregister"})  # a Federal Register document printed again is the same one
# a work's author before its first comma, with the abbreviation it is given: "United Nations Conference on Trade and
# Development (UNCTAD), “…”"
_AUTHOR_ABBREVIATION = re.compile(r"^(?P<head>[^,()]{2,120}?)(?:\s+\((?P<abbr>[A-Z][A-Z&.-]{1,11})\))?,")
_NEAREST = 100  # full citations of one volume and reporter a short form is compared with: the latest (bounds the work)


@dataclass(frozen=True)
class _Work:
    """An authority cited in full somewhere in the notes."""

    text: str  # as printed, without signal, pin, explanatory parentheticals, hereinafter clause
    note: Marker
    name: str  # what precedes the volume ("Midler v. Ford Motor Co.", "Tribe, Lawrence v. Texas")
    volume: str | None
    reporter: str | None
    page: int | None
    opinion: str | None
    defines: tuple[str, ...]
    history: bool = False  # cited as another decision's history: shown only where no citation of its own is
    named_by_text: bool = False  # its name is the one the body text gives it (a citation by reporter alone)


# an authority an "Id." or short form left ambiguous: an "Id." after it is ambiguous too, not "not found"
_UNDECIDED = _Work(text="", note=0, name="", volume=None, reporter=None, page=None, opinion=None, defines=())


def _known(works: list[_Work | None]) -> list[_Work]:
    """The authorities of a list that were resolved."""
    return [w for w in works if w is not None and w is not _UNDECIDED]


def resolve_footnotes(notes: list[Footnote], before: dict[str, str] | None = None) -> list[Footnote]:
    """Return the notes with their back-references resolved: ibid. (the note before), op. cit. (the latest
    full reference by that author), and for legal citations each "Id.", "supra note N", case short form and
    "[hereinafter X]" name to the authority it refers to, with its own pin; ambiguous ones stay unresolved.
    ``before``: the body text before each note's marker, by marker, which names a case a note cites by reporter
    alone ("In Fulton v. City of Philadelphia," for "141 S. Ct. 1868 (2021)")."""
    out: list[Footnote] = []
    by_number: dict[str, list[_Work]] = {}  # the works cited in full in note N (the latest note N of any series)
    cases: dict[tuple[str, str], list[_Work]] = {}  # full citations by volume and reporter, nested ones too
    named: dict[str, _Work] = {}  # "[hereinafter X]" names
    previous: list[_Work | None] = []  # the authorities of the note before (None: one not resolved)
    recent: list[list[_Work | None]] = []  # the authorities of the last few notes, the latest last
    texts: dict[str, str] = {}  # note N's text (the latest note N of any series)
    for note in notes:
        if _IBID.match(note.text):
            out.append(_point(note, out[-1] if out else None, "ibid"))
            previous = []
        elif _OP_CIT.search(note.text) and not _ID.match(note.text):
            out.append(_point(note, _find_author(note.text, out), "op. cit."))
            previous = []
        else:
            found = _named_in_text(find(note.text), (before or {}).get(str(note.marker), ""))
            resolved, previous, works = _resolve_note(note, found, previous, by_number, cases, named,
                                                      _known([w for ws in recent for w in ws]), texts)
            out.append(resolved)
            by_number[str(note.marker).rsplit(":", 1)[-1]] = works
        texts[str(note.marker).rsplit(":", 1)[-1]] = note.text
        recent = [*recent, previous][-_RECENT:]
    return out


def _named_in_text(found: list[Found], before: str) -> list[Found]:
    """A note's citations, a citation by reporter alone that opens the note named by the case the text before its
    marker names (the name decides between decisions of one volume; the citation shown stays as printed)."""
    if not (found and before and found[0].kind == "full" and found[0].volume and not found[0].name):
        return found
    name = case_named_before(before)
    return [dataclasses.replace(found[0], name=name, named_by_text=True), *found[1:]] if name else found


def _resolve_note(note: Footnote, found: list[Found], previous: list[_Work | None], by_number: dict[str, list[_Work]],
                  cases: dict[tuple[str, str], list[_Work]], named: dict[str, _Work],
                  recent: list[_Work], texts: dict[str, str]) -> tuple[Footnote, list[_Work | None], list[_Work]]:
    """Resolve one note's citations in order; return it, its authorities (for the next "Id.") and its full works.
    ``recent``: the authorities of the last notes, which an "Id."'s pin may fit better than its antecedent."""
    current: list[_Work | None] = []
    works: list[_Work] = []
    refs: list[Reference] = []
    work: _Work | None
    for printed in found:
        f = _named_use(printed, named)
        restated = _restated(f, cases) if f.kind == "full" else None
        if f.kind == "full" and restated is None and (head := _author_with_pin(f)):
            status, work = _by_author(head, [*works, *(w for ws in by_number.values() for w in ws)])
            if status != "not found":  # "UNCTAD, p. 7, https://…": a pin of the one work by that author
                if not f.nested:
                    current.append(_UNDECIDED if status == "ambiguous" else work)
                refs.append(_reference("short", f, status, work))
                continue
        if f.kind == "full" and restated is None:
            full = _work(f, note.marker)
            works.append(full)
            if full.volume and full.reporter:
                cases.setdefault((full.volume, full.reporter), []).append(full)
            for name in full.defines:
                named[fold(name)] = full
            if not f.nested:
                current.append(full)
            continue
        if f.kind == "text" and not _defined_head(f.text, named):
            for start, end, head, title in short_titles(f):  # "Camp et al., “Automotive Dealerships 2007-19.”"
                status, work = _titled(head, title, [*works, *(w for ws in by_number.values() for w in ws)])
                if status != "not found" and not f.nested:
                    current.append(_UNDECIDED if status == "ambiguous" else work)
                if status != "not found":
                    refs.append(_reference("short", dataclasses.replace(f, start=start, end=end, pin=None), status, work))
            continue
        if f.kind == "text":
            work = named.get(_defined_head(f.text, named))
            if work is None:
                continue
            kind, status = "hereinafter", "resolved"
        elif f.kind == "id":
            kind = "id"
            status, work = _antecedent(current[-1:] if current else previous, f.pin)
            if work is not None and _pin_contradicts(work, f.pin, recent + _known(current)):
                status, work = "ambiguous", None
        elif f.kind == "supra":
            kind, status, work = _supra(f, by_number, named, texts, works)
        elif restated is not None:
            kind, status, work = "short", "resolved", restated
        else:
            kind = "short"
            status, work = _short(f, cases)
        if work is not None and work.volume:
            work = _as_cited(work, f.opinion, cases)
        if not f.nested:
            current.append(_UNDECIDED if status == "ambiguous" else work)
        if work is not None:
            works.append(work)  # a later "Name, supra note N" may name it too
        refs.append(_reference(kind, f, status, work))
    return _with_refs(note, refs), current, works


def _antecedent(candidates: list[_Work | None], pin: str | None) -> tuple[str, _Work | None]:
    """The one authority an "Id." can be: the only one before it, or the only one whose pages hold the pin."""
    distinct = list({_decision(w): w for w in candidates}.values())
    if not distinct or distinct == [None]:
        return "not found", None
    if distinct == [_UNDECIDED]:
        return "ambiguous", None
    if len(distinct) == 1:
        return "resolved", distinct[0]
    page = pin_page(pin)
    fits = [w for w in distinct if w is not None and page is not None and _holds(w, page)]
    unknown = [w for w in distinct if w is None or w.page is None or page is None]
    if len(fits) == 1 and not unknown:
        return "resolved", fits[0]
    return "ambiguous", None


def _holds(work: _Work, page: int) -> bool:
    """Return whether a work's pages can hold a pin page: from its first page to _PAGES_PER_WORK after it."""
    return work.page is not None and work.page <= page <= work.page + _PAGES_PER_WORK


def _pin_contradicts(work: _Work, pin: str | None, others: list[_Work]) -> bool:
    """Whether an "Id."'s pin says the authority the rule names is not the one meant, so the "Id." is ambiguous
    (the rule and the evidence conflict): the page cannot be in it — before its first page, or more than
    _PAGES_PER_WORK pages after; or, where it has no first page of its own (a report, a brief, a book), the page has
    four digits and falls in another work of the last notes ("Id. at 2369" after an issue brief, two notes after
    138 S. Ct. 2361); or the pin is a section and it has none: no statute, code, regulation or work printed with
    sections ("Id. § 360e(d)(5)" after an agency's web page)."""
    if pin and pin.startswith("§") and not _SECTIONED.search(work.text):
        return True
    page = pin_page(pin)
    if page is None:
        return False
    if work.page is not None:
        return not _holds(work, page)
    return page >= _PAGED and any(_holds(o, page) and _decision(o) != _decision(work) for o in others)


def _supra(f: Found, by_number: dict[str, list[_Work]], named: dict[str, _Work], texts: dict[str, str],
           here: list[_Work]) -> tuple[str, str, _Work | None]:
    """"Name, supra note N": the work of note N that the name (an author, a short title, a hereinafter name) picks;
    "Name, supra" without a number: a hereinafter name, else the one work the name fits in this note before it, else
    the one it fits in the notes before (``here``: the works this note has cited so far)."""
    if f.note is None:
        work = named.get(fold(f.name))
        if work:
            return "hereinafter", "resolved", work
        for pool in (here, [w for ws in by_number.values() for w in ws]):
            fit = _distinct([w for w in pool if not _SUPRA_IN.search(w.text) and names_match(f.name, _LINK.sub(" ", w.text))])
            if fit:
                return ("supra", "resolved", fit[0]) if len(fit) == 1 else ("supra", "ambiguous", None)
        return "supra", "not found", None
    works = by_number.get(str(f.note), [])
    defined = _distinct([w for w in works if any(names_match(d, f.name) or names_match(f.name, d) for d in w.defines)])
    if len(defined) == 1:
        return "hereinafter", "resolved", defined[0]
    by_name = _distinct([w for w in works if names_match(f.name, _LINK.sub(" ", w.text))]) or _distinct(  # not in a URL
        [w for w in works if names_match(name_after_prose(f.name), _LINK.sub(" ", w.text))])  # "… discussed in Hemel"
    cited_there = [w for w in by_name if str(w.note).rsplit(":", 1)[-1] == str(f.note)]
    if len(by_name) == 1 or len(cited_there) == 1:  # the work cited in full in note N before one it only refers to
        return "supra", "resolved", (cited_there or by_name)[0]
    if re.search(r"\bet\s+al\b", f.name) and len(several := [w for w in by_name if several_authors(w.text)]) == 1:
        return "supra", "resolved", several[0]  # "Klein et al.": not Klein's article of his own
    if not by_name and not defined and (work := _chapter_in(f, works)) is not None:
        return "supra", "resolved", work
    if not by_name and not defined and (work := _misprinted(f, by_number, texts)) is not None:
        return "supra", "resolved", work
    return "supra", ("ambiguous" if len(by_name) > 1 or len(defined) > 1 else "not found"), None


def _titled(head: str, title: str, pool: list[_Work]) -> tuple[str, _Work | None]:
    """An author–title short form ("Zettelmeyer et al., Scarcity Rents in Car Retailing"): the one work cited in full
    before it whose author the head names and whose title starts with the title; "ambiguous" when several are,
    "not found" when none is (a work never cited in full, a section of the document)."""
    fit = _distinct([w for w in pool if not w.volume and not _SUPRA_IN.search(w.text)
                     and names_title(head, title, _LINK.sub(" ", w.text))])
    if not fit:
        return "not found", None
    return ("resolved", fit[0]) if len(fit) == 1 else ("ambiguous", None)


def _author_with_pin(f: Found) -> str:
    """The author a citation names with nothing but a pin and a link ("UNCTAD, p. 7, https://…"), folded; "" for
    a citation of its own (with a title, a date, a reporter)."""
    if f.volume or f.nested or f.defines or _YEAR.search(_LINK.sub(" ", f.text)):
        return ""
    head, comma, rest = _LINK.sub(" ", f.text).partition(",")
    words = fold(rest).split()
    return fold(head) if comma and words and _is_locator(words) and re.fullmatch(r"[A-Z][A-Z&.-]{1,11}", head.strip()) \
        else ""


def _by_author(head: str, pool: list[_Work]) -> tuple[str, _Work | None]:
    """An author's abbreviation with a pin ("UNCTAD, p. 7"): the one work cited before whose author it is, given in
    parentheses ("United Nations Conference on Trade and Development (UNCTAD), “…”") or printed so ("UNCTAD, “…”");
    "ambiguous" when the author has several, "not found" when none."""
    fit = _distinct([w for w in pool if not w.volume and (m := _AUTHOR_ABBREVIATION.match(w.text))
                     and head in {fold(m.group("abbr") or ""), fold(m.group("head"))}])
    fit = list({w.text: w for w in fit}.values())  # one work printed again in full is one work
    if not fit:
        return "not found", None
    return ("resolved", fit[0]) if len(fit) == 1 else ("ambiguous", None)


def _chapter_in(f: Found, works: list[_Work]) -> _Work | None:
    """A chapter cited in a book note N cites ("John H. Wigmore, Planetary Theory …, in 3 EVOLUTION OF LAW, supra note
    164, at 531"): the chapter, printed in that book, where one work of note N is the book (its title read across a
    line-end hyphen, "EVO-LUTION"); None otherwise."""
    m = _IN_BOOK.match(f.name)
    if not m:
        return None
    book = m.group("book")
    fit = _distinct([w for w in works if not _SUPRA_IN.search(w.text) and any(
        names_match(b, _LINK.sub(" ", w.text)) for b in (book, book.replace("-", "")))])
    if len(fit) != 1:
        return None
    volume = f"{m.group('volume')} " if m.group("volume") else ""
    return dataclasses.replace(fit[0], text=f"{m.group('chapter')}, in {volume}{fit[0].text}", name=m.group("chapter"))


def _misprinted(f: Found, by_number: dict[str, list[_Work]], texts: dict[str, str]) -> _Work | None:
    """The work a "Name, supra note N" meant when its name fits no work of note N (a misprint): the one work of note
    N the name fits but for a misspelt word ("Hemel & Oullette" for Ouellette; "Most Americans Prefer Smart Guns" for
    "Support", a title of four words or more); else, when note N does not print the name at all, the one work of
    note N−1 or N+1 it fits ("Bell, supra note 70" for the Note in note 71). None when that is not one work."""
    whole = [w for w in by_number.get(str(f.note), []) if not _SUPRA_IN.search(w.text)]  # not one that swallowed
    near = _distinct([w for w in whole if _names_nearly(f.name, w.text)])  # a back-reference (a clause mis-cut)
    if len(near) == 1:
        return near[0]
    if near or f.note is None or not fold(f.name) or names_match(f.name, texts.get(str(f.note), "")):
        return None  # note N prints the name: the work is there, read or not
    beside = _distinct([w for n in (f.note - 1, f.note + 1) for w in by_number.get(str(n), [])
                        if str(w.note).rsplit(":", 1)[-1] == str(n) and not _SUPRA_IN.search(w.text)
                        and names_match(f.name, _LINK.sub(" ", w.text))])
    return beside[0] if len(beside) == 1 else None


def _names_nearly(short: str, full: str) -> bool:
    """Whether a name fits a work's text but for a misprint: its words in order, each the start of a word there or
    (of five letters or more) spelt nearly alike, one word left unmatched in a name of four words or more."""
    words = [w for w in fold(short).split() if w not in {"et", "al", "and", "the", "of", "v"}]
    pool = fold(_LINK.sub(" ", full)).split()
    misses, at = 0, 0
    for w in words:
        hit = next((i for i in range(at, len(pool)) if pool[i].startswith(w) or (
            len(w) >= 5 and SequenceMatcher(None, w, pool[i]).ratio() >= _AUTHOR_MATCH)), None)
        if hit is None:
            misses += 1
        else:
            at = hit + 1
    return bool(words) and misses <= (1 if len(words) >= 4 else 0) and at > 0


def _short(f: Found, cases: dict[tuple[str, str], list[_Work]]) -> tuple[str, _Work | None]:
    """"Name, 849 F.2d at 462": the full citation with that volume and reporter whose pages hold the pin,
    the name deciding between several; "ambiguous" when it cannot."""
    same = cases.get((f.volume or "", f.reporter or ""), [])[-_NEAREST:]
    if not same and f.name and f.reporter:  # a series left out: "243 F. Supp. at 1322" for 243 F. Supp. 3d 1315
        same = [w for (volume, reporter), ws in cases.items() if volume == f.volume and reporter.startswith(f.reporter)
                for w in ws if w.name and _named(f.name, w)][-_NEAREST:]
    page = pin_page(f.pin)
    fits = [w for w in same if page is None or _holds(w, page)]
    if f.name:
        # a reporter-only cite printed with the first page of a case the name has nothing in common with is that case
        others = {w.page for w in same if w.name and _unrelated(f.name, w)}
        # a name the body text gave is weaker than a printed one ("Brown v. Board of Education’s" for "Brown v. Bd. of
        # Educ."): enough that it shares a word, it only rules out a case it has nothing in common with
        named_fits = [w for w in fits if (not w.name and w.page not in others) or (w.name and _named(f.name, w)) or (
            w.named_by_text and not _unrelated(f.name, w))]
        fits = named_fits or [w for w in same if w.name and _named(f.name, w)] or [  # a mistyped pin, a misspelt name
            w for w in fits if w.name and not w.named_by_text and _names_nearly(f.name, w.name)]  # ("Mfg." for "Mfr.")
    if not fits:
        return "not found", None
    if len({w.page for w in fits}) != 1 and not _one_case(fits):
        return "ambiguous", None
    return "resolved", fits[-1]


def _named(name: str, work: _Work) -> bool:
    """Whether a short form's name names a work: its case name, its initials ("SFFA" for Students for Fair
    Admissions, Inc. v. …; "NIFLA" for National Institute of Family and Life Advocates v. …), or a name it was given
    ("[hereinafter SFFA]")."""
    return names_match(name, work.name) or initials(name, work.name) or any(names_match(name, d) for d in work.defines)


def _unrelated(name: str, work: _Work) -> bool:
    """Whether a short form's name has nothing in common with a work's: no word of it starts a word there, and it
    is not its initials ("SFFA" and "Ohio v. EPA"; not "WesternGeco II" and "WesternGeco LLC v. ION …")."""
    pool = fold(work.name).split()
    words = [w for w in fold(name).split() if len(w) >= 3 and w not in {"the", "and", "for"}]
    return not _named(name, work) and not any(p.startswith(w) for w in words for p in pool)


def _restated(f: Found, cases: dict[tuple[str, str], list[_Work]]) -> _Work | None:
    """The earlier full citation a citation printed again without its court and date restates, as a short form
    ("Cal. Dep’t of Hous. & Cmty. Dev., 2022 Cal. Super. LEXIS 1969, at *4" after "City of Encinitas v. Cal. Dep’t
    of Hous. & Cmty. Dev., No. …, 2022 Cal. Super. LEXIS 1969, at *2 (Super. Ct. Jan. 25, 2022)"): the same volume,
    reporter and first page, under a name it names; None for a citation of its own."""
    if not (f.volume and f.name) or f.nested or re.search(DATED, f.text):
        return None
    cite = re.search(rf"\b{f.volume}\s+\S.*?\s{f.page}\b", f.text)
    notice = f.reporter in _NOTICES and cite is not None and not _YEAR.search(  # no date after it, in its sentence
        re.split(r"\.\s", f.text[cite.end():], maxsplit=1)[0])
    same = [w for w in cases.get((f.volume, f.reporter or ""), []) if w.page == f.page and w.name and _named(f.name, w)
            and (_CASE.search(w.name) or notice)]  # a decision or a notice: a statute printed again may cite another
    # section
    return same[-1] if same else None


def _one_case(fits: list[_Work]) -> bool:
    """Whether citations printed with different first pages are one decision: each names the case (the
    others abbreviate the fullest name: "Seven Cnty." of "Seven Cnty. Infrastructure Coal. v. Eagle County"),
    and those printed by reporter only share a first page with one of them (a mistyped first page)."""
    named = [w for w in fits if w.name and not w.named_by_text]  # names printed in the citations themselves
    if not named:
        return False
    fullest = max((w.name for w in named), key=len)
    return all(names_match(w.name, fullest) for w in named) and all(
        w.page in {n.page for n in named} for w in fits if w not in named)


def _as_cited(work: _Work, opinion: str | None, cases: dict[tuple[str, str], list[_Work]]) -> _Work:
    """The nearest full citation of the same decision for this occurrence's opinion: the one citing that
    opinion, else a plain one ("Id. at 929 (Sotomayor, J., dissenting)" → the full cite of the dissent);
    one naming the case before one that does not."""
    same = [w for w in cases.get((work.volume or "", work.reporter or ""), []) if w.page == work.page and (
        not (w.name and work.name) or w.named_by_text or work.named_by_text or names_match(w.name, work.name)
        or names_match(work.name, w.name))]  # not what a search or a brief prints inside its own citation ("(search
    # “697 F.3d 1105”)"); a name the body text gave ("Board of Regents v. Roth") decides nothing here
    this = [w for w in same if opinion and w.opinion and fold(w.opinion) == fold(opinion)]
    plain = [w for w in same if w.opinion is None]
    # its own citation before one in another's history, one with the case's name before one printed by reporter only
    # ("163 U.S. 537 (1896)")
    own = [w for w in this if not w.history], [w for w in plain if not w.history]
    printed = [w for w in own[0] if w.name and not w.named_by_text], [w for w in own[1] if w.name and not w.named_by_text]
    shown = next((ws for ws in (*printed, *own, [w for w in this if w.name], [w for w in plain if w.name], this, plain)
                  if ws), [])
    return shown[-1] if shown else work


def _decision(work: _Work | None) -> object:
    """What makes two citations one authority: a case's volume, reporter and first page; else the same work."""
    if work is not None and work.volume:
        return (work.volume, work.reporter, work.page)
    return id(work)


def _distinct(works: list[_Work]) -> list[_Work]:
    return list({_decision(w): w for w in works}.values())


def _named_use(f: Found, named: dict[str, _Work]) -> Found:
    """A citation read as the use of a name given earlier when it prints that name with its own reporter cite or
    date ("NOAA, “Deep Seabed Mining: …,” 82 Federal Register 42327." after "(hereinafter NOAA, “…,” 82 Federal
    Register 42327)"; "NOAA, 1995 Report to Congress, p. 12"): a "text" clause; else the citation as found."""
    if f.kind == "full" and not f.defines and _defined_head(f.text, named):
        return dataclasses.replace(f, kind="text")
    return f


def _defined_head(text: str, named: dict[str, _Work]) -> str:
    """The hereinafter name a clause cites, "" when none: the clause opens with it (after a lead-in: "For example,
    see") and the rest is at most a pin ("NOI at 59945", "Kraska, “…,” pp. 503-504", "EPA Inventory, Annex 6, Table
    A-233, https://…"); or a pin "of" it opens the clause ("Table 4-1 of EPA RIA", "§3(a)(i) of E.O. 14285")."""
    if not named:
        return ""
    words = fold(_LINK.sub(" ", text)).split()
    lead = 0
    while step := next((len(w.split()) for w in _LEAD_IN if " ".join(words[lead: lead + len(w.split())]) == w), 0):
        lead += step  # "For example, see"
    for start in dict.fromkeys((lead, 0)):
        for k in range(min(len(words), start + _NAME_WORDS), start, -1):  # the longest name first
            name = " ".join(words[start:k])
            if name in named and _is_locator(words[k:]):
                return name
    of = words.index("of") if "of" in words[:10] else -1
    if of > 0 and _is_locator(words[:of]) and any(c.isdigit() for w in words[:of] for c in w):
        for start in range(of + 1, min(len(words), of + 6)):  # "of the Annex to the 1994 Agreement"
            for k in range(min(len(words), start + _NAME_WORDS), start, -1):
                if " ".join(words[start:k]) in named and set(words[of + 1: start]) <= _BEFORE_NAME:
                    return " ".join(words[start:k])
    return ""


def _is_locator(words: list[str]) -> bool:
    """Whether folded words are at most a pin: locator words ("p", "table", "annex"), numbers, and the short marks
    that go with a number ("table a 233", "es 2", "3 a i" of "§3(a)(i)"), not short words alone ("is of no")."""
    if len(words) > 12:
        return False
    numbered = False  # whether the last word that is no short mark holds a number
    for i, w in enumerate(words):
        digit = any(c.isdigit() for c in w)
        if len(w) <= 2 and not digit and w not in _LOCATOR_WORDS:
            if not (numbered or (i + 1 < len(words) and any(c.isdigit() for c in words[i + 1]))):
                return False
        elif digit or w in _LOCATOR_WORDS:
            numbered = digit
        else:
            return False
    return True


def _work(f: Found, marker: Marker) -> _Work:
    if is_about_a_case(f.name):  # a brief or petition: its reporter cite is the case's, not its own
        return _Work(text=authority_text(f.text), note=marker, name=f.name, volume=None, reporter=None, page=None,
                     opinion=None, defines=f.defines)
    return _Work(text=authority_text(f.text, f.page), note=marker, name=f.name, volume=f.volume, reporter=f.reporter,
                 page=f.page, opinion=f.opinion, defines=f.defines, history=f.history, named_by_text=f.named_by_text)


def _reference(kind: str, f: Found, status: str, work: _Work | None) -> Reference:
    if work is None or status != "resolved":
        return Reference(kind=kind, start=f.start, end=f.end, status=status)
    return Reference(kind=kind, start=f.start, end=f.end, status=status, authority=work.text, authority_note=work.note,
                     pin=f.pin, opinion=f.opinion, resolved=with_pin(work.text, f.pin, f.opinion, _first_page(work),
                                                                      _own_pin(work)))


def _first_page(work: _Work) -> re.Pattern[str] | None:
    """Where a work's first page is printed, for a pin to follow: its volume, reporter and first page ("602 U.S.
    680"), a chapter's first page in its book ("in HANDBOOK 338")."""
    if work.page and work.volume:
        return re.compile(rf"\b{work.volume}\s+[^()]*?\s{work.page}\b")
    if work.page:
        return re.compile(rf",\s+in\s+[^()]*?\s{work.page}\b")
    return None


def _own_pin(work: _Work) -> re.Pattern[str] | None:
    """Where a document about a case prints its own page, before the case's citation ("Transcript of Oral Argument
    at 28, Students for Fair Admissions …, 600 U.S. 181"): its pin goes there, never in the case's cite."""
    if not is_about_a_case(work.name):
        return None
    return re.compile(r"^[^,]*?\bat\s+(?P<pin>\d[\d–\-]*)")


def _with_refs(note: Footnote, refs: list[Reference]) -> Footnote:
    if not refs:
        return note
    done = [r for r in refs if r.status == "resolved"]
    return dataclasses.replace(note, references=tuple(refs), resolved="; ".join(r.resolved or "" for r in done) or None,
                               resolved_marker=done[0].authority_note if done else None, unresolved=not done)


def _point(note: Footnote, target: Footnote | None, kind: str) -> Footnote:
    """An ibid. or op. cit. note points at the whole of an earlier note (other styles cite one work a note)."""
    if target is None or target.unresolved:
        return dataclasses.replace(note, unresolved=True,
                                   references=(Reference(kind=kind, start=0, end=len(note.text), status="not found"),))
    full = target.resolved or target.text
    marker = target.resolved_marker if target.resolved else target.marker
    urls = tuple(dict.fromkeys(note.urls + target.urls))
    ref = Reference(kind=kind, start=0, end=len(note.text), status="resolved", authority=full, authority_note=marker,
                    resolved=full)
    return dataclasses.replace(note, resolved=full, resolved_marker=marker, urls=urls, references=(ref,))


def _find_author(text: str, earlier: list[Footnote]) -> Footnote | None:
    """The latest earlier full reference whose author (or title) matches, tolerating typos, or whose author's
    surname it is ("Müller, a.a.O." for "Anna Müller, …"; a signal before it left out: "Vgl. Braun, a. a. O.")."""
    cit = _OP_CIT.search(text)
    key = _key(_SIGNALED.sub("", text[: cit.start()] if cit else text))
    if len(key) < 3:
        return None
    for note in reversed(earlier):
        if note.resolved or note.unresolved or _OP_CIT.search(note.text) or _IBID.match(note.text) or _ID.match(note.text):
            continue
        author = _key(note.text)
        head = author[: len(key) + 2]
        if head.startswith(key) or SequenceMatcher(None, key, head[: len(key)]).ratio() >= _AUTHOR_MATCH or (
                author.split()[-len(key.split()):] == key.split()):
            return note
    return None


def _key(text: str) -> str:
    """Author (or title) of a reference, folded: accents, case and punctuation dropped."""
    text = re.split(r"[,«“\"]|\bin\b", text.strip(" *_"), maxsplit=1)[0] if "," in text or "«" in text else text
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def citations_for(paragraph: Paragraph, notes: dict[Marker, Footnote]) -> tuple[Citation, ...]:
    """Return the citations of a paragraph's markers, in order, from the doc's notes by marker."""
    out = []
    for marker in paragraph.footnotes:
        note = notes.get(marker)
        if note is None:
            continue
        out.append(Citation(marker=marker, text=note.text, urls=note.urls,
                            resolved=note.resolved, unresolved=note.unresolved, references=note.references))
    return tuple(out)
