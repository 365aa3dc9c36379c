"""cite: ibid./op. cit. resolution, citations of a paragraph, the JSON contract of an answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS

from qa.citations import find
from qa.cite import citations_for, resolve_footnotes
from qa.output import answer_to_json, pages
from qa.parse import parse_file
from qa.records import Answer, Citation, Footnote, Hit, Paragraph


def notes(*texts: str, urls: dict[int, tuple[str, ...]] | None = None) -> list[Footnote]:
    urls = urls or {}
    return [Footnote(doc="d.txt", marker=i, text=t, urls=urls.get(i, ())) for i, t in enumerate(texts, start=1)]


def by_marker(resolved: list[Footnote]) -> dict:
    return {n.marker: n for n in resolved}


# --- ibid. ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Ibid.", "ibid", "Ibidem", "Ibid., p. 12.", "*Ibid.*"])
def test_ibid_points_to_the_previous_note(text: str) -> None:
    out = by_marker(resolve_footnotes(notes("Smith, « Harbours », 2001.", text)))
    assert out[2].resolved == "Smith, « Harbours », 2001."
    assert out[2].resolved_marker == 1
    assert not out[2].unresolved
    assert out[1].resolved is None  # a full reference is left alone


@pytest.mark.parametrize("text", ["Ebd.", "Ebd., S. 12.", "Vgl. ebd., S. 3 f.", "Ebenda.", "ebda."])
def test_german_ebd_is_ibid(text: str) -> None:
    out = by_marker(resolve_footnotes(notes("Schmidt, Häfen der Ostsee, Berlin 2001, S. 10.", text,
                                            "Ebenfalls Schmidt, Häfen der Ostsee, S. 4.")))
    assert out[2].resolved_marker == 1 and out[2].references[0].kind == "ibid"
    assert out[3].references == ()  # "Ebenfalls" (likewise) is a word, not "ebenda"


def test_ibid_chain_resolves_to_the_first_full_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Jones, « Timber », on <https://example.org/timber>.", "Ibidem", "Ibidem",
        urls={1: ("https://example.org/timber",)})))
    assert out[3].resolved_marker == 1 and out[2].resolved_marker == 1
    assert out[3].resolved == out[1].text
    assert out[3].urls == ("https://example.org/timber",)  # the source's link travels with the note


def test_ibid_first_note_is_unresolved_never_guessed() -> None:
    (first, second) = resolve_footnotes(notes("Ibid.", "Ibid."))
    assert first.unresolved and first.resolved is None
    assert second.unresolved and second.resolved is None  # pointing at an unresolved note stays unresolved


# --- legal forms: Id., supra note N, short forms, hereinafter ---------------------------------

TRIBE = "Laurence H. Tribe, Lawrence v. Texas, 117 HARV. L. REV. 1893 (2004)."


@pytest.mark.parametrize("text", ["Id.", "Id. at 1898.", "See id.", "See id. at 1912; see also Yoshino, Equal.",
                                  "Cf. id. at 1904.", "See also id.", "Id.at 1898."])
def test_id_points_to_the_authority_before(text: str) -> None:
    out = by_marker(resolve_footnotes(notes(TRIBE, text)))
    ref = out[2].references[0]
    assert (ref.kind, ref.status, ref.authority_note) == ("id", "resolved", 1)
    assert ref.authority == "Laurence H. Tribe, Lawrence v. Texas, 117 HARV. L. REV. 1893 (2004)"
    assert out[2].resolved_marker == 1 and out[2].resolved.startswith(ref.authority[:-7])


def test_id_carries_its_own_pin_and_opinion_not_the_notes_before() -> None:
    out = by_marker(resolve_footnotes(notes(
        "United States v. Rahimi, 602 U.S. 680, 690 (2024).",
        "Rahimi, 602 U.S. at 709 (Gorsuch, J., concurring).",
        "Id. at 717 (Kavanaugh, J., concurring).")))
    ref = out[3].references[0]
    assert ref.authority_note == 1 and ref.pin == "717" and ref.opinion == "Kavanaugh, J., concurring"
    assert out[3].resolved == "United States v. Rahimi, 602 U.S. 680, 717 (2024) (Kavanaugh, J., concurring)"
    assert "Gorsuch" not in out[3].resolved and "709" not in out[3].resolved
    assert out[2].references[0].kind == "short" and out[2].references[0].authority_note == 1


def test_id_chain_through_a_short_form_reaches_the_full_citation() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Midler v. Ford Motor Co., 849 F.2d 460, 461 (9th Cir. 1988).", "Tribe, Essay, 12 J. 1 (2000).",
        "Midler, 849 F.2d at 462.", "Id. at 463.", "Id.")))
    assert out[3].resolved == "Midler v. Ford Motor Co., 849 F.2d 460, 462 (9th Cir. 1988)"
    assert out[4].resolved == "Midler v. Ford Motor Co., 849 F.2d 460, 463 (9th Cir. 1988)"
    assert out[5].resolved == "Midler v. Ford Motor Co., 849 F.2d 460 (9th Cir. 1988)"


def test_id_skips_what_a_parenthetical_quotes() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Cedar Point Nursery v. Hassid, 141 S. Ct. 2063, 2079 (2021) (quoting Lucas v. S.C. Coastal Council, "
        "505 U.S. 1003, 1028–29 (1992)).", "Id. (citing Lucas, 505 U.S. at 1029–30).", "Lucas, 505 U.S. at 1027.")))
    assert out[2].resolved.startswith("Cedar Point Nursery v. Hassid, 141 S. Ct. 2063")
    assert "Lucas" not in out[2].resolved  # the quoted case is no candidate for Id.
    assert out[3].resolved.startswith("Lucas v. S.C. Coastal Council, 505 U.S. 1003, 1027")  # a short form may point there


def test_id_after_a_note_of_several_authorities_is_ambiguous_unless_the_pin_decides() -> None:
    out = by_marker(resolve_footnotes(notes(
        "See Students for Fair Admissions, Inc. v. President & Fellows of Harv. Coll., 600 U.S. 181 (2023); "
        "Devon Carbado, Essay, 113 CALIF. L. REV. 1035 (2025).", "Id. at 212.", TRIBE, "Kenji Yoshino, Essay, "
        "124 HARV. L. REV. 747 (2011); Tribe, Book (2004).", "Id. at 750.")))
    assert out[2].references[0].authority_note == 1 and "600 U.S. 181" in out[2].resolved  # only SFFA holds p. 212
    assert out[2].references[0].status == "resolved"
    ref = out[5].references[0]  # Yoshino holds p. 750, but the book's pages are unknown: never guessed
    assert (ref.status, ref.authority, ref.pin) == ("ambiguous", None, None)
    assert out[5].resolved is None and out[5].unresolved


def test_id_in_the_same_note_is_the_citation_just_before_it() -> None:
    out = by_marker(resolve_footnotes(notes(
        TRIBE, "Steele cited one example of its use. Keller v. City of Corpus Christi, 50 Tex. 614 (1879), a fire. Id. at 618.")))
    assert out[2].resolved == "Keller v. City of Corpus Christi, 50 Tex. 614, 618 (1879)"


def test_supra_picks_the_work_of_note_n_by_its_author() -> None:
    out = by_marker(resolve_footnotes(notes(
        "See Jeffrie G. Murphy, Mercy and Legal Justice, in FORGIVENESS AND MERCY 162, 164 (1988); see also Igor "
        "Primoratz, Justifying Legal Punishment 8 (1989).",
        "Murphy, supra note 1, at 166; see also Primoratz, supra note 1, at 108–09.",
        "Tribe, supra note 1.")))
    first, second = out[2].references
    assert (first.kind, first.authority_note, first.pin) == ("supra", 1, "166")
    assert first.authority.startswith("Jeffrie G. Murphy, Mercy") and "Primoratz" not in first.authority
    assert second.authority.startswith("Igor Primoratz") and second.pin == "108–09"
    assert out[2].resolved == f"{first.resolved}; {second.resolved}"
    assert out[3].unresolved and out[3].references[0].status == "not found"  # no Tribe in note 1


def test_supra_with_two_works_by_the_author_in_note_n_is_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Timothy R. Holbrook, Boundaries, 92 NOTRE DAME L. REV. 1745 (2017); Timothy R. Holbrook, Proximate Cause, "
        "21 YALE J.L. & TECH. 189 (2019).", "Holbrook, supra note 1, at 1749.", "Holbrook, Proximate Cause, supra note 1.")))
    assert out[2].references[0].status == "ambiguous" and out[2].resolved is None
    assert out[3].references[0].authority.startswith("Timothy R. Holbrook, Proximate Cause")


def test_supra_to_a_note_opening_with_id_is_the_work_named() -> None:
    out = by_marker(resolve_footnotes(notes(
        TRIBE, "See id.; Kenji Yoshino, The New Equal Protection, 124 HARV. L. REV. 747 (2011).",
        "Yoshino, supra note 2, at 790.")))
    assert out[3].resolved == "Kenji Yoshino, The New Equal Protection, 124 HARV. L. REV. 747, 790 (2011)"


def test_a_cross_reference_is_no_back_reference() -> None:
    out = by_marker(resolve_footnotes(notes(TRIBE, "See supra text accompanying notes 1–2.", "See supra note 1.")))
    assert out[2].references == () and not out[2].unresolved
    assert out[3].references == () and not out[3].unresolved


def test_supra_note_is_never_guessed() -> None:
    out = by_marker(resolve_footnotes(notes("Tribe, Lawrence (2004).", "Smith, supra note 40, at 3.",
                                            "Smith, supra note 3.")))
    assert out[2].unresolved and out[2].resolved is None  # no note 40
    assert out[3].unresolved  # a note cannot point at itself or a later note


def test_a_full_citation_with_a_supra_later_resolves_only_the_supra() -> None:
    out = by_marker(resolve_footnotes(notes(
        TRIBE, "See Amber Baylor, Unexceptional Protest, 70 UCLA L. REV. 716 (2023); Tribe, supra note 1, at 1900.")))
    (ref,) = out[2].references
    assert ref.kind == "supra" and ref.authority_note == 1 and "Baylor" not in out[2].resolved


def test_short_form_picks_the_decision_by_reporter_and_name() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Baker v. City of McKinney, 84 F.4th 378 (5th Cir. 2023), cert. denied, 145 S. Ct. 11 (2024).",
        "Brief for Petitioner at 5, Katz v. United States, 389 U.S. 347 (1967) (No. 35).",
        "Baker, 84 F.4th at 388.", "Katz, 389 U.S. at 352.", "573 U.S. at 689.", "505 U.S. 1003 (1992).",
        "Lucas, 505 U.S. at 1027.")))
    assert out[3].resolved == "Baker v. City of McKinney, 84 F.4th 378, 388 (5th Cir. 2023), cert. denied, 145 S. Ct. 11 (2024)"
    assert out[4].references[0].status == "not found"  # the brief is not the case it cites
    assert out[5].references[0].status == "not found"  # never cited in full
    assert out[7].resolved == "505 U.S. 1003, 1027 (1992)"  # printed by reporter only


def test_short_form_with_two_decisions_that_fit_is_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Alpha v. Beta, 600 U.S. 181 (2023); Gamma v. Delta, 600 U.S. 200 (2023).", "600 U.S. at 210.",
        "Gamma, 600 U.S. at 210.")))
    assert out[2].references[0].status == "ambiguous"
    assert out[3].resolved == "Gamma v. Delta, 600 U.S. 200, 210 (2023)"


def test_one_decision_printed_with_two_first_pages_is_one_and_briefs_citing_it_are_not_it() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Seven Cnty. Infrastructure Coal. v. Eagle County, 145 S. Ct. 1497 (2025).",
        "Environmental Respondents’ Brief at 20–23, Seven Cnty., 145 S. Ct. 1497 (No. 23-975).",
        "Seven Cnty. Infrastructure Coal. v. Eagle County, 145 S. Ct. 1506, 1506 (2025).",
        "Seven Cnty., 145 S. Ct. at 1511.",
        "Alpha v. Beta, 145 S. Ct. 1490 (2025).", "145 S. Ct. at 1512.")))
    assert out[4].resolved == "Seven Cnty. Infrastructure Coal. v. Eagle County, 145 S. Ct. 1506, 1511 (2025)"
    assert out[6].references[0].status == "ambiguous"  # Alpha or Seven County: the name is not printed
    out = by_marker(resolve_footnotes(notes(
        "Compare id. (noting a calamity), with Baker v. City of McKinney, 84 F.4th 378, 388 (5th Cir. 2023). See "
        "generally Recent Case, Baker v. City of McKinney, 84 F.4th 378 (5th Cir. 2023), 137 HARV. L. REV. 2408 (2024).",
        "Baker, 84 F.4th at 379.")))
    assert out[2].resolved == "Baker v. City of McKinney, 84 F.4th 378, 379 (5th Cir. 2023)"  # not a comment on it


def test_short_form_naming_an_opinion_shows_the_plain_citation_with_that_opinion() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Murr v. Wisconsin, 137 S. Ct. 1933 (2017).", "Murr v. Wisconsin, 137 S. Ct. 1933, 1950 (2017) (Roberts, C.J., "
        "dissenting).", "Murr, 137 S. Ct. at 1947.", "Id. at 1951 (Roberts, C.J., dissenting).")))
    assert out[3].resolved == "Murr v. Wisconsin, 137 S. Ct. 1933, 1947 (2017)" and out[3].resolved_marker == 1
    assert out[4].resolved_marker == 2 and out[4].resolved.endswith("(Roberts, C.J., dissenting)")


def test_hereinafter_names_resolve_wherever_they_were_defined() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Cedar Point, 141 S. Ct. 2063 (2021) (citing Thomas W. Merrill, Property and the Right to Exclude, 77 NEB. L. "
        "REV. 730 (1998) [hereinafter Merrill, Right to Exclude I]).",
        "Notice of Inquiry, 88 Fed. Reg. 59942 (Aug. 30, 2023) [hereinafter NOI].",
        "Merrill, Right to Exclude I, supra note 1, at 731.", "NOI at 59945.", "Wright, supra note 2.")))
    ref = out[3].references[0]
    assert (ref.kind, ref.authority_note, ref.pin) == ("hereinafter", 1, "731")
    assert ref.authority == "Thomas W. Merrill, Property and the Right to Exclude, 77 NEB. L. REV. 730 (1998)"
    assert out[4].references[0].kind == "hereinafter" and out[4].resolved.startswith("Notice of Inquiry, 88 Fed. Reg. 59942")
    assert out[5].unresolved


def test_a_book_prints_its_pin_where_its_pages_stood() -> None:
    out = by_marker(resolve_footnotes(notes(
        "MARK GREENE, A REVIEW OF GUN SAFETY TECHNOLOGIES 15–16 (2013).", "Id. at 43.",
        "26A CHARLES ALAN WRIGHT, FEDERAL PRACTICE AND PROCEDURE: EVIDENCE § 5681 (1992 & Supp. 2024).", "Id. § 5663.")))
    assert out[2].resolved == "MARK GREENE, A REVIEW OF GUN SAFETY TECHNOLOGIES 43 (2013)"
    assert out[4].resolved == "26A CHARLES ALAN WRIGHT, FEDERAL PRACTICE AND PROCEDURE: EVIDENCE § 5663 (1992 & Supp. 2024)"


def test_a_pin_goes_after_the_first_page_not_after_a_section_in_the_title() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Adam Candeub & Eugene Volokh, Interpreting 47 U.S.C. § 230(c)(2), 1 J. FREE SPEECH L. 175, 176 (2021).",
        "Candeub & Volokh, supra note 1, at 179.")))
    assert out[2].resolved == ("Adam Candeub & Eugene Volokh, Interpreting 47 U.S.C. § 230(c)(2), 1 J. FREE SPEECH L. 175, 179 "
                               "(2021)")


def test_prose_that_mentions_supra_is_no_back_reference() -> None:
    out = by_marker(resolve_footnotes(notes(TRIBE, "As discussed supra in Part II.", "As noted supra note 1, the Court agreed.",
                                            "Compare Alpha, Essay, 1 J. 1 (2001), and Beta, Essay, 2 J. 5 (2002), with "
                                            "Gamma, Essay, 3 J. 9 (2003).", "Gamma, supra note 4, at 10.")))
    assert out[2].references == () and out[3].references == ()
    assert out[5].resolved == "Gamma, Essay, 3 J. 9, 10 (2003)"  # "Compare A, and B, with C": three works


def test_works_joined_by_and_are_two_unless_the_and_is_in_a_title() -> None:
    out = by_marker(resolve_footnotes(notes(
        "PATRICK BOLTON, CONTRACT THEORY 122 (2005) and BERNARD SALANIÉ, THE ECONOMICS OF CONTRACTS 195 (2d ed. 2005).",
        "Salanié, supra note 1, at 199.",
        "Gudrun Zagel, India’s International Investment Agreements (IIAs) and Sustainable Development, 12 INDIAN J. 1 (2020).",
        "Zagel, supra note 3, at 13.")))
    assert out[2].resolved == "BERNARD SALANIÉ, THE ECONOMICS OF CONTRACTS 199 (2d ed. 2005)"
    assert out[4].resolved.startswith("Gudrun Zagel, India’s International Investment Agreements (IIAs) and Sustainable")


def test_a_pin_stops_where_prose_goes_on() -> None:
    out = by_marker(resolve_footnotes(notes(TRIBE, "Id. at 1897. RFID is the technology that allows badges to talk.")))
    assert out[2].references[0].pin == "1897"
    assert out[2].resolved == "Laurence H. Tribe, Lawrence v. Texas, 117 HARV. L. REV. 1893, 1897 (2004)"


def test_an_id_after_a_quotation_that_ends_a_sentence_is_an_id() -> None:
    out = by_marker(resolve_footnotes(notes(
        TRIBE, "Justice Kavanaugh says these cases “have grown review into a far more demanding test.” Id. at 1900 (citing "
               "Motor Vehicle Mfrs. Ass’n v. State Farm, 463 U.S. 29 (1983)).", "Id.")))
    assert out[2].references[0].kind == "id" and out[2].references[0].authority_note == 1
    assert out[3].resolved.startswith("Laurence H. Tribe") and "Id. at" not in out[3].resolved


def test_prose_after_a_citation_is_not_part_of_its_authority() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Khiara M. Bridges, Foreword, 136 HARV. L. REV. 23 (2022). “The First Circuit described the allegation.”",
        "Id. at 30.", "Privacy Statement, MCDONALD’S, https://example.org/privacy [https://perma.cc/JHP2]. For users it "
        "says more.", "Id.")))
    assert out[2].resolved == "Khiara M. Bridges, Foreword, 136 HARV. L. REV. 23, 30 (2022)"
    assert out[4].resolved == "Privacy Statement, MCDONALD’S, https://example.org/privacy [https://perma.cc/JHP2]"


def test_a_signal_is_a_whole_word() -> None:
    out = by_marker(resolve_footnotes(notes("Anderson v. Celebrezze, 460 U.S. 780 (1983).", "Anderson, 460 U.S. at 789.")))
    (ref,) = out[2].references
    assert ref.start == 0 and out[2].resolved == "Anderson v. Celebrezze, 460 U.S. 780, 789 (1983)"


def test_pins_of_statutes_and_star_pages_are_shown_as_printed() -> None:
    out = by_marker(resolve_footnotes(notes(
        "42 U.S.C. §§ 12111–12117.", "Id. § 12112(b)(5)(A).", "Carter v. Roe, 2025 WL 1340536, at *1 (D. Md. 2025).",
        "Id. at *8–9.")))
    assert out[2].resolved == "42 U.S.C. § 12112(b)(5)(A)"  # a statute's section is its pin
    assert out[4].resolved == "Carter v. Roe, 2025 WL 1340536, at *8–9 (D. Md. 2025)"


def test_a_hearing_statement_keeps_whose_statement_it_is() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Hearing Before the Subcomm. on Cts., 117th Cong. 15 (2022) (statement of Caitlyn Clark) [hereinafter Clark "
        "Statement]; id. at 30 (statement of Aliza Shatzman) [hereinafter Shatzman Statement].",
        "Clark Statement, supra note 1, at 10.")))
    assert out[2].resolved == "Hearing Before the Subcomm. on Cts., 117th Cong. 10 (2022) (statement of Caitlyn Clark)"


SFFA = "Students for Fair Admissions, Inc. v. President & Fellows of Harv. Coll., 600 U.S. 181 (2023) [hereinafter SFFA]."


def test_a_short_form_ending_a_prose_note_is_found_and_is_what_id_follows() -> None:
    out = by_marker(resolve_footnotes(notes(
        SFFA, "Justice Jackson called out the hypocrisy. For Roberts, diversity belongs “in the bunker, not the "
              "boardroom.” SFFA, 600 U.S. at 411 (Jackson, J., dissenting).", "Id. at 218.")))
    (ref,) = out[2].references
    assert (ref.kind, ref.authority_note, ref.pin, ref.opinion) == ("short", 1, "411", "Jackson, J., dissenting")
    assert out[3].resolved == "Students for Fair Admissions, Inc. v. President & Fellows of Harv. Coll., 600 U.S. 181, 218 (2023)"


def test_a_case_cited_inside_a_sentence_starts_at_its_name() -> None:
    out = by_marker(resolve_footnotes(notes(
        "The majority analogizes this to review “reasonably explained” as the Act requires, consistent with Motor Vehicle "
        "Mfrs. Ass’n of the U.S., Inc. v. State Farm Mut. Auto. Ins. Co., 463 U.S. 29, 43 (1983).", "Id. at 44.",
        "Transcript of Oral Argument at 28, Students for Fair Admissions, Inc. v. Univ. of N.C., 600 U.S. 181 (2023) "
        "(No. 21-707).", "Id. at 29.")))
    assert out[2].resolved == ("Motor Vehicle Mfrs. Ass’n of the U.S., Inc. v. State Farm Mut. Auto. Ins. Co., 463 U.S. 29, 44 "
                               "(1983)")
    # a document about a case is no prose before the case's name, and prints its own page where it stood
    assert out[4].resolved == ("Transcript of Oral Argument at 29, Students for Fair Admissions, Inc. v. Univ. of N.C., "
                               "600 U.S. 181 (2023) (No. 21-707)")


def test_prose_that_names_a_section_is_no_citation() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Am. Radio Relay League, Inc. v. FCC, 524 F.3d 227, 246 (D.C. Cir. 2008).",
        "The second line of decisions referred to here is a line of cases at the circuit level that Justice Kavanaugh "
        "identifies which “have grown State Farm’s ‘narrow’ § 706 review into a far more demanding test.” Id. at 248.",
        "See 42 U.S.C. § 1983.", "Id.")))
    assert out[2].resolved == "Am. Radio Relay League, Inc. v. FCC, 524 F.3d 227, 248 (D.C. Cir. 2008)"
    assert out[4].resolved == "42 U.S.C. § 1983"  # a statute is a citation


def test_first_pages_are_read_where_they_are_and_nowhere_else() -> None:
    out = by_marker(resolve_footnotes(notes(
        "James Lindgren, Measuring the Value, 71 CHI.-KENT L. REV. 149, 207 (1995).", "Id. at 209.",
        "DAVID GRAEBER, DEBT: THE FIRST 5,000 YEARS 129 (2011).", "Id. at 122.",
        "Mark A. Geistfeld, Folk Tort Law, in RESEARCH HANDBOOK ON PRIVATE LAW THEORY 338 (Hanoch Dagan ed., 2020).",
        "Id. at 344–45.",
        "U.S. CTS., COMPLAINTS UNDER 28 U.S.C. 351–364 DURING THE 12-MONTH PERIOD ENDING SEPTEMBER 30, 2022 1–3 (2022).",
        "Id. at 4.")))
    assert out[2].resolved == "James Lindgren, Measuring the Value, 71 CHI.-KENT L. REV. 149, 209 (1995)"  # a hyphen
    assert out[4].resolved == "DAVID GRAEBER, DEBT: THE FIRST 5,000 YEARS 122 (2011)"  # "000 YEARS 129" is no volume
    assert out[6].resolved == ("Mark A. Geistfeld, Folk Tort Law, in RESEARCH HANDBOOK ON PRIVATE LAW THEORY 338, 344–45 "
                               "(Hanoch Dagan ed., 2020)")  # a chapter's first page stays
    assert out[8].resolved == ("U.S. CTS., COMPLAINTS UNDER 28 U.S.C. 351–364 DURING THE 12-MONTH PERIOD ENDING SEPTEMBER "
                               "30, 2022 4 (2022)")  # a section range and a date are no pages


def test_an_id_repeating_its_reporter_takes_the_pin_after_it() -> None:
    out = by_marker(resolve_footnotes(notes("Arizona v. Yellen, 34 F.4th 841 (9th Cir. 2022).", "See id., 34 F.4th at 847.")))
    assert out[2].resolved == "Arizona v. Yellen, 34 F.4th 841, 847 (9th Cir. 2022)"


def test_a_search_that_prints_a_case_cite_is_not_the_case() -> None:
    out = by_marker(resolve_footnotes(notes(
        "United States v. Budziak, 697 F.3d 1105 (9th Cir. 2012).", "Search Results, WESTLAW, https://example.org "
        "(last visited Apr. 16, 2025) (search “697 F.3d 1105”; then select “citing references”).", "Budziak, 697 F.3d at 1107.")))
    assert out[3].resolved == "United States v. Budziak, 697 F.3d 1105, 1107 (9th Cir. 2012)"


def test_an_id_whose_pin_cannot_be_in_its_antecedent_is_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "138 S. Ct. 2361 (2018).",
        "Crisis pregnancy centers are clinics. Am. Coll. of Obstetricians & Gynecologists, Issue Brief: Crisis Pregnancy "
        "Centers 1 (2020), https://example.org/brief.pdf. They are often run by volunteers. Id.",
        "Id. at 2369 (quoting Cal. Health & Safety Code Ann. § 123472(a)(1) (2016)).", "Id. at 2368.",
        TRIBE, "Id. at 12.")))
    assert out[2].references[-1].authority_note == 2  # the brief's own "Id.": no pin to weigh
    # the rule names the issue brief (no page numbering of its own), the pin 2369 fits the case two notes up
    assert (out[3].references[0].status, out[3].resolved) == ("ambiguous", None) and out[3].unresolved
    assert out[4].resolved is None  # and what follows it is not guessed either
    assert out[6].references[0].status == "ambiguous"  # page 12 of an article that begins at 1893


def test_an_id_whose_pin_fits_its_antecedent_stays_resolved() -> None:
    out = by_marker(resolve_footnotes(notes(
        "BRUCE H. MANN, REPUBLIC OF DEBTORS 22 (2002).", "MANN, supra note 1, at 88 (quoting Dive v. Maningham (1551) "
        "75 Eng. Rep. 96, 108–09).", "Id. at 102, 105.",
        "Thomas F. Cotter, Extraterritorial Damages, 39 CARDOZO ARTS & ENT. L.J. 1 (2021).",
        "MICHAELA D. PLATZER, CONG. RSCH. SERV., R46581, SEMICONDUCTORS 6 (2020).", "Id. at 1.")))
    assert out[3].resolved == "BRUCE H. MANN, REPUBLIC OF DEBTORS 102, 105 (2002)"  # a quoted case holds 102: no candidate
    assert out[6].resolved == "MICHAELA D. PLATZER, CONG. RSCH. SERV., R46581, SEMICONDUCTORS 1 (2020)"  # Cotter holds 1 too


def test_a_decision_printed_again_without_its_date_is_a_short_form() -> None:
    out = by_marker(resolve_footnotes(notes(
        "City of Encinitas v. Cal. Dep’t of Hous. & Cmty. Dev., No. 37-2019, 2022 Cal. Super. LEXIS 1969, at *2 (Super. "
        "Ct. Jan. 25, 2022).", "Cal. Dep’t of Hous. & Cmty. Dev., 2022 Cal. Super. LEXIS 1969, at *4.", "See id. at *14–15.",
        "Pub. L. No. 118-5, § 107(e)(1)(A), 137 Stat. 10, 39.", "Pub. L. No. 118-5, § 107(e)(1)(B), 137 Stat. 10, 41.")))
    (ref,) = out[2].references
    assert (ref.kind, ref.authority_note, ref.pin) == ("short", 1, "*4")
    assert out[3].resolved == ("City of Encinitas v. Cal. Dep’t of Hous. & Cmty. Dev., No. 37-2019, 2022 Cal. Super. LEXIS "
                               "1969, at *14–15 (Super. Ct. Jan. 25, 2022)")
    assert out[5].references == ()  # a statute printed again cites its own section


def test_a_decision_is_found_where_another_citation_s_history_cites_it() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Hoffman v. Maryland, 736 F. Supp. 83 (D. Md. 1990), aff’d 928 F.2d 646 (4th Cir. 1991); Beare v. Smith, 321 F. "
        "Supp. 1100 (S.D. Tex. 1971), aff’d sub nom. Beare v. Briscoe, 498 F.2d 244 (5th Cir. 1974).",
        "Hoffman, 928 F.2d at 647.", "Briscoe, 498 F.2d at 248.",
        "WesternGeco LLC v. ION Geophysical Corp., 791 F.3d 1340 (Fed. Cir. 2015).",
        "WesternGeco LLC v. ION Geophysical Corp., 953 F. Supp. 2d 731 (S.D. Tex. 2013), aff’d in part, 791 F.3d 1340 "
        "(Fed. Cir. 2015).", "WesternGeco, 791 F.3d at 1343.")))
    assert out[2].resolved == "Hoffman v. Maryland, 736 F. Supp. 83 (D. Md. 1990), aff’d 928 F.2d 646, 647 (4th Cir. 1991)"
    assert "498 F.2d 244, 248" in out[3].resolved and "Hoffman" not in out[3].resolved
    # its own citation before the one in another's history
    assert out[6].resolved == "WesternGeco LLC v. ION Geophysical Corp., 791 F.3d 1340, 1343 (Fed. Cir. 2015)"


def test_supra_takes_the_work_note_n_cites_in_full_and_no_name_in_a_link() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Mark A. Geistfeld, Tort Law: The Essentials 12 (2008).", "Nicholas Bagley, The Procedure Fetish, 118 MICH. L. "
        "REV. 345 (2019); see also The Ezra Klein Show, How Liberals Hobble, N.Y. TIMES (Feb. 7, 2023), "
        "https://www.nytimes.com/2023/02/07/ezra-klein-podcast-nicholas-bagley.html.", "Bagley, supra note 2, at 364.",
        "See Geistfeld, supra note 1, at 3; Mark A. Geistfeld, The Equity of Tort Claims, 52 SW. L. REV. 493 (2024).",
        "Geistfeld, supra note 4, at 500.")))
    assert out[3].resolved == "Nicholas Bagley, The Procedure Fetish, 118 MICH. L. REV. 345, 364 (2019)"
    assert out[5].resolved == "Mark A. Geistfeld, The Equity of Tort Claims, 52 SW. L. REV. 493, 500 (2024)"


def test_works_compared_after_a_parenthetical_and_titles_with_parentheses() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Compare W. Kip Viscusi, Regulating the Regulators, 63 U. CHI. L. REV. 1423 (1996) (discussing how regulation "
        "oversteps), with W. Kip Viscusi, Constructive Cigarette Regulation, 47 DUKE L.J. 1095 (1998) [hereinafter Viscusi, "
        "Constructive Cigarette Regulation].", "Viscusi, Constructive Cigarette Regulation, supra note 1, at 1096.",
        "Ryan Eason, Get Out the Vote (or Else): Testing Compulsory Voting, 94 S. CALIF. L. REV. 963 (2021).", "Id. at 980.")))
    assert out[2].resolved == "W. Kip Viscusi, Constructive Cigarette Regulation, 47 DUKE L.J. 1095, 1096 (1998)"
    assert out[4].resolved == ("Ryan Eason, Get Out the Vote (or Else): Testing Compulsory Voting, 94 S. CALIF. L. REV. 963, 980 "
                               "(2021)")


def test_a_case_named_in_prose_and_cited_by_its_reporter_in_the_next_sentence() -> None:
    out = by_marker(resolve_footnotes(notes(
        "The Fifth Circuit issued its opinion in Texas v. Yellen in June 2024. 105 F.4th 755 (5th Cir. 2024).",
        "Texas v. Yellen, 105 F.4th at 763.",
        "Common Cause v. Kemp, 243 F. Supp. 3d 1315 (N.D. Ga. 2017).",
        "See id. Similarly, in Common Cause, 243 F. Supp. at 1322, the court cited Hoffman for the proposition.")))
    assert out[2].resolved == "105 F.4th 755, 763 (5th Cir. 2024)"  # the citation, not the sentence before it
    short = out[4].references[-1]  # in a sentence, its series left out: name and volume decide
    assert (short.kind, short.authority_note) == ("short", 3)
    assert short.resolved == "Common Cause v. Kemp, 243 F. Supp. 3d 1315, 1322 (N.D. Ga. 2017)"


def test_a_supra_with_a_misprint_is_resolved_only_where_one_work_fits() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Daniel J. Hemel & Lisa Larrimore Ouellette, Beyond the Patents–Prizes Debate, 92 TEXAS L. REV. 303 (2013); "
        "Christopher Buccafusco, Disability and Design, 95 N.Y.U. L. REV. 952 (2020).",
        "Hemel & Oullette, supra note 1, at 316.", "Survey: Most Americans Support Smart Guns, JHU (Jan. 21, 2016).",
        "Survey: Most Americans Prefer Smart Guns, supra note 3.", "Akbar, Essay, 1 J. 1 (2020).",
        "Charles M. Bell, Note, Graymail, 16 GEO. J.L. & PUB. POL’Y 537 (2018).", "Bell, supra note 5.",
        "Smith, supra note 6.", "Jones, Essay, 2 J. 2 (2021); on Bell, see Part II.", "Jane Bell, Essay, 3 J. 3 (2022).",
        "Bell, supra note 9.")))
    assert out[2].resolved == ("Daniel J. Hemel & Lisa Larrimore Ouellette, Beyond the Patents–Prizes Debate, 92 TEXAS L. REV. "
                               "303, 316 (2013)")
    assert out[4].resolved == "Survey: Most Americans Support Smart Guns, JHU (Jan. 21, 2016)"
    assert out[7].references[0].authority_note == 6  # no Bell in note 5, one in note 6: a wrong note number
    assert out[8].unresolved  # no Smith beside note 6 either
    assert out[11].unresolved  # note 9 names Bell: its number is not taken for a misprint


def test_a_draft_cited_at_its_manuscript_pages_shows_this_occurrence_s_page() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Sonja B. Starr, Admissions Essays After SFFA, IND. L.J. (forthcoming 2025) (manuscript at 12).",
        "Starr, supra note 1 (manuscript at 45–46).", "Id. (manuscript at 46) (emphasis added).",
        "Alan Schwartz, Interim Contract Interpretation 4–5 (Aug. 2022) (unpublished manuscript) (on file with authors).",
        "Id. (manuscript at 18–23).")))
    assert out[2].references[0].pin == "manuscript at 45–46"
    assert out[2].resolved == "Sonja B. Starr, Admissions Essays After SFFA, IND. L.J. (forthcoming 2025) (manuscript at 45–46)"
    assert out[3].resolved == "Sonja B. Starr, Admissions Essays After SFFA, IND. L.J. (forthcoming 2025) (manuscript at 46)"
    assert out[5].resolved == ("Alan Schwartz, Interim Contract Interpretation 4–5 (Aug. 2022) (unpublished manuscript) (on "
                               "file with authors) (manuscript at 18–23)")


def test_an_authority_ends_where_its_citation_ends() -> None:
    out = by_marker(resolve_footnotes(notes(
        "James Bohman, Punishment, 5 BUFF. CRIM. L. REV. 551, 552 (2002) (“Thus, ‘to justify punishment’” (quoting "
        "G.W.F. HEGEL, ELEMENTS 125 (1991)).", "Id. at 553.",  # its parenthetical never closed
        "Remote permission concluded in May of 2023. Judicial Conference Revises Policy, U.S. CTS. (Sept. 12, 2023).",
        "Id.", "The compact requires “geo-fencing in the State.” Letter from Bryan Newland to Marcellus W. Osceola, Jr. "
        "(Aug. 6, 2021).", "Id.",
        "CLAIRE JEAN KIM, ASIAN AMERICANS 321 (2023) [hereinafter Kim (2023)].", "Kim (2023), supra note 7, at 333.")))
    assert out[2].resolved == "James Bohman, Punishment, 5 BUFF. CRIM. L. REV. 551, 553 (2002)"
    assert out[4].resolved == "Judicial Conference Revises Policy, U.S. CTS. (Sept. 12, 2023)"  # after a year's sentence
    assert out[6].resolved == "Letter from Bryan Newland to Marcellus W. Osceola, Jr. (Aug. 6, 2021)"  # after a quotation
    assert out[8].resolved == "CLAIRE JEAN KIM, ASIAN AMERICANS 333 (2023)"  # a hereinafter name with its year


def test_a_link_s_bracket_ends_a_sentence() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Jane Roe, Essay, 1 J. 1 (2020).",
        "See Lisa Bernstein, Managerial Contracting (Feb. 16, 2022) (unpublished manuscript), https://ssrn.com/x "
        "[https://perma.cc/WX4J]. For more, see Roe, supra note 1.", "Bernstein, supra note 2.")))
    assert out[2].references[0].authority_note == 1
    assert out[3].resolved == ("Lisa Bernstein, Managerial Contracting (Feb. 16, 2022) (unpublished manuscript), "
                               "https://ssrn.com/x [https://perma.cc/WX4J]")


def test_names_are_read_whole_and_after_the_prose_that_runs_into_them() -> None:
    out = by_marker(resolve_footnotes(notes(
        "For how machine vision works, see JILL WALKER RETTBERG, MACHINE VISION: HOW WE SEE THE WORLD 6–8 (2023).",
        "See RETTBERG, supra note 1, at 5.",  # "SEE" in a title is no signal
        "Alfred L. Snapp & Son, Inc. v. Puerto Rico ex rel. Barez, 458 U.S. 592, 601–02 (1982).", "Id. at 602.",
        "See Ping v. United States (The Chinese Exclusion Case), 130 U.S. 581, 606 (1889).",
        "See The Chinese Exclusion Case, 130 U.S. at 606.",
        "But see Norton v. Glenn, 860 A.2d 48, 57 (Pa. 2004).",
        "This hypothetical is based on the facts of Norton, 860 A.2d at 50.",
        "Much of that literature is discussed in Rettberg, supra note 1.",
        "Carnegie Mellon Univ. v. Marvell Tech., 986 F. Supp. 2d 574 (W.D. Pa. 2013).",
        "Carnegie Mellon, 986 F. Supp. 2d. at 593.")))
    assert out[2].resolved == "JILL WALKER RETTBERG, MACHINE VISION: HOW WE SEE THE WORLD 5 (2023)"
    # "rel." ends no sentence
    assert out[4].resolved == "Alfred L. Snapp & Son, Inc. v. Puerto Rico ex rel. Barez, 458 U.S. 592, 602 (1982)"
    assert out[6].resolved == "Ping v. United States (The Chinese Exclusion Case), 130 U.S. 581, 606 (1889)"  # by its alias
    assert out[8].resolved == "Norton v. Glenn, 860 A.2d 48, 50 (Pa. 2004)"
    assert out[9].references[0].authority_note == 1
    assert out[11].resolved == "Carnegie Mellon Univ. v. Marvell Tech., 986 F. Supp. 2d 574, 593 (W.D. Pa. 2013)"


def test_a_reporter_only_cite_of_another_case_does_not_make_a_named_short_form_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Ohio v. EPA, 144 S. Ct. 2040 (2024); Loper Bright Enters. v. Raimondo, 144 S. Ct. 2244 (2024).",
        "144 S. Ct. 2040 (2024).", "Loper Bright, 144 S. Ct. at 2254.", "SFFA, 144 S. Ct. at 2254.",
        "Students for Fair Admissions, Inc. v. President & Fellows of Harv. Coll., 600 U.S. 181 (2023).",
        "SFFA, 600 U.S. at 230.")))
    assert out[3].resolved == "Loper Bright Enters. v. Raimondo, 144 S. Ct. 2244, 2254 (2024)"  # 2040's is Ohio v. EPA
    assert out[4].unresolved  # a name that names no case here decides nothing
    assert out[6].references[0].authority_note == 5  # its initials


def test_a_citation_followed_by_prose_is_still_a_citation() -> None:
    out = by_marker(resolve_footnotes(notes(
        "21 U.S.C. § 350e(b).", "21 C.F.R. § 808.1. The regulation provides examples of these state requirements, "
        "including general electrical codes, and unfair trade practices. Id.")))
    assert out[2].references[0].authority_note == 2 and out[2].resolved == "21 C.F.R. § 808.1"


def test_a_parenthesis_never_closed_ends_with_its_sentence_and_a_mis_cut_clause_is_no_misprint() -> None:
    out = by_marker(resolve_footnotes(notes(
        "See Riegel v. Medtronic, 552 U.S. 312 (2008) (analyzing the provision (quoting 21 U.S.C. § 360k(a)(1)). For more, "
        "see CRS Report R45825, Federal Preemption, by Bryan L. Adkins, Alexander H. Pepper, and Jay B. Sykes (2023).",
        "See Cent. Maine Power Co. v. Maine Comm’n, 144 F.4th 9, 31 (1st Cir. 2025) (observing that “issues of "
        "preemption); Adkins, Pepper & Sykes, supra note 1, at 3–4.", "See Adkins, Pepper & Sykes, supra note 1, at 17.")))
    # note 1's "(analyzing" never closes: its sentence still ends, and the CRS report after it is read; note 2's
    # clause that swallowed a supra (its quotation never closes) is no work of theirs
    assert out[3].references[0].authority_note == 1
    assert out[3].resolved.startswith("CRS Report R45825, Federal Preemption, by Bryan L. Adkins")
    out = by_marker(resolve_footnotes(notes(
        "As Adkins, Pepper, and Sykes explain, preemption is a question of statutory interpretation.",
        "See Cent. Maine Power Co. v. Maine Comm’n, 144 F.4th 9, 31 (1st Cir. 2025) (observing that “issues of "
        "preemption); Adkins, Pepper & Sykes, supra note 1, at 3–4.", "See Adkins, Pepper & Sykes, supra note 1, at 17.")))
    assert out[3].unresolved  # note 1 prints the names (no citation there): not a misprint for note 2


def test_a_journal_title_with_on_is_a_reporter() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Alan Schwartz & Simone M. Sepe, Economic Challenges, 38 Yale J. on Reg. 678, 680 (2021).",
        "Schwartz & Sepe, supra note 1, at 691–92.")))
    assert out[2].resolved == "Alan Schwartz & Simone M. Sepe, Economic Challenges, 38 Yale J. on Reg. 678, 691–92 (2021)"


def test_a_sentence_after_a_pin_starts_a_clause_and_a_sentence_with_a_link_is_prose() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Seven Cnty. Infrastructure Coal. v. Eagle County, 145 S. Ct. 1497 (2025).",
        "Seven Cnty., 145 S. Ct. at 1508. As detailed by the Solicitor General, the total included 600 pages. Brief for "
        "the Federal Respondents Supporting Petitioners at 6, Seven Cnty., 145 S. Ct. 1497 (No. 23-975).",
        "See Brief for the Federal Respondents Supporting Petitioners, supra note 2, at 31.",
        "Seven Cnty., 145 S. Ct. at 1510. In that order, the Commission established that parties could submit "
        "complaints through the Commission’s website: http://esupport.fcc.gov/complaints.html. Id.")))
    assert out[3].resolved == ("Brief for the Federal Respondents Supporting Petitioners at 31, Seven Cnty., 145 S. Ct. "
                               "1497 (No. 23-975)")
    assert out[4].references[-1].authority_note == 1  # the Id. is the case, not the sentence naming a website


def test_et_al_picks_the_work_of_several_authors() -> None:
    out = by_marker(resolve_footnotes(notes(
        "See Benjamin Klein, Robert G. Crawford & Armen A. Alchian, Vertical Integration, 21 J.L. & ECON. 297 (1978); "
        "Benjamin Klein, Why Hold-Ups Occur, 34 ECON. INQUIRY 444 (1996).",
        "Klein et al., supra note 1, at 299.", "Klein, supra note 1, at 445.")))
    assert out[2].resolved == ("Benjamin Klein, Robert G. Crawford & Armen A. Alchian, Vertical Integration, 21 J.L. & ECON. "
                               "297, 299 (1978)")
    assert out[3].unresolved  # "Klein" alone: either


def test_a_citation_by_reporter_alone_is_named_by_the_text_at_its_marker() -> None:
    texts = ("141 S. Ct. 1868, 1874 (2021).", "141 S. Ct. 1669 (2021).", "Fulton, 141 S. Ct. at 1181.",
             "Ming Dai, 141 S. Ct. at 1681.", "347 U.S. 483 (1954).", "Brown v. Bd. of Educ., 347 U.S. at 494–95.")
    before = {"1": "In Fulton v. City of Philadelphia, for example,", "2": "The Court decided Garland v. Ming Dai",
              "5": "the Court kept what he called Brown v. Board of Education’s"}
    out = by_marker(resolve_footnotes(notes(*texts), before))
    assert out[3].references[0].authority_note == 1  # a mistyped pin: the name and volume decide
    assert out[3].resolved == "141 S. Ct. 1868, 1181 (2021)"  # the citation as printed, its pin as printed
    assert out[4].resolved == "141 S. Ct. 1669, 1681 (2021)"
    assert out[6].resolved == "347 U.S. 483, 494–95 (1954)"  # "Bd. of Educ." shares a word with the text's name
    assert by_marker(resolve_footnotes(notes(*texts)))[3].unresolved  # without the text: no name, not guessed


def test_an_id_that_prose_leads_into_a_range_for_a_pin_and_a_supra_without_a_note() -> None:
    out = by_marker(resolve_footnotes(notes(
        "PAMELA HAAG, THE GUNNING OF AMERICA 16–18 (2016).",
        "For broader histories, see generally id.; IAN V. HOGG, STORY OF THE GUN (1996).",
        "Kentucky v. Yellen, 54 F.4th 325 (6th Cir. 2022).",
        "The Sixth Circuit held that Tennessee had standing. See 54 F.4th 342–43.",
        "See Audrey Rogers, Prosecutorial Use of Expert Testimony, 8 COLUM. J. GENDER & L. 67 (1998); see also Rogers, "
        "supra, at 68 n.4.",
        "Compare, e.g., Forbearance Order, 24 FCC Rcd at 9558 (filing format) with, e.g., id. at 9551.")))
    assert out[2].references[0].authority_note == 1  # not lost in the prose before it
    assert out[4].resolved == "Kentucky v. Yellen, 54 F.4th 325, 342–43 (6th Cir. 2022)"  # a range is a pin
    assert out[5].references[-1].resolved == ("Audrey Rogers, Prosecutorial Use of Expert Testimony, 8 COLUM. J. GENDER & L. "
                                              "67, 68 n.4 (1998)")  # the work of this note that the name fits
    assert all(r.kind != "id" or r.status != "resolved" for r in out[6].references)  # its Id. is the order, not found


# --- report styles (CRS): names used bare, statutes, agencies' notices --------------------------

def test_a_name_given_in_parentheses_is_used_bare_with_a_pin_a_lead_in_or_a_table_of_it() -> None:
    out = by_marker(resolve_footnotes(notes(
        "For example, Kathryn Miller et al., “Challenging the Need for Deep Seabed Mining,” Frontiers in Marine "
        "Science, vol. 8 (July 2021) (hereinafter Miller et al., “Challenging the Need”); and EPA, Regulatory Impact "
        "Analysis of the Waste Emissions Charge, 2024 (hereinafter, EPA RIA).",
        "Miller et al., “Challenging the Need,” pp. 14-15.", "For example, see Miller et al., “Challenging the Need,” p. 4.",
        "Table 4-1 of EPA RIA.", "EPA states that “the inventory is an important resource” (EPA RIA, p. 3-6).",
        "EPA RIA, Annex 6, Table A-233, https://www.epa.gov/ria.", "Miller et al., “Challenging the Need,” and the "
        "other studies it reviews.")))
    for n in (2, 3):
        assert out[n].references[0].kind == "hereinafter" and out[n].resolved.startswith("Kathryn Miller et al.")  # no
        # "For example," of the note that gave the name
    for n in (4, 5, 6):
        assert out[n].references[-1].authority_note == 1 and out[n].resolved.startswith("EPA, Regulatory Impact Analysis")
    assert out[7].references == ()  # prose goes on after the name: no pin
    out = by_marker(resolve_footnotes(notes("EPA, Regulatory Impact Analysis, 2024 (hereinafter EPA RIA).",
                                            "EPA RIA, or so it is.", "EPA RIA, Table ES-2.", "See §3(a)(i) of EPA RIA.")))
    assert out[2].references == ()  # short words, no number: prose, not a pin
    assert out[3].references[0].authority_note == out[4].references[0].authority_note == 1


def test_a_citation_printed_as_a_name_given_earlier_is_that_work() -> None:
    out = by_marker(resolve_footnotes(notes(
        "NOAA, “Deep Seabed Mining: Approval of Exploration License Extensions,” 82 Federal Register 42327, September 7, "
        "2017 (hereinafter NOAA, “Deep Seabed Mining: Approval,” 82 Federal Register 42327).",
        "NOAA, “Deep Seabed Mining: Approval,” 82 Federal Register 42327.",
        "NOAA, “Deep Seabed Mining: Approval of Exploration License Extensions,” 87 Federal Register 52743, August 29, 2022.",
        "NOAA, “Deep Seabed Mining,” 87 Federal Register 52743.",
        "NOAA, “Deep Seabed Mining,” 87 Federal Register 52743, August 29, 2022.",
        "NOAA, “Deep Seabed Mining,” 87 Federal Register 52743. The notice links to an application of May 2025.")))
    assert out[1].references == ()  # the name given is no citation of its own
    assert out[2].references[0].kind == "hereinafter"
    assert out[2].resolved.endswith("82 Federal Register 42327, September 7, 2017")
    # a notice printed again without its date is the one printed with it, as a decision is
    assert out[4].references[0].authority_note == 3 and out[4].resolved.endswith("August 29, 2022")
    assert out[5].references == ()  # printed again with its date: a citation of its own
    assert out[6].resolved.endswith("52743, August 29, 2022")  # a date in the prose after it is not its own


def test_a_statute_s_short_form_and_a_misspelt_case_name() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Ch. 675, 52 Stat. 1040 (1938); Pub. L. No. 111-31, 123 Stat. 1776 (2009).",
        "See ch. 675, § 505, 52 Stat. at 1052.", "Pub. L. No. 111-31, § 3, 123 Stat. at 1781.",
        "U.S. Smokeless Tobacco Mfr. Co. v. City of N.Y., 708 F.3d 428 (2d Cir. 2013); R.J. Reynolds Tobacco Co. v. "
        "Cnty. of L.A., 29 F.4th 542 (9th Cir. 2022).", "U.S. Smokeless Tobacco Mfg. Co., 708 F.3d at 434.",
        "Smokeless Products Co., 708 F.3d at 434.")))
    assert out[2].resolved == "Ch. 675, 52 Stat. 1040, 1052 (1938)"
    assert out[3].references[0].authority_note == 1 and out[3].resolved.startswith("Pub. L. No. 111-31, 123 Stat. 1776")
    assert out[5].resolved.startswith("U.S. Smokeless Tobacco Mfr. Co.")  # one word misspelt of six
    assert out[6].unresolved  # two words that fit nothing: not that case


def test_a_history_under_its_own_name_is_shown_alone_and_a_docket_number_is_no_name() -> None:
    before = {"1": "In GenBioPro v. Sorsaia, a manufacturer challenged the laws."}
    out = by_marker(resolve_footnotes(notes(
        "No. 3:23-0058, 2023 WL 5490179, at *1–2 (S.D.W.Va. Aug. 24, 2023), aff’d sub nom., GenBioPro, Inc. v. Raynes, "
        "144 F.4th 258 (4th Cir. 2025).", "Raynes, 144 F.4th at 273.", "Id. at 276.", "Sorsaia, 2023 WL 5490179 at *10."),
        before))
    assert out[2].resolved == "GenBioPro, Inc. v. Raynes, 144 F.4th 258, 273 (4th Cir. 2025)"
    assert out[3].resolved == "GenBioPro, Inc. v. Raynes, 144 F.4th 258, 276 (4th Cir. 2025)"
    assert out[4].references[0].authority_note == 1 and "2023 WL 5490179" in out[4].resolved


def test_clauses_end_where_an_unclosed_quotation_or_parenthesis_would_run_on() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Hughes v. Talen Energy Mktg., LLC, 578 U.S. 150 (2016); Riegel v. Medtronic, Inc., 552 U.S. 312 (2008); Wyeth "
        "v. Levine, 555 U.S. 555 (2009).",
        "Perez v. Nidek, 711 F.3d 1109, 1120 (9th Cir. 2013) (quoting In re Medtronic, Inc., 623 F.3d 1200, 1204 (8th Cir. "
        "2010); see also Hughes v. Boston Sci. Corp., 631 F.3d 762, 768 (5th Cir. 2011).",
        "See Hughes, 631 F.3d at 768.",
        "See Cent. Me. Power Co. v. Me. Comm’n, 144 F.4th 9, 31 (1st Cir. 2025) (regarding certain “foreign "
        "government-influenced entity, observing that “issues of preemption are questions of law”); Levine, 555 U.S. at 565.",
        "Compare, e.g., Levine, 555 U.S. at 565 (stating the rule), with Riegel, 552 U.S. at 321–25 (not stating it).")))
    assert out[3].resolved.startswith("Hughes v. Boston Sci. Corp., 631 F.3d 762, 768")  # "; see also" ends "(quoting"
    assert out[4].references[0].authority_note == 1  # the parenthesis closes the quotation opened in it
    assert [r.authority_note for r in out[5].references] == [1, 1]
    assert "Riegel" in out[5].resolved and "Levine" in out[5].resolved


def test_an_id_pinned_to_a_section_of_a_work_without_sections_is_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "U.S. Food & Drug Admin., Premarket Approval (PMA) (May 16, 2019), https://www.fda.gov/pma.", "Id.",
        "Id. § 360e(d)(5).", "21 U.S.C. § 360c(a)(1)(A).", "Id. § 360e(d)(5).")))
    assert out[2].resolved_marker == 1
    assert out[3].unresolved and out[3].references[0].status == "ambiguous"
    assert out[5].resolved == "21 U.S.C. § 360e(d)(5)"


def test_an_id_after_an_ambiguous_id_is_ambiguous_and_a_supra_names_its_author_in_prose() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Alpha v. Beta, 501 U.S. 1 (1990); Gamma v. Delta, 502 U.S. 5 (1991).", "Id.", "See id. at 3.",
        "Nina A. Mendelson, Rulemaking, Democracy, and Torrents of E-Mail, 79 GEO. WASH. L. REV. 1343 (2011) (citing Cary "
        "Coglianese, Citizen Participation in Rulemaking, 55 DUKE L.J. 943 (2006)).",
        "This number is merely an example—as Professor Mendelson notes, supra note 4, at 1361, it can be higher.")))
    assert [r.status for n in (2, 3) for r in out[n].references] == ["ambiguous", "ambiguous"]  # not "not found"
    assert out[5].resolved == ("Nina A. Mendelson, Rulemaking, Democracy, and Torrents of E-Mail, 79 GEO. WASH. L. REV. "
                               "1343, 1361 (2011)")


def test_a_chapter_cited_in_a_book_by_supra_is_the_chapter_in_that_book() -> None:
    out = by_marker(resolve_footnotes(notes(
        "See generally, e.g., EVOLUTION OF LAW: SELECT READINGS ON THE ORIGIN AND DEVELOPMENT OF LEGAL INSTITUTIONS "
        "(Albert Kocourek & John H. Wigmore eds., 1915-1918) (tracing the evolution).",
        "John H. Wigmore, Planetary Theory of the Law’s Evolution, in 3 EVO-LUTION OF LAW, supra note 1, at 531; see Oliver "
        "Wendell Holmes, Law in Science and Science in Law, 12 HARV. L. REV. 443, 449 (1899).",
        "Wigmore, supra note 2, at 532.", "Holmes, supra note 2, at 450.")))
    book = ("EVOLUTION OF LAW: SELECT READINGS ON THE ORIGIN AND DEVELOPMENT OF LEGAL INSTITUTIONS (Albert Kocourek & "
            "John H. Wigmore eds., 1915-1918)")  # a book dated by a range of years is a citation
    assert out[2].resolved == f"John H. Wigmore, Planetary Theory of the Law’s Evolution, in 3 {book}, at 531"
    assert out[3].resolved == f"John H. Wigmore, Planetary Theory of the Law’s Evolution, in 3 {book}, at 532"
    assert out[4].resolved.startswith("Oliver Wendell Holmes")


def test_an_author_title_short_form_names_the_one_work_cited_in_full_before() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Kevin Camp et al., “Automotive Dealerships 2007-19: Profit-Margin Compression,” Monthly Labor Review, BLS "
        "(October 2022), https://doi.org/10.21916/mlr.2022.26.",
        "Ayn Roe et al., Scarcity Rents in Car Retailing: Evidence from Dealers, NBER, May 2006, http://nber.org/w1; "
        "and Michael Havlin, “Automotive Dealerships 2019-22: Dealer Markups,” Monthly Labor Review (April 2023), "
        "https://www.bls.gov/mlr.",
        "Camp et al., “Automotive Dealerships 2007-19.”",
        "Dealers earn more from insurance; see Havlin, “Automotive Dealerships 2019-22.”",
        "Operating costs vary (see Roe et al., Scarcity Rents in Car Retailing; and Camp et al., “Automotive "
        "Dealerships 2007-19,” respectively).",
        "Alverez-Blaser et al., Markups and Cost Pass-through Along the Supply Chain.",
        "For discussion, see “Retail Prices: Markups.”",
        "Havlin, “Automotive Dealerships.”")))
    assert out[3].references[0].kind == "short" and out[3].resolved.startswith("Kevin Camp et al.")
    assert out[3].references[0].authority_note == 1  # the author names it: not Havlin's article of the same series
    assert out[4].resolved.startswith("Michael Havlin") and "Camp" not in out[4].resolved  # after prose and "see"
    assert [r.authority_note for r in out[5].references] == [2, 1]  # a list in a parenthetical, each named
    assert out[6].references == () and out[7].references == ()  # never cited in full; a section: nothing shown
    assert out[8].resolved.startswith("Michael Havlin")  # the start of a longer title


def test_an_author_title_short_form_two_works_fit_is_ambiguous() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Ann Lee, “Markups: Evidence from Retail,” J. Econ. (2020), https://a.org; and Ann Lee, “Markups: Evidence "
        "from Retail and Wholesale,” J. Fin. (2021), https://b.org.", "Lee, “Markups: Evidence from Retail.”")))
    assert [r.status for r in out[2].references] == ["ambiguous"] and out[2].resolved is None


def test_a_web_page_cited_with_its_access_date_is_a_work_a_short_form_names() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Largest increase on record going back to Q1 2007; see BEA, “Table 4.2.6B Real Exports and Imports of Goods,” "
        "accessed on February 26, 2025.",
        "BEA, “Table 4.2.6B Real Exports and Imports of Goods.”",
        "In 2025 the BEA, as accessed on most days, reported it.")))
    assert out[2].references[0].authority_note == 1 and out[2].resolved.endswith("accessed on February 26, 2025")
    assert [f.kind for f in find(out[3].text)] == ["text"]  # a sentence that says "accessed": no date after it


def test_for_example_see_starts_a_citation_after_prose() -> None:
    text = ("Typical range identified by CRS analysis of grocery store 10-Ks. For example, see Albertsons Companies, Inc., "
            "Form 10-K for the Fiscal Year Ended February 22, 2025, filed with the SEC, https://www.sec.gov/aci.htm.")
    full = [f for f in find(text) if f.kind == "full"]
    assert len(full) == 1 and full[0].text.startswith("Albertsons Companies, Inc., Form 10-K")  # not the prose before
    out = by_marker(resolve_footnotes(notes(text, "Costs vary (see Albertsons Companies, Inc., Form 10-K).")))
    assert out[2].references[0].authority_note == 1 and "February 22, 2025" in out[2].resolved


def test_an_authors_abbreviation_with_a_pin_is_the_one_work_by_that_author() -> None:
    out = by_marker(resolve_footnotes(notes(
        "United Nations Conference on Trade and Development (UNCTAD), “Strait of Hormuz Disruptions,” March 10, 2026, "
        "https://unctad.org/p.",
        "UNCTAD, p. 7, https://unctad.org/x.pdf.",
        "Government Accountability Office (GAO), “Bridges,” 2020, https://gao.gov/a; and GAO, “Tunnels,” 2021, "
        "https://gao.gov/b.",
        "GAO, p. 5, https://gao.gov/b.pdf.", "CBO, p. 3, https://cbo.gov/c.pdf.",
        "UNCTAD, Review of Maritime Transport 2025, p. 4, https://unctad.org/r.")))
    assert out[2].references[0].authority_note == 1 and out[2].resolved.startswith("United Nations Conference")
    assert [r.status for r in out[4].references] == ["ambiguous"]  # two works by the GAO before it
    assert out[5].references == () and out[6].references == ()  # no work by the CBO; a title: a work of its own


# --- op. cit. ------------------------------------------------------------------------------

def test_op_cit_finds_the_same_authors_earlier_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Anna Kowalska, « Ports of the Baltic », Gdansk, 2010.",
        "Pierre Martin, « Rivers », Paris, 2012.",
        "Anna Kowalska, op. cit., p. 4.",
    )))
    assert out[3].resolved_marker == 1
    assert out[3].resolved.startswith("Anna Kowalska, « Ports")


def test_german_a_a_o_is_op_cit() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Anna Müller, Die Häfen der Ostsee, Berlin 2010, S. 3.", "Peter Braun, Flüsse, Wien 2012.",
        "Müller, a.a.O., S. 4.", "Vgl. Braun, a. a. O., S. 7.")))
    assert out[3].resolved_marker == 1 and out[3].references[0].kind == "op. cit."
    assert out[4].resolved_marker == 2


def test_op_cit_by_the_surname_alone_after_a_signal() -> None:
    out = by_marker(resolve_footnotes(notes(
        "John Smith, « Harbours », 2001.", "Mary Jones, « Rivers », 2003.", "See Smith, op. cit., p. 4.")))
    assert out[3].resolved_marker == 1


def test_op_cit_tolerates_a_typo_in_the_author_name() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Mari Södenberg, « Japan-EU relations », 2022.", "Marie Söderberg, op.cit.")))
    assert out[2].resolved_marker == 1


def test_op_cit_takes_the_latest_matching_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Emil Kirchner, « First book », 2015.", "Other Person, « X », 2000.",
        "Emil Kirchner, « Second book », 2019.", "Emil Kirchner, op. cit.")))
    assert out[4].resolved_marker == 3


def test_op_cit_with_no_matching_author_is_unresolved() -> None:
    out = by_marker(resolve_footnotes(notes("Pierre Martin, « Rivers », 2012.", "Hiroshi Tanaka, *op.cit.*")))
    assert out[2].unresolved
    assert out[2].resolved is None and out[2].resolved_marker is None


def test_op_cit_does_not_point_at_another_back_reference() -> None:
    out = by_marker(resolve_footnotes(notes("Tanaka, op. cit.", "Tanaka, op. cit.")))
    assert out[1].unresolved and out[2].unresolved


# --- the real corpus ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_notes() -> dict:
    return by_marker(list(parse_file(CORPUS).footnotes))


@pytest.mark.parametrize("marker, target, author", [
    (10, 5, "Mari Södenberg"),
    (14, 2, "EU-Japan Summit 2023"),
    (16, 15, "Mario Esteban"),
    (17, 15, "Mario Esteban"),
    (19, 9, "Elena Atanassova"),
    (20, 11, "Emil Kirchner"),
    (21, 6, "Lluç Vidal Lopez"),
])
def test_corpus_back_references_resolve(corpus_notes: dict, marker: int, target: int, author: str) -> None:
    note = corpus_notes[marker]
    assert note.resolved_marker == target
    assert note.resolved == corpus_notes[target].text
    assert author in note.resolved
    assert not note.unresolved


def test_corpus_kirchner_op_cit_points_at_an_earlier_full_kirchner_reference(corpus_notes: dict) -> None:
    target = corpus_notes[corpus_notes[20].resolved_marker]
    assert target.marker < 20
    assert target.text.startswith("Emil Kirchner, « EU-Japan security cooperation in context »")
    assert "op.cit" not in target.text and "op. cit" not in target.text


@pytest.mark.parametrize("marker", [4, 25])
def test_corpus_unresolvable_back_references_are_not_guessed(corpus_notes: dict, marker: int) -> None:
    note = corpus_notes[marker]
    assert note.unresolved
    assert note.resolved is None and note.resolved_marker is None


def test_corpus_full_references_are_left_alone(corpus_notes: dict) -> None:
    for marker in (1, 2, 3, 5, 6, 9, 11, 15, 22, 28):
        assert corpus_notes[marker].resolved is None and not corpus_notes[marker].unresolved


# --- citations and JSON ------------------------------------------------------------------

def paragraph(markers: tuple) -> Paragraph:
    return Paragraph(id="d.txt#p3", doc="d.txt", number=3, section="Intro", page=None, page_end=None,
                     text="Body.", display="Body.[2][1]", footnotes=markers)


def test_citations_for_follows_the_paragraph_marker_order_and_skips_unknown_markers() -> None:
    resolved = by_marker(resolve_footnotes(notes("Smith, « A », <https://a.org/x>.", "Ibid.",
                                                 urls={1: ("https://a.org/x",)})))
    cites = citations_for(paragraph((2, 9, 1)), resolved)
    assert [c.marker for c in cites] == [2, 1]
    assert cites[0] == Citation(marker=2, text="Ibid.", urls=("https://a.org/x",),
                                resolved="Smith, « A », <https://a.org/x>.", unresolved=False,
                                references=resolved[2].references)
    assert cites[0].references[0].kind == "ibid" and cites[0].references[0].authority_note == 1
    assert cites[1].resolved is None


def test_answer_to_json_has_the_contract_shape() -> None:
    hit = Hit(rank=1, score=0.5, paragraph=paragraph((1,)),
              citations=(Citation(marker=1, text="Smith.", urls=("https://a.org/x",)),), highlight="Body.")
    out = answer_to_json(Answer(question="Why?", hits=(hit,), abstained=False, retriever="dense"))
    json.dumps(out)  # serialisable
    assert out["question"] == "Why?"
    assert out["abstained"] is False and out["retriever"] == "dense"
    (result,) = out["results"]
    assert {"rank", "score", "passage_id", "doc", "section", "page", "text", "citations"} <= set(result)
    assert (result["rank"], result["score"], result["passage_id"], result["doc"], result["section"],
            result["page"], result["text"]) == (1, 0.5, "d.txt#p3", "d.txt", "Intro", None, "Body.[2][1]")
    assert result["citations"] == [{"marker": 1, "text": "Smith.", "urls": ["https://a.org/x"],
                                    "resolved": None, "unresolved": False, "kind": None, "authority": None,
                                    "authority_note": None, "pin": None, "references": []}]


def test_pages() -> None:
    assert (pages(None, None), pages(4, None), pages(4, 4), pages(4, 5)) == ("", "p. 4", "p. 4", "pp. 4–5")


# --- the annotated law-review back-references (slow) -----------------------------------------

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = Path(__file__).resolve().parent / "data" / "citations"


def _score_citations(tmp_path: Path, cases: Path, parses: Path, pdfs: str = "dev") -> Counter:
    """Run ../shared/citations/score_citations.py on a case file; return the outcomes counted. The first call
    parses the PDFs its cases need (``qa parse --json``, from ../shared/realpdf/PDFS/pdfs) into ``parses``; the next
    ones score those parses."""
    scorer = SHARED / "citations" / "score_citations.py"
    if not (scorer.is_file() and (SHARED / "realpdf" / "dev" / "pdfs").is_dir()):
        pytest.skip(f"{SHARED / 'citations'} is not beside the repository (it comes with the project's shared folder)")
    out = tmp_path / "cases.json"
    source = ["--from-parses", str(parses)] if parses.is_dir() else [
        "--qa", f"{sys.executable} -m qa", "--pdfs", str(SHARED / "realpdf" / pdfs / "pdfs"), "--save-parses", str(parses)]
    subprocess.run([sys.executable, str(scorer), *source, "--cases", str(cases), "--json", str(out)],
                   check=True, capture_output=True, timeout=900, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return Counter(case["outcome"] for case in json.loads(out.read_text()))


@pytest.mark.slow
def test_citation_scorer_floor(tmp_path: Path) -> None:
    """The citation scorer on the annotated back-references of ../shared/citations (188) and tests/data/citations
    (90 and 100, all 20 dev law reviews; 164 in four CRS reports; 34 in the other genre documents): a regression
    guard a little under what the resolver reaches (docs/citations.md)."""
    parses = tmp_path / "parses"
    round2 = _score_citations(tmp_path, CASES / "cases_round2.jsonl", parses)  # its cases span the 20 reviews
    assert round2["correct"] >= 98 and round2["wrong"] <= 1, round2
    shared = _score_citations(tmp_path, SHARED / "citations" / "cases.jsonl", parses)
    assert shared["correct"] >= 185 and shared["wrong"] <= 2, shared
    more = _score_citations(tmp_path, CASES / "cases_more.jsonl", parses)
    assert more["correct"] >= 88 and more["wrong"] <= 1, more
    crs = _score_citations(tmp_path, CASES / "cases_crs.jsonl", tmp_path / "crs", "genres")
    assert crs["correct"] >= 158 and crs["wrong"] <= 1, crs
    round4 = _score_citations(tmp_path, CASES / "cases_round4.jsonl", tmp_path / "round4", "genres")
    assert round4["correct"] >= 32 and round4["wrong"] == 0, round4
