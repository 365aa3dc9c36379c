"""Note series: notes numbered again per chapter or page are keyed "S:N", and the text's markers with them."""

from __future__ import annotations

from qa.parse import assemble
from qa.records import Block
from qa.series import note_series, page_footnotes


def _chapters(stray: str) -> list[Block]:
    """Two chapters of page footnotes 1, 2 and 1, 2; ``stray`` is a page of raised digits citing no note."""
    return [Block("heading", "One"), Block("body", "Alpha cites⟦1⟧ one source.", 1), Block("note", "Smith (2001).", 1, 1),
            Block("body", "Gamma cites⟦2⟧ another.", 2), Block("note", "Jones (2003).", 2, 2),
            Block("body", stray, 3),
            Block("heading", "Two"), Block("body", "Beta cites⟦1⟧ again.", 4), Block("note", "Brown (2010).", 4, 1),
            Block("body", "Delta cites⟦2⟧ more.", 5), Block("note", "Id. at 4.", 5, 2)]


def test_page_footnotes_cite_the_note_of_their_own_page() -> None:
    """A listing's raised line numbers (no note of theirs on the page) are no markers: they go back to
    text, and the chapters' notes stay apart (the old count of restarts in the text saw three runs)."""
    doc = assemble("t.pdf", _chapters("⟦1⟧int main() ⟦2⟧return 0; ⟦3⟧}"))
    notes = {n.marker: n.text for n in doc.footnotes}
    assert notes == {1: "Smith (2001).", 2: "Jones (2003).", "2:1": "Brown (2010).", "2:2": "Id. at 4."}
    assert [p.footnotes for p in doc.paragraphs] == [(1,), (2,), (), ("2:1",), ("2:2",)]
    assert doc.paragraphs[2].text == "¹int main() ²return 0; ³}"


def test_a_note_one_after_any_note_starts_a_series_other_numbers_out_of_order_do_not() -> None:
    notes = [Block("note", t, 1, n) for t, n in [("a", 1), ("b", 3), ("c", 2), ("d", 1), ("e", 1), ("f", 2)]]
    assert note_series(notes) == [1, 1, 1, 2, 3, 3]


def test_endnotes_follow_the_order_of_the_runs_or_the_chapter_after_the_marker() -> None:
    """Chapter endnotes (cited on other pages): by the runs where text and notes restart alike; where a
    stray marker spoils the count, each marker cites the first note of its number after its page."""
    blocks = [Block("body", "Alpha⟦1⟧ and⟦2⟧.", 1), Block("body", "A table's ⟦1⟧.", 2),
              Block("note", "First one.", 3, 1), Block("note", "First two.", 3, 2),
              Block("body", "Beta⟦1⟧.", 4), Block("note", "Second one.", 5, 1)]
    assert not page_footnotes(blocks)
    doc = assemble("e.pdf", blocks)
    assert {n.marker: n.text for n in doc.footnotes} == {1: "First one.", 2: "First two.", "2:1": "Second one."}
    assert [p.footnotes for p in doc.paragraphs] == [(1, 2), (1,), ("2:1",)]


def test_without_pages_numbers_are_left_alone_where_text_and_notes_restart_differently() -> None:
    """Word's and OpenDocument's readers give no pages: a stray marker leaves every number as it is."""
    blocks = [Block("body", "Alpha⟦1⟧ and⟦2⟧."), Block("body", "A table's ⟦1⟧."), Block("note", "First one.", None, 1),
              Block("note", "First two.", None, 2), Block("body", "Beta⟦1⟧."), Block("note", "Second one.", None, 1)]
    doc = assemble("w.docx", blocks)
    assert sorted(str(n.marker) for n in doc.footnotes) == ["1", "2"]
