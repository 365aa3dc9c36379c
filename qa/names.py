"""Names in citations: folding them for comparison, matching a short name to a full one, finding a case's name in prose.

``citations`` finds a note's citations and the names they print; ``cite`` decides with these which full citation a
short name ("Midler", "SFFA", "Hemel & Oullette", "Klein et al.") refers to. A name is matched word by word, in
order, each word the start of one there ("Jud. Conf. U.S." ~ "Judicial Conference of the United States").
"""

from __future__ import annotations

import functools
import re
import unicodedata

FIRM = r"(?:,\s+(?:Inc|Co|Corp|Ltd|LLC|LLP|L\.P|N\.A)\.?)?"  # "Lesher Commc’ns, Inc."

# a case's name in a sentence, just before its short form's volume: capitals and a case name's small words
PROSE_NAME = re.compile(rf"(?<!\S)(?P<name>[A-Z][^\s,;]*(?:\s+(?:[A-Z][^\s,;]*|of|the|and|for|&|ex|rel\.|v\.|de|la|on))*"
                        rf"{FIRM}),\s+$")

# what prose says an author does, after the author's name: "as Professor Mendelson notes, supra note 47"
_REPORTS = re.compile(r"\s+(?:notes|argues|explains|observes|writes|suggests|contends|describes|concludes|shows|"
                      r"recounts|puts\s+it|points\s+out)$")
_TITLE = re.compile(r"^(?:(?:Professors?|Judges?|Justices?|Dean|Chief|Dr\.|Mr\.|Ms\.|Mrs\.)\s+)+")  # before a name
# a title's small words (Bluebook title case) and a case name's: lower case without being prose
SMALL_WORDS = frozenset("a an and as at but by de del du ex for from in into la nor of on or over rel the to upon "
                        "v van von with y".split())


@functools.lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """Return text folded for comparing names: lower case, letters and digits, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower().replace("’", "'")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def names_match(short: str, full: str) -> bool:
    """Return whether every word of a short name starts a word of the full one ("Jud. Conf. U.S." ~ "Judicial
    Conference of the United States"; "Holbrook" ~ "Timothy R. Holbrook"), in order."""
    words = [w for w in fold(short).split() if w not in {"et", "al", "and", "the", "of", "v"}]
    pool = fold(full).split()
    if not words:
        return False
    at = 0
    for w in words:
        while at < len(pool) and not pool[at].startswith(w):
            at += 1
        if at == len(pool):
            return False
        at += 1
    return True


def name_after_prose(name: str) -> str:
    """Return a name that prose runs into without a break ("This hypothetical is based on the facts of Norton",
    "discussed in Hemel & Ouellette", "as Professor Mendelson notes"): its capitalized words after the last
    lower-case word of the prose, a verb that reports what the author says and a title ("Professor") left out;
    the name itself when it has no such word."""
    words = re.findall(r"(?<![\w.’'-])[a-z][a-z’'-]+\b(?!\.)", name)
    if all(w in SMALL_WORDS for w in words):
        return name
    tail = PROSE_NAME.search(_REPORTS.sub("", name) + ", ")
    return _TITLE.sub("", tail.group("name")) if tail else name


def reads_as_prose(text: str) -> bool:
    """Return whether a clause is a sentence, not a citation: six or more lower-case words that are not a title's
    small words, quotations left out ("… Justice Kavanaugh identifies which “…” " is; "Cal. Health & Safety Code
    Ann. § 123472(a)(1)" and "RESTATEMENT (THIRD) OF TORTS § 20 cmt. f" are not)."""
    text = re.sub(r"“[^”]*”|\"[^\"]*\"", " ", text)
    words = re.findall(r"(?<![\w.’'-])[a-z][a-z’'-]+\b(?!\.)", text)
    return sum(w not in SMALL_WORDS for w in words) >= 6


def case_name_start(text: str, start: int, end: int) -> int:
    """Return where a case name starts when prose runs into it ("… consistent with Motor Vehicle Mfrs. Ass’n of the U.S.,
    Inc. v. State Farm …"): after the last lower-case word of prose before its " v. ", at its first capital; start
    when the words before " v. " are no prose (an author and title, "Transcript of Oral Argument at 28, …")."""
    v = list(re.finditer(r"\sv\.\s", text[start:end]))
    if not v:
        return start
    words = list(re.finditer(r"\S+", text[start: start + v[-1].start()]))
    for i in range(len(words) - 1, -1, -1):
        word = words[i].group()
        bare = word.strip(",;:")
        if word[0].isupper() or word[0] in "“‘\"'(&" or bare.lower().rstrip(".") in SMALL_WORDS:
            continue
        if not (word[0].isalpha() and word[0].islower()):
            return start  # a number, a section: no prose before the name
        rest = [w for w in words[i + 1:] if w.group()[0].isupper()]
        return start + rest[0].start() if rest else start
    return start


def case_named_before(text: str) -> str:
    """Return the case the end of a sentence names, for a note that cites it by reporter alone ("In Fulton v. City
    of Philadelphia, for example," before the marker of "141 S. Ct. 1868 (2021)"); "" when it names none."""
    sentence = re.split(r"(?:(?<=[a-z]{3})|(?<=\d))[.!?][”’\"]?\s+(?=[A-Z“])", text)[-1]  # not after "v." or "Inc."
    v = list(re.finditer(r"\sv\.\s", sentence))
    if not v:
        return ""
    start = case_name_start(sentence, 0, len(sentence))
    words = []
    for word in sentence[v[-1].end():].split():
        if not (word[0].isupper() or word.rstrip(",.").lower() in SMALL_WORDS or word[0] in "&(" or word[0].isdigit()):
            break
        words.append(word)
    while words and (words[-1].rstrip(",").lower() in SMALL_WORDS or not words[-1].rstrip(",")):
        words.pop()
    name = f"{sentence[start: v[-1].end()]}{' '.join(words)}".strip(" ,")
    return re.sub(r"^(?:(?:In|See|Later,?|Cf\.|But|And|As)\s+(?:in\s+)?)+", "", name)  # "In Fulton v. …", "See Ricci v. …"


def initials(name: str, full: str) -> bool:
    """Return whether a name of capitals is the initials of a full name's first words, its small words skipped or not."""
    if not re.fullmatch(r"[A-Z]{2,8}", name):
        return False
    words = fold(full).split()

    def spell(letters: str, at: int) -> bool:
        if not letters:
            return True
        if at >= len(words):
            return False
        if words[at][0] == letters[0] and spell(letters[1:], at + 1):
            return True
        return words[at] in {"of", "the", "and", "for", "a", "an", "in", "on"} and spell(letters, at + 1)

    return spell(name.lower(), 0)


def several_authors(text: str) -> bool:
    """Return whether a work's citation opens with several authors ("Benjamin Klein, Robert G. Crawford & Armen A. Alchian,
    Vertical Integration …"; "Jane Roe et al., Title …"), read up to its second comma."""
    head = ",".join(text.split(",")[:2])
    return bool(re.search(r"\s&\s|\bet\s+al\b", head))


_AUTHOR_WORDS = 12  # a work's title starts within this many words of its citation


def names_title(head: str, title: str, work: str) -> bool:
    """Return whether an author–title short form names a work's citation: the title (folded, as a whole, or the
    start of a longer one) stands in its first words, after an author the head names ("Havlin, “Automotive
    Dealerships 2019-22.”" ~ "Michael Havlin, “Automotive Dealerships 2019-22: Dealer Markup …,” …")."""
    pool, words = fold(work).split(), fold(title).split()
    for i in range(1, min(len(pool), _AUTHOR_WORDS + 1)):
        if pool[i: i + len(words)] == words and names_match(head, " ".join(pool[:i])):
            return True
    return False
