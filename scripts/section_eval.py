#!/usr/bin/env python3
"""Section-level relevance: does the top result point at the judged section?

Reads section judgments (../shared/eval/vue-dev-sections.jsonl, scripts/k8s-sections.jsonl:
a query, its page in `relevant`, the heading's id in `section`), serves the corpus with kb as
../shared/eval/run_eval.py does (it reuses that script's server handling), sends each query
to /api/search with its `lang` and scores the top result:

  page@1      the top result is the judged page
  section@1   ... and its url ends in #the-judged-section (what the README reports)
  other       ... but it points at another section of that page
  top         ... but it points at the page's top (no section)

  python3 scripts/section_eval.py                     # both corpora, target/release/kb
  python3 scripts/section_eval.py --kb BINARY --only vue
  python3 scripts/section_eval.py --url http://127.0.0.1:8080 --judgments FILE

Standard library only; prints one table per corpus (per language and all).
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = next((p for p in (os.path.normpath(os.path.join(ROOT, *up, "shared")) for up in ([".."], ["..", ".."]))
               if os.path.isdir(p)), os.path.normpath(os.path.join(ROOT, "..", "shared")))
sys.path.insert(0, os.path.join(SHARED, "eval"))
import run_eval  # noqa: E402  (the shared kit's server handling)

CORPORA = {
    "k8s": (os.path.join(SHARED, "corpus", "k8s-docs"), os.path.join(ROOT, "scripts", "k8s-sections.jsonl")),
    "vue": (os.path.join(SHARED, "corpus", "vue-docs"), os.path.join(SHARED, "eval", "vue-dev-sections.jsonl")),
}


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(client, judgments):
    """Counts per language: n, page@1, section@1, other, top."""
    counts = collections.defaultdict(collections.Counter)
    for j in judgments:
        params = {"q": j["query"], "lang": j["lang"], "limit": "1"}
        status, body = client.get("/api/search?" + urllib.parse.urlencode(params))
        c = counts[j["lang"]]
        c["n"] += 1
        if status != 200:
            c["errors"] += 1
            continue
        results = json.loads(body).get("results", [])
        if not results or results[0]["path"] not in j["relevant"]:
            continue
        c["page@1"] += 1
        fragment = urllib.parse.unquote(results[0]["url"].partition("#")[2])
        if not fragment:
            c["top"] += 1
        elif fragment == j["section"]:
            c["section@1"] += 1
        else:
            c["other"] += 1
    return counts


def table(name, counts):
    total = collections.Counter()
    for c in counts.values():
        total.update(c)
    lines = [f"{name}: top result points at the judged section",
             f"{'lang':8} {'n':>5} {'page@1':>7} {'section@1':>10} {'other':>6} {'top':>6}"]
    for lang, c in sorted(counts.items()) + [("all", total)]:
        n = c["n"] or 1
        lines.append(f"{lang:8} {c['n']:>5} {c['page@1'] / n:>7.3f} {c['section@1'] / n:>10.3f} "
                     f"{c['other'] / n:>6.3f} {c['top'] / n:>6.3f}")
    return "\n".join(lines)


def run(kb, corpus, judgments):
    tmp = tempfile.mkdtemp(prefix="kb-sections-")
    port = run_eval.free_port()
    log = os.path.join(tmp, "kb.log")
    cmd = [kb, "serve", "--articles", corpus, "--index", os.path.join(tmp, "index"),
           "--data", os.path.join(tmp, "data"), "--addr", f"127.0.0.1:{port}", "--no-watch"]
    proc = None
    try:
        with open(log, "wb") as lf:
            proc = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        client = run_eval.Client(f"http://127.0.0.1:{port}")
        if run_eval.wait_ready(client, proc, log, 900) is None:
            sys.exit(2)
        counts = score(client, judgments)
        client.close()
        return counts
    finally:
        run_eval.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb", default=os.path.join(ROOT, "target", "release", "kb"))
    ap.add_argument("--only", choices=sorted(CORPORA))
    ap.add_argument("--url", help="score a running server (with --judgments)")
    ap.add_argument("--judgments")
    args = ap.parse_args()
    if args.url:
        if not args.judgments:
            sys.exit("section_eval: --url needs --judgments")
        client = run_eval.Client(args.url)
        print(table(os.path.basename(args.judgments), score(client, load(args.judgments))))
        return
    for name, (corpus, judgments) in sorted(CORPORA.items()):
        if args.only and name != args.only:
            continue
        print(table(name, run(os.path.abspath(args.kb), corpus, load(args.judgments or judgments))))
        print()


if __name__ == "__main__":
    main()
