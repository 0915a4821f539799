#!/usr/bin/env python3
"""Section judgments for the k8s-docs corpus, by the anchor-text method of the shared kit.

Modelled on ../shared/eval/make_vue_judgments.py (its filters are imported from there, so
the two sets are built alike): a Markdown link [text](target#fragment) on a page of the
corpus whose target is another page of the SAME language, and whose fragment names a heading
that exists on the target page, gives a query (the link text) and a relevant section (the
page and the heading's id). As in ../shared/eval/README.md for the k8s page judgments:

  - links inside code blocks and HTML comments are ignored (the zh-cn and uk pages keep the
    English original in comments);
  - a link counts when its target is a docs page of the page's language: /docs/... for en,
    /zh-cn/docs/..., /uk/docs/..., https://kubernetes.io/[lang/]docs/..., or a link relative
    to the page's URL (Hugo serves x.md at .../x/, an _index.md at its folder); the URL is
    mapped to x.md, x/_index.md or x/index.md, ignoring case;
  - the fragment must name a heading of the target page: its explicit Hugo id ({#id}), else
    the slug of its text (as Hugo's GitHub-style ids: lower case, punctuation dropped,
    spaces to hyphens);
  - anchors are cleaned and filtered as for the page judgments (2-8 words for en and uk,
    2-20 characters for Chinese, generic or URL-like anchors dropped), grouped by
    (language, lower-cased anchor), and a group is kept when all its links point at one
    section;
  - up to 600 groups a language are sampled with a fixed seed, with no cap on anchors equal
    to the heading ("title" kind).

These are section-level judgments: `relevant` is the page, `section` the heading's id and
`heading` its text, the same fields as ../shared/eval/vue-dev-sections.jsonl. They are not
split into dev and test (the page-level held-out half is not known here); kb's ranking is
not tuned on them, and scripts/section_eval.py only reads them.

  python3 scripts/make_k8s_sections.py            # writes scripts/k8s-sections.jsonl
  python3 scripts/make_k8s_sections.py --corpus DIR --out FILE --seed S --cap N
"""
import argparse
import collections
import json
import os
import posixpath
import random
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The shared kit sits next to the checkout (../shared), or next to its worktrees' folder.
SHARED = next((p for p in (os.path.normpath(os.path.join(ROOT, *up, "shared")) for up in ([".."], ["..", ".."]))
               if os.path.isdir(p)), os.path.normpath(os.path.join(ROOT, "..", "shared")))
sys.path.insert(0, os.path.join(SHARED, "eval"))
import make_vue_judgments as vue  # noqa: E402  (the shared kit's filters)

LANGS = ("en", "zh-cn", "uk")


def load_corpus(corpus):
    docs = {}
    for lang in LANGS:
        root = os.path.join(corpus, lang)
        for dp, dns, fns in os.walk(root):
            dns.sort()
            for fn in sorted(fns):
                if fn.endswith(".md"):
                    full = os.path.join(dp, fn)
                    rel = os.path.relpath(full, corpus).replace(os.sep, "/")
                    with open(full, encoding="utf-8", errors="replace") as f:
                        docs[rel] = f.read()
    return docs


def page_url(rel):
    """The URL Hugo serves a corpus file at: /docs/a/b/ for en/docs/a/b.md, /zh-cn/docs/a/
    for zh-cn/docs/a/_index.md."""
    lang, rest = rel.split("/", 1)
    stem = rest[: -len(".md")]
    for index in ("/_index", "/index"):
        if stem.endswith(index):
            stem = stem[: -len(index)]
    prefix = "" if lang == "en" else "/" + lang
    return f"{prefix}/{stem}/"


def resolve(target, src_rel, look):
    """(corpus path of the same language as src_rel, fragment) for a link target, or None."""
    lang = src_rel.split("/", 1)[0]
    u = urllib.parse.urlsplit(target.strip())
    if u.scheme in ("http", "https"):
        if u.netloc.lower() not in ("kubernetes.io", "www.kubernetes.io"):
            return None
    elif u.scheme or u.netloc:
        return None
    path = urllib.parse.unquote(u.path)
    frag = urllib.parse.unquote(u.fragment)
    if not path:
        return None  # a fragment of the same page
    if not path.startswith("/"):
        path = posixpath.normpath(posixpath.join(page_url(src_rel), path))
    segs = [s for s in path.split("/") if s]
    if lang != "en":
        if not segs or segs[0].lower() != lang:
            return None
        segs = segs[1:]
    if not segs or segs[0] != "docs":
        return None
    stem = "/".join(segs)
    if stem.endswith(".md"):
        stem = stem[: -len(".md")]
    for cand in (f"{lang}/{stem}.md", f"{lang}/{stem}/_index.md", f"{lang}/{stem}/index.md"):
        real = look.get(cand.lower())
        if real:
            return real, frag
    return None


def collect(docs):
    look = {rel.lower(): rel for rel in docs}
    heads = {rel: vue.headings(raw) for rel, raw in docs.items()}
    groups = collections.defaultdict(lambda: {"targets": collections.Counter(), "forms": collections.Counter()})
    stats = collections.Counter()
    for rel, raw in docs.items():
        lang = rel.split("/", 1)[0]
        _, body = vue.front_matter(raw)
        body = vue.strip_code(body)
        for m in vue.LINK.finditer(body):
            r = resolve(m.group(2), rel, look)
            if not r:
                continue
            tgt, frag = r
            if tgt == rel or not frag:
                continue
            stats[lang, "with_fragment"] += 1
            q = vue.clean_text(m.group(1))
            if vue.anchor_problem(q, lang):
                continue
            if frag not in heads[tgt]:
                stats[lang, "fragment_missing"] += 1
                continue
            stats[lang, "usable"] += 1
            g = groups[(lang, q.lower())]
            g["targets"][(tgt, frag)] += 1
            g["forms"][q] += 1
    return groups, heads, stats


def build(corpus, seed, cap):
    docs = load_corpus(corpus)
    groups, heads, stats = collect(docs)
    by_lang = collections.defaultdict(lambda: {"anchor": [], "title": []})
    ambiguous = collections.Counter()
    for (lang, key), g in sorted(groups.items()):
        if len(g["targets"]) != 1:
            ambiguous[lang] += 1
            continue
        (tgt, frag), = g["targets"]
        query = sorted(g["forms"].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        heading = heads[tgt][frag]
        kind = "title" if vue.norm_title(heading) == key else "anchor"
        by_lang[lang][kind].append({"lang": lang, "kind": kind, "query": query, "relevant": [tgt],
                                    "section": frag, "heading": heading})
    rng = random.Random(f"{seed}-sections")
    rows, report = [], {}
    for lang in LANGS:
        pick, _ = vue.sample(by_lang[lang], cap, 1.0 - 1e-9, rng)
        for i, q in enumerate(pick, 1):
            q["id"] = f"k8s-sec-{lang}-{i:04d}"
            q["variant"] = "base"
        rows += pick
        report[lang] = {"links_with_fragment": stats[lang, "with_fragment"],
                        "fragment_not_a_heading": stats[lang, "fragment_missing"],
                        "usable": stats[lang, "usable"], "groups_ambiguous": ambiguous[lang],
                        "sampled": len(pick)}
    return rows, report


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(SHARED, "corpus", "k8s-docs"))
    ap.add_argument("--out", default=os.path.join(ROOT, "scripts", "k8s-sections.jsonl"))
    ap.add_argument("--seed", default="k8s-sections-2026")
    ap.add_argument("--cap", type=int, default=600)
    args = ap.parse_args()
    rows, report = build(args.corpus, args.seed, args.cap)
    vue.write_jsonl(args.out, rows)
    print(json.dumps(report, ensure_ascii=False, indent=1), file=sys.stderr)
    c = collections.Counter(r["lang"] for r in rows)
    print("sections", len(rows), dict(sorted(c.items())), "->", args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
