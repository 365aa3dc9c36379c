#!/usr/bin/env python3
"""Validate questions/questions.jsonl against the corpus (standard library only).

Usage: python3 questions/check_questions.py [questions.jsonl] [corpus.txt]
"""
import json
import os
import re
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
QFILE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "questions.jsonl")
CORPUS = sys.argv[2] if len(sys.argv) > 2 else "/work/shared/corpus/ambitions-and-limits-japan-eu-security.txt"

SUP = "¹²³⁴⁵⁶⁷⁸⁹⁰"
SUP_TO_DIGIT = {c: str("1234567890"[i]) for i, c in enumerate(SUP)}
SUP_RE = re.compile("[" + SUP + "]+")
TYPES = {"fact", "paraphrase", "numeric", "footnote", "citation",
         "pagesplit", "frontback", "unanswerable"}
MINIMUMS = {"fact": 25, "paraphrase": 20, "numeric": 12, "footnote": 8,
            "citation": 12, "pagesplit": 6, "frontback": 6, "unanswerable": 14}
MIN_TOTAL = 110
STOP = set("""a an the of to in on at by for from with and or but not no nor is are was were be been
being do does did done has have had having what which who whom whose when where why how whether
this that these those it its it's their them they he she his her its as into than then there here
about according after before over under between through during without within also any some all
each both either such so if up down out off very can could would should will may might must
much many more most one two own same other another again further only just even still per via
s t despite""".split())


def norm(s):
    return " ".join(s.split())


def stem(w):
    return w[:5]


def content_words(text):
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {stem(w) for w in words if w not in STOP and len(w) > 1}


def load_corpus(path):
    main, notes = [], {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            m = re.match("^([" + SUP + "]+)\\s*(.*)$", line)
            if m:
                num = int("".join(SUP_TO_DIGIT[c] for c in m.group(1)))
                notes[num] = norm(m.group(2))
            else:
                markers = {int("".join(SUP_TO_DIGIT[c] for c in g))
                           for g in SUP_RE.findall(line)}
                main.append((norm(SUP_RE.sub(" ", line)), markers))
    return main, notes


def split_table(items, types, err):
    """Check every type is in both splits (err(kind, message) on a miss); print the type x split table."""
    counts = Counter(q.get("type") for q in items)
    by = defaultdict(Counter)
    for q in items:
        by[q.get("type")][q.get("split")] += 1
    for t in types:
        if counts[t] and (by[t]["dev"] == 0 or by[t]["test"] == 0):
            err("split", f"type {t} not present in both splits")
    print(f"{'type':<14}{'dev':>6}{'test':>6}{'total':>7}")
    for t in sorted(types):
        print(f"{t:<14}{by[t]['dev']:>6}{by[t]['test']:>6}{counts[t]:>7}")
    print(f"{'TOTAL':<14}{sum(b['dev'] for b in by.values()):>6}{sum(b['test'] for b in by.values()):>6}{len(items):>7}")


def main():
    paras, notes = load_corpus(CORPUS)
    errors, warnings = [], []

    def err(qid, msg):
        errors.append(f"{qid}: {msg}")

    items = []
    with open(QFILE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                err(f"line{n}", "blank line")
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                err(f"line{n}", f"invalid JSON: {e}")

    ids = Counter(q.get("id") for q in items)
    for i, c in ids.items():
        if c > 1:
            err(i, "duplicate id")
    questions = Counter(norm(q.get("question", "")).lower() for q in items)
    for qtext, c in questions.items():
        if c > 1:
            err(qtext, "duplicate question text")

    for idx, q in enumerate(items, 1):
        qid = q.get("id", f"#{idx}")
        keys = {"id", "question", "type", "answers", "sources", "footnote", "split"}
        if set(q) != keys:
            err(qid, f"keys {sorted(q)} != {sorted(keys)}")
            continue
        if not re.fullmatch(r"q\d{3}", qid):
            err(qid, "bad id format")
        t = q["type"]
        if t not in TYPES:
            err(qid, f"bad type {t!r}")
        if q["split"] not in ("dev", "test"):
            err(qid, f"bad split {q['split']!r}")
        if not q["question"].strip():
            err(qid, "empty question")
        answers, sources, fn = q["answers"], q["sources"], q["footnote"]
        if not isinstance(answers, list) or not isinstance(sources, list):
            err(qid, "answers/sources must be lists")
            continue

        # answers: exact substrings of main text (not footnotes), no superscripts
        hit_paras = []
        for a in answers:
            if SUP_RE.search(a):
                err(qid, f"answer contains superscript marker: {a!r}")
            na = norm(a)
            found = [p for p in paras if na in p[0]]
            if not found:
                where = " (found only in footnotes)" if any(na in v for v in notes.values()) else ""
                err(qid, f"answer not in main text{where}: {a!r}")
            hit_paras.extend(found)
            nw = len(na.split())
            if nw < 1 or nw > 14:
                warnings.append(f"{qid}: answer length {nw} words: {a!r}")

        if t == "unanswerable":
            if answers or sources or fn is not None:
                err(qid, "unanswerable must have empty answers/sources and null footnote")
        elif not answers:
            err(qid, "answers must be non-empty")

        if t in ("citation", "footnote"):
            if not isinstance(fn, int) or fn not in notes:
                err(qid, f"footnote {fn!r} missing/unknown")
                continue
            if not sources:
                err(qid, "sources must be non-empty")
            # the answer paragraph must carry the footnote marker
            if hit_paras and not any(fn in p[1] for p in hit_paras):
                err(qid, f"no answer paragraph carries marker {fn}")
            own = notes[fn]
            is_ref = bool(re.search(r"ibid|op\.?\s*cit", own, re.I))
            for s in sources:
                ns = norm(s)
                if not any(ns in v for v in notes.values()):
                    err(qid, f"source not in footnote lines: {s!r}")
                elif ns not in own and not (is_ref and any(ns in notes[k] for k in notes if k < fn)):
                    err(qid, f"source {s!r} not in footnote {fn} nor in an earlier reference it points to")
        else:
            if sources:
                err(qid, "sources must be [] for this type")
            if fn is not None:
                err(qid, "footnote must be null for this type")

        # paraphrase: no content word shared with the answer sentence(s)
        if t == "paraphrase":
            qwords = content_words(q["question"])
            for a in answers:
                na = norm(a)
                for ptext, _ in paras:
                    pos = ptext.find(na)
                    if pos < 0:
                        continue
                    sents = re.split(r"(?<=[.!?])\s+", ptext)
                    off = 0
                    for s_ in sents:
                        start = ptext.find(s_, off)
                        end = start + len(s_)
                        off = end
                        if start <= pos + len(na) and pos <= end:
                            shared = qwords & content_words(s_)
                            if shared:
                                err(qid, f"paraphrase shares content words {sorted(shared)} with answer sentence")
                    break

    counts = Counter(q.get("type") for q in items)
    for t, m in MINIMUMS.items():
        if counts[t] < m:
            err("counts", f"type {t}: {counts[t]} < minimum {m}")
    if len(items) < MIN_TOTAL:
        err("counts", f"total {len(items)} < {MIN_TOTAL}")
    split_table(items, TYPES, err)
    for w in warnings:
        print("WARN", w)
    if errors:
        for e in errors:
            print("ERROR", e)
        print(f"FAILED: {len(errors)} error(s)")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
