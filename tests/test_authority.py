"""authority: a full citation cut to the citation itself, then printed with one occurrence's pin and opinion."""

from __future__ import annotations

import re

import pytest

from qa.authority import authority_text, with_pin


@pytest.mark.parametrize("printed, page, shown", [
    ("Lucas v. S.C. Coastal Council, 505 U.S. 1003, 1028–29 (1992) (quoting Smith) [hereinafter Lucas].", 1003,
     "Lucas v. S.C. Coastal Council, 505 U.S. 1003 (1992)"),
    ("Ryan Eason, Get Out the Vote (or Else): Testing, 94 S. CALIF. L. REV. 963, 989 (2021).", 963,
     "Ryan Eason, Get Out the Vote (or Else): Testing, 94 S. CALIF. L. REV. 963 (2021)"),
    ("Hearing, 117th Cong. 15 (2022) (statement of Caitlyn Clark).", None, "Hearing, 117th Cong. 15 (2022) (statement of "
     "Caitlyn Clark)"),
    ("Keller v. City of Corpus Christi, 50 Tex. 614 (1879), in which a home was destroyed.", 614,
     "Keller v. City of Corpus Christi, 50 Tex. 614 (1879)"),
])
def test_an_authority_is_the_citation_itself(printed: str, page: int | None, shown: str) -> None:
    assert authority_text(printed, page) == shown


def test_a_pin_is_printed_where_the_work_prints_its_pages() -> None:
    first = re.compile(r"\b602\s+[^()]*?\s680\b")
    assert with_pin("United States v. Rahimi, 602 U.S. 680 (2024)", "717", "Kavanaugh, J., concurring", first) == (
        "United States v. Rahimi, 602 U.S. 680, 717 (2024) (Kavanaugh, J., concurring)")
    assert with_pin("MARK GREENE, GUN SAFETY 15–16 (2013)", "43", None) == "MARK GREENE, GUN SAFETY 43 (2013)"
    assert with_pin("Starr, Essays, IND. L.J. (forthcoming 2025)", "manuscript at 46", None) == (
        "Starr, Essays, IND. L.J. (forthcoming 2025) (manuscript at 46)")
    own = re.compile(r"^[^,]*?\bat\s+(?P<pin>\d[\d–\-]*)")
    assert with_pin("Transcript of Oral Argument at 28, SFFA v. UNC, 600 U.S. 181 (2023)", "29", None, None, own) == (
        "Transcript of Oral Argument at 29, SFFA v. UNC, 600 U.S. 181 (2023)")
