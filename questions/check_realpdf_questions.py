#!/usr/bin/env python3
"""Validate questions/questions_realpdf.jsonl against the law-review texts and PDFs.

Usage: .venv/bin/python questions/check_realpdf_questions.py [questions.jsonl] [realpdf/dev]

The documents live outside the repository (../shared/realpdf/dev: `pdfs/NAME.pdf` and
`truth/NAME.json`, the text of the journal's web version as `body` paragraphs, their
footnote markers and `footnotes`). Each gold span must be in the web text (front/back
matter: in the PDF's text) and, with its spaces removed, inside one PDF page's text
(pypdf), so it does not cross a page break, a hyphenated line end or a footnote marker.
"""
import json
import logging
import os
import re
import sys
from collections import Counter

from check_questions import STOP, split_table  # its folder is on sys.path when run as a script

HERE = os.path.dirname(os.path.abspath(__file__))
QFILE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "questions_realpdf.jsonl")
ROOT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "..", "shared", "realpdf", "dev")
if not os.path.isdir(ROOT):
    ROOT = "/work/shared/realpdf/dev"

TYPES = {"fact", "paraphrase", "numeric", "footnote", "citation", "frontback", "unanswerable"}
MINIMUMS = {"fact": 15, "paraphrase": 10, "footnote": 8, "citation": 8, "frontback": 5, "unanswerable": 20}
MIN_ANSWERABLE = 60
MIN_PER_DOC = 2
KEYS = {"id", "question", "type", "answers", "sources", "footnote", "split", "doc"}
FOLD = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " ", "ﬁ": "fi", "ﬂ": "fl"})


def norm(s):
    """Fold quotes and spaces and lower-case, as qa/evaluate.py does."""
    return re.sub(r"\s+", " ", s.translate(FOLD)).strip().lower()


def squeeze(s):
    """Return the text without any whitespace (pypdf spaces words unevenly)."""
    return re.sub(r"\s+", "", s.translate(FOLD)).lower()


def content_words(text):
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOP and len(w) > 1}


def load_docs():
    from pypdf import PdfReader  # the project's dependency; only this checker uses it directly

    logging.getLogger("pypdf").setLevel(logging.ERROR)

    docs = {}
    for name in sorted(os.listdir(os.path.join(ROOT, "truth"))):
        with open(os.path.join(ROOT, "truth", name), encoding="utf-8") as f:
            truth = json.load(f)
        pdf = os.path.join(ROOT, "pdfs", name[:-5] + ".pdf")
        pages = [squeeze(p.extract_text() or "") for p in PdfReader(pdf).pages]
        docs[name[:-5] + ".pdf"] = {
            "body": [norm(p) for p in truth["body"]],
            "markers": [set(m) for m in truth["body_markers"]],
            "notes": {f["number"]: norm(f["text"]) for f in truth["footnotes"]},
            "pages": pages,
        }
    return docs


def main():
    docs = load_docs()
    errors = []

    def err(qid, msg):
        errors.append(f"{qid}: {msg}")

    with open(QFILE, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    for i, c in Counter(q.get("id") for q in items).items():
        if c > 1:
            err(i, "duplicate id")
    for t, c in Counter(norm(q.get("question", "")) for q in items).items():
        if c > 1:
            err(t, "duplicate question text")

    for q in items:
        qid = q.get("id")
        if set(q) != KEYS:
            err(qid, f"keys {sorted(q)} != {sorted(KEYS)}")
            continue
        if not re.fullmatch(r"r\d{3}", qid or ""):
            err(qid, "bad id format (r001…)")
        t, answers, sources, fn, doc = q["type"], q["answers"], q["sources"], q["footnote"], q["doc"]
        if t not in TYPES:
            err(qid, f"bad type {t!r}")
        if q["split"] not in ("dev", "test"):
            err(qid, f"bad split {q['split']!r}")
        if t == "unanswerable":
            if answers or sources or fn is not None or doc is not None:
                err(qid, "unanswerable: answers/sources empty, footnote and doc null")
            continue
        if doc not in docs:
            err(qid, f"unknown doc {doc!r}")
            continue
        d = docs[doc]
        if not answers:
            err(qid, "answers must be non-empty")
        paras = []
        for a in answers:
            na, sa = norm(a), squeeze(a)
            found = [i for i, p in enumerate(d["body"]) if na in p]
            paras += found
            if not found and t != "frontback":
                err(qid, f"answer not in the web text's body: {a!r}")
            if not any(sa in page for page in d["pages"]):
                err(qid, f"answer not inside one PDF page (page break, hyphen or marker?): {a!r}")
            others = [o for o, od in docs.items() if o != doc and any(na in p for p in od["body"])]
            if others:
                err(qid, f"answer also in {others[0]}: {a!r}")
            if not 1 <= len(na.split()) <= 14:
                err(qid, f"answer of {len(na.split())} words: {a!r}")
        if t in ("footnote", "citation"):
            note = d["notes"].get(fn)
            if note is None:
                err(qid, f"footnote {fn!r} not in {doc}")
                continue
            if not sources:
                err(qid, "sources must be non-empty")
            if paras and not any(fn in d["markers"][i] for i in paras):
                err(qid, f"no answer paragraph carries marker {fn}")
            refers = re.search(r"\b(id\.|supra|ibid)", note)
            for s in sources:
                ns = norm(s)
                earlier = [k for k, v in d["notes"].items() if k < fn and ns in v]
                if ns not in note and not (refers and earlier):
                    err(qid, f"source not in footnote {fn} (nor an earlier one it refers to): {s!r}")
                if not any(squeeze(s) in page for page in d["pages"]):
                    err(qid, f"source not inside one PDF page: {s!r}")
        elif sources or fn is not None:
            err(qid, "sources [] and footnote null for this type")
        if t == "paraphrase":
            qwords = content_words(q["question"])
            for i in paras[:1]:
                for sent in re.split(r"(?<=[.!?])\s+", d["body"][i]):
                    if any(norm(a) in sent for a in answers) and qwords & content_words(sent):
                        err(qid, f"paraphrase shares {sorted(qwords & content_words(sent))} with the answer sentence")

    counts = Counter(q.get("type") for q in items)
    for t, m in MINIMUMS.items():
        if counts[t] < m:
            err("counts", f"type {t}: {counts[t]} < minimum {m}")
    answerable = [q for q in items if q.get("type") != "unanswerable"]
    if len(answerable) < MIN_ANSWERABLE:
        err("counts", f"{len(answerable)} answerable < {MIN_ANSWERABLE}")
    per_doc = Counter(q.get("doc") for q in answerable)
    for name in docs:
        if per_doc[name] < MIN_PER_DOC:
            err("counts", f"{name}: {per_doc[name]} questions < {MIN_PER_DOC}")
    split_table(items, TYPES, err)
    for e in errors:
        print("ERROR", e)
    if errors:
        print(f"FAILED: {len(errors)} error(s)")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
