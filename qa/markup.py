"""What the readers of structured formats share (Word, OpenDocument, HTML, EPUB): bounded zip parts,
XML parsed safely, note keys by series, and the blocks a paragraph of text and notes becomes.

These formats keep their notes in the file's structure, so the readers hand ``parse.assemble`` exact
blocks: every body block says it starts a paragraph (``continues=False``) and carries its notes'
markers as ``⟦key⟧``; a note's key is its printed number, or "S:N" where the numbering starts again.
Hostile containers (a zip bomb, a zip inside a zip, too many parts) and hostile XML (entities, a DTD,
deep nesting) raise ``DocumentError`` with one line.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lxml import etree

from qa.errors import DocumentError
from qa.records import Block, Marker

MAX_PART_BYTES = 256 * 2**20  # one unpacked part (a Herodotus chapter is under 1 MB)
MAX_TOTAL_BYTES = 1024 * 2**20  # all parts read from one file
MAX_PARTS = 20_000
MAX_RATIO = 200  # unpacked / packed: XML packs 5-20 times; a zip bomb packs 1,000 times
MAX_DEPTH = 200  # element nesting a reader walks (libxml2 stops XML at 256 already)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_SPACE = re.compile(r"\s+")


class Package:
    """An opened zip container whose parts are read within the size bounds."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind, self.read_bytes = path, kind, 0
        try:
            self.zip = zipfile.ZipFile(path)
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise DocumentError(f"{path}: not a valid {kind} (its zip container is damaged: {exc})") from None
        if len(infos) > MAX_PARTS:
            raise DocumentError(f"{path}: refused: the {kind} holds {len(infos)} parts (over {MAX_PARTS}); "
                                "a damaged or hostile file?")
        self.infos = {info.filename: info for info in infos}

    def names(self) -> list[str]:
        """Return the names of the parts, in the zip's order."""
        return list(self.infos)

    def has(self, name: str) -> bool:
        """Return True when the package holds the part ``name``."""
        return name in self.infos

    def read(self, name: str) -> bytes:
        """Return the unpacked bytes of part ``name``, refusing a bomb (too large, packed too tightly)."""
        info = self.infos.get(name)
        if info is None:
            raise DocumentError(f"{self.path}: not a valid {self.kind}: it has no {name}{self._nested()}")
        if info.file_size > MAX_PART_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 2**20:
            raise DocumentError(f"{self.path}: refused: {name} unpacks to {info.file_size:,} bytes from "
                                f"{info.compress_size:,} (a zip bomb?)")
        try:
            with self.zip.open(info) as part:
                data = part.read(MAX_PART_BYTES + 1)  # the header's size may lie: read no further than the bound
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise DocumentError(f"{self.path}: {name} cannot be unpacked ({exc}); is the file damaged?") from None
        self.read_bytes += len(data)
        if len(data) > MAX_PART_BYTES or self.read_bytes > MAX_TOTAL_BYTES:
            raise DocumentError(f"{self.path}: refused: its parts unpack to over {MAX_PART_BYTES // 2**20} MB (a zip bomb?)")
        if data[:4] in _ZIP_MAGIC:
            raise DocumentError(f"{self.path}: refused: {name} is a zip inside the zip; unpack it and add the document itself")
        return data

    def _nested(self) -> str:
        """Say so when the package is a zip holding another zip (a document zipped again)."""
        inner = [n for n in self.infos if n.lower().endswith((".zip", ".docx", ".odt", ".epub"))]
        return f" (it holds {inner[0]}: a zip inside a zip; unpack it and add the document itself)" if inner else ""

    def xml(self, name: str) -> etree._Element:
        """Return the parsed root of XML part ``name`` (no entities, no DTD, no network)."""
        return parse_xml(self.read(name), f"{self.path}: {name}")


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Return the root of an XML document parsed safely: a DTD with entities is refused, nothing is
    fetched, nesting and text sizes stay within libxml2's default bounds."""
    head = data[:4096]
    if b"<!ENTITY" in data[:65536] or (b"<!DOCTYPE" in head and b"[" in head.split(b"<!DOCTYPE", 1)[1].split(b">", 1)[0]):
        raise DocumentError(f"{where}: refused: the XML declares entities (a billion-laughs file?)")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise DocumentError(f"{where}: the XML is damaged or too deeply nested ({str(exc)[:120]})") from None


def local(tag: object) -> str:
    """Return an element's tag without its namespace ("{ns}p" → "p"); comments and PIs give ""."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def note_keys(labels: list[str]) -> list[Marker]:
    """Return the key of each note label, in the notes' order: the printed number (i, ii, iii … as
    1, 2, 3 where every label is a roman numeral; a letter or symbol stays text), and "S:N" for the
    S-th run of numbers where the numbering starts again (S >= 2)."""
    roman = bool(labels) and all(roman_value(label.strip("[]().")) for label in labels)
    keys: list[Marker] = []
    series, last = 1, None
    for label in labels:
        number = roman_value(label.strip("[]().")) if roman else as_number(label)
        if number is not None and last is not None and number <= last:
            series += 1
        if number is not None:
            last = number
        keys.append((number if series == 1 else f"{series}:{number}") if number is not None else label.strip("[]().") or label)
    return keys


def series(key: Marker) -> int:
    """Return the series of a numbered note's key (1 for N, S for "S:N"), 0 for a mark that is no number."""
    if isinstance(key, int):
        return 1
    head, colon, _ = key.partition(":")
    return int(head) if colon and head.isdecimal() else 0


def shifted(key: Marker, runs: int) -> Marker:
    """Return a numbered key moved ``runs`` series on (endnotes after footnotes): 3 → "2:3" for one run."""
    if not runs or not series(key):
        return key
    number = key if isinstance(key, int) else key.partition(":")[2]
    return f"{series(key) + runs}:{number}"


def as_number(label: str) -> int | None:
    """Return a note label's number: "12", "[12]", "12." → 12; else None."""
    text = label.strip().strip("[]().").strip()
    return int(text) if text.isdecimal() and text.isascii() and len(text) <= 9 else None


_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}


def roman_value(text: str) -> int | None:
    """Return the value of a well-formed roman numeral (either case), else None."""
    low = text.lower()
    if not low or any(ch not in _ROMAN for ch in low) or len(low) > 15:
        return None
    total = 0
    for i, ch in enumerate(low):
        value = _ROMAN[ch]
        total += -value if i + 1 < len(low) and _ROMAN[low[i + 1]] > value else value
    return total if to_roman(total) == low else None


def to_roman(number: int) -> str:
    """Return the lower-case roman numeral of a number from 1 to 3999."""
    out = []
    for value, digits in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out.append(digits)
            number -= value
    return "".join(out)


def mark(key: Marker) -> str:
    """Return a note's marker as written in a block's text."""
    return f"⟦{key}⟧"


def squeeze(text: str) -> str:
    """Return text with its runs of white space made one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def body_block(text: str, heading: bool = False) -> list[Block]:
    """Return the blocks of one paragraph of the file: none when it is empty; a heading that cites a
    note is a heading and a paragraph (the paragraph keeps the marker, so the note stays attached)."""
    text = squeeze(text)
    if not re.sub(r"⟦[^⟧]*⟧", "", text).strip():
        return [Block("body", text, continues=False)] if "⟦" in text else []
    if heading:
        plain = squeeze(re.sub(r"⟦[^⟧]*⟧", "", text))
        return [Block("heading", plain), Block("body", text, continues=False)] if "⟦" in text else [Block("heading", plain)]
    return [Block("body", text, continues=False)]
