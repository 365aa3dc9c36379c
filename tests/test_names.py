"""names: folding names, matching a short name to a full one, finding a case's name in prose."""

from __future__ import annotations

import pytest

from qa.names import case_named_before, fold, initials, name_after_prose, names_match, reads_as_prose, several_authors


def test_names_match_word_by_word_in_order() -> None:
    assert fold("Muñoz, Dep’t") == "munoz dep t"
    assert names_match("Jud. Conf. U.S.", "Judicial Conference of the United States")
    assert names_match("Holbrook", "Timothy R. Holbrook, Boundaries, 92 NOTRE DAME L. REV. 1745 (2017)")
    assert not names_match("Conf. Jud.", "Judicial Conference")  # out of order
    assert initials("SFFA", "Students for Fair Admissions, Inc. v. President & Fellows of Harv. Coll.")
    assert initials("NIFLA", "National Institute of Family and Life Advocates v. Becerra")
    assert not initials("SFFA", "Ohio v. EPA") and not initials("Sffa", "Students for Fair Admissions")


@pytest.mark.parametrize("prose, name", [
    ("This hypothetical is based on the facts of Norton", "Norton"),
    ("Much of that literature is discussed in Hemel & Ouellette", "Hemel & Ouellette"),
    ("Fiduciaries of Humanity", "Fiduciaries of Humanity"),  # a title's small words are no prose
])
def test_a_name_after_prose(prose: str, name: str) -> None:
    assert name_after_prose(prose) == name


@pytest.mark.parametrize("before, case", [
    ("In Fulton v. City of Philadelphia, for example,", "Fulton v. City of Philadelphia"),
    ("It ended. Later, in Smith v. Jones, Inc.", "Smith v. Jones, Inc."),
    ("the Court held in Students for Fair Admissions, Inc. v. President & Fellows of Harvard College that",
     "Students for Fair Admissions, Inc. v. President & Fellows of Harvard College"),
    ("no case is named here", ""),
])
def test_the_case_a_sentence_names_before_a_marker(before: str, case: str) -> None:
    assert case_named_before(before) == case


def test_prose_and_authors() -> None:
    assert reads_as_prose("The second line of decisions referred to here is a line of cases that Justice Kavanaugh "
                          "identifies which “have grown review” § 706")
    assert not reads_as_prose("RESTATEMENT (THIRD) OF TORTS § 20 cmt. f")
    assert several_authors("Benjamin Klein, Robert G. Crawford & Armen A. Alchian, Vertical Integration, 21 J.L. 297")
    assert not several_authors("Benjamin Klein, Why Hold-Ups Occur, 34 ECON. INQUIRY 444 (1996)")
