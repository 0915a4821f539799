#!/usr/bin/env python3
"""Relevance experiments: score kb on both dev corpora (k8s and vue), next to Lucene.

  python3 scripts/relevance.py                       # current defaults
  python3 scripts/relevance.py "title=4" "body=1.2"  # one run per KB_RANKING override spec
  python3 scripts/relevance.py --corpus vue          # one corpus only
  python3 scripts/relevance.py --misses              # also write the misses of each group
  python3 scripts/relevance.py --shared DIR          # when shared/ is not next to the checkout

Each spec is passed to `kb serve` as KB_RANKING (see README, "Relevance"). Each corpus keeps
its index in target/relevance-index-<corpus> between runs (rebuilt when the binary changes),
so only the first run pays for the build. Prints MRR@10 and R@10 per language/variant group,
one block per spec, with Lucene's figures (../shared/eval/BASELINES.md) and the issue's
targets (MRR at least Lucene + 10 %, recall at least Lucene's). Runs are kept in target/eval/.
Needs a release build (cargo build --release), or another binary with --kb.

--misses writes target/eval/<corpus>.misses.txt: every query whose relevant pages are not all
in the top 10, with what came first, and the page's rank in the top 100 and how many of the
query's words it has; then a count of the misses by cause:
  ranked-below  the page has every word of the query but ranks 11th or lower (other pages
                with the same words, often the page that carries the link, rank higher);
  some-words    the page lacks some of the query's words and pages with all of them win;
  no-words      the page has none of the query's words (a generic anchor such as "this
                guide", or another wording): no lexical engine finds it.
Word presence is approximate: the query's words through kb's analyzer (stems, Simplified
Chinese words) found in the page's file as text; variants are checked with their base query.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
KB = os.path.join(ROOT, "target", "release", "kb")
EVAL = os.path.join(ROOT, "target", "eval")

CORPORA = {
    "k8s": ("k8s-docs", "k8s-dev.jsonl"),
    "vue": ("vue-docs", "vue-dev.jsonl"),
}
GROUPS = {
    "k8s": ["en/base", "en/typo", "zh-cn/base", "zh-cn/zh-tw", "uk/base", "uk/typo", "all/base"],
    "vue": ["en/base", "en/typo", "zh-cn/base", "zh-cn/zh-tw", "zh-tw/base", "uk/base", "uk/typo",
            "all/base"],
}
# Lucene 9 BM25 (Anserini), from ../shared/eval/BASELINES.md: (MRR@10, R@10); k8s has no R@10.
LUCENE = {
    "k8s": {"en/base": (0.707, None), "zh-cn/base": (0.654, None), "uk/base": (0.652, None),
            "all/base": (0.671, None), "zh-cn/zh-tw": (0.357, None), "en/typo": (0.562, None)},
    "vue": {"en/base": (0.700, 0.900), "en/typo": (0.560, 0.800), "zh-cn/base": (0.688, 0.943),
            "zh-cn/zh-tw": (0.439, 0.676), "zh-tw/base": (0.732, 0.959), "uk/base": (0.652, 0.910),
            "uk/typo": (0.561, 0.825), "all/base": (0.690, 0.925)},
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_index(corpus):
    """The kept index folder of a corpus, emptied when the binary changed since it was built."""
    index = os.path.join(ROOT, "target", f"relevance-index-{corpus}")
    stamp = index + ".stamp"
    binary = f"{os.path.abspath(KB)} {os.stat(KB).st_mtime_ns}"
    if not os.path.exists(stamp) or open(stamp).read() != binary:
        shutil.rmtree(index, ignore_errors=True)
        with open(stamp, "w") as f:
            f.write(binary)
    return index


TERMS = os.path.join(ROOT, "target", "release", "examples", "terms")


def analyzed_words(queries):
    """Each query's words as kb's analyzer makes them (stems, Simplified Chinese words),
    function words aside, from `cargo run --release --example terms`."""
    if not os.path.exists(TERMS):
        subprocess.run(["cargo", "build", "--release", "--quiet", "--example", "terms"], cwd=ROOT,
                       check=True)
    out = {}
    queries = sorted(set(queries))
    for i in range(0, len(queries), 200):
        chunk = queries[i:i + 200]
        lines = subprocess.run([TERMS, *chunk], check=True, capture_output=True,
                               text=True).stdout.splitlines()
        for q, line in zip(chunk, lines):
            terms = line.split(" => ", 1)[1].split() if " => " in line else []
            out[q] = [t for t in terms if not t.endswith(("(e)", "(p)")) and t not in STOP]
    return out


# Function words, as the analyzer writes them (a short list: enough to judge coverage).
STOP = set("""a an the and or of to in on at by for from with as is are be it this that how do
can what your you we use about see і й та в у на з із до від для про по за що як це чи або
але ви ваш the 的 了 是 在 和 与 及 或 我 你 您 我们 如何 怎么 什么 这 那 一个 可以 请 中""".split())


def page_has(corpus_dir, path, words):
    try:
        with open(os.path.join(corpus_dir, path), encoding="utf-8") as f:
            text = f.read().lower()
    except OSError:
        return 0
    return sum(1 for w in words if w in text)


def deep_ranks(port, judgments, results):
    """For each missed query: the rank (1-100) of each missing relevant page, else None."""
    ranks = {}
    for q in judgments:
        top = results.get(q["id"], [])
        lost = [p for p in q["relevant"] if p not in top]
        if not lost:
            continue
        url = (f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode(
            {"q": q["query"], "lang": q["lang"], "limit": 100}))
        with urllib.request.urlopen(url, timeout=30) as r:
            deep = [h["path"] for h in json.load(r)["results"]]
        ranks[q["id"]] = {p: (deep.index(p) + 1 if p in deep else None) for p in lost}
    return ranks


def run(spec, corpus, want_misses=False):
    folder, judgments = CORPORA[corpus]
    port = free_port()
    env = dict(os.environ, KB_RANKING=spec, KB_LOG="kb=warn")
    data = tempfile.mkdtemp(prefix="kb-rel-")
    proc = subprocess.Popen([KB, "serve", "--articles", os.path.join(SHARED, "corpus", folder),
                             "--index", fresh_index(corpus), "--data", data,
                             "--addr", f"127.0.0.1:{port}", "--no-watch"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.makedirs(EVAL, exist_ok=True)
    out = os.path.join(EVAL, f"{corpus}.run.jsonl")
    try:
        for _ in range(2400):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        summary = os.path.join(data, "summary.json")
        subprocess.run([sys.executable, os.path.join(SHARED, "eval", "run_eval.py"), "--url",
                        f"http://127.0.0.1:{port}", "--summary", summary, "--out", out,
                        "--judgments", os.path.join(SHARED, "eval", judgments)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(summary) as f:
            s = json.load(f)
        if want_misses:
            judgments_rows = [json.loads(l) for l in open(os.path.join(SHARED, "eval", judgments),
                                                           encoding="utf-8")]
            results = {}
            for line in open(out, encoding="utf-8"):
                r = json.loads(line)
                results[r["id"]] = r["results"][:10]
            s["deep_ranks"] = deep_ranks(port, judgments_rows, results)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)
    return s, out


def table(corpus, groups):
    lines = [f"{'group':12s} {'kb MRR':>7s} {'Lucene':>7s} {'target':>7s} {'':2s} "
             f"{'kb R@10':>7s} {'Lucene':>7s} {'':2s}"]
    for g in GROUPS[corpus]:
        kb = groups.get(g, {})
        mrr, rec = kb.get("mrr", float("nan")), kb.get("recall", float("nan"))
        lm, lr = LUCENE[corpus].get(g, (None, None))
        target = lm * 1.1 if lm is not None and g.endswith("/base") else lm
        ok_m = "" if target is None else ("ok" if mrr >= target else "--")
        ok_r = "" if lr is None else ("ok" if rec >= lr else "--")
        f = lambda v: f"{v:7.3f}" if v is not None else f"{'':7s}"
        lines.append(f"{g:12s} {mrr:7.3f} {f(lm)} {f(target)} {ok_m:2s} {rec:7.3f} {f(lr)} {ok_r:2s}")
    return "\n".join(lines)


def misses(corpus, run_file, deep_ranks):
    """Writes every query with a relevant page missing from its top 10, and counts causes."""
    folder, judgments = CORPORA[corpus]
    corpus_dir = os.path.join(SHARED, "corpus", folder)
    results = {}
    for line in open(run_file, encoding="utf-8"):
        r = json.loads(line)
        results[r["id"]] = r["results"][:10]
    rows = [json.loads(l) for l in open(os.path.join(SHARED, "eval", judgments), encoding="utf-8")]
    base = {q["id"]: q["query"] for q in rows if q["variant"] == "base"}
    base_of = lambda q: base.get(q["id"].rsplit("-", 1)[0] if q["variant"] != "base" else q["id"],
                                 q["query"])
    words_of = analyzed_words(base_of(q) for q in rows
                              if any(p not in results.get(q["id"], []) for p in q["relevant"]))
    causes = {}
    path = os.path.join(EVAL, f"{corpus}.misses.txt")
    with open(path, "w", encoding="utf-8") as f:
        for q in rows:
            top = results.get(q["id"], [])
            lost = [p for p in q["relevant"] if p not in top]
            if not lost:
                continue
            words = words_of.get(base_of(q), [])
            group = f"{q['lang']}/{q['variant']}"
            f.write(f"{group} {q['id']} [{q['kind']}] {q['query']!r}\n")
            for p in lost:
                has = page_has(corpus_dir, p, words)
                rank = deep_ranks.get(q["id"], {}).get(p)
                cause = ("no-words" if has == 0 else
                         "ranked-below" if has == len(words) else "some-words")
                causes.setdefault(group, {}).setdefault(cause, 0)
                causes[group][cause] += 1
                f.write(f"    missing {p} (rank {rank or '>100'}, has {has} of {len(words)} words: {cause})\n")
            for i, p in enumerate(top[:3]):
                f.write(f"    {i + 1}. {p}\n")
    return path, causes


def main():
    global SHARED, KB
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    ap.add_argument("--misses", action="store_true")
    ap.add_argument("--shared", default=SHARED,
                    help="the shared folder with corpus/ and eval/ (default: ../shared)")
    ap.add_argument("--kb", default=KB,
                    help="the kb binary to judge (default: target/release/kb); the kept index is "
                         "rebuilt whenever the binary changes")
    args = ap.parse_args()
    SHARED = args.shared
    KB = args.kb
    for spec in args.specs or [""]:
        print(f"== {spec or '(defaults)'}", flush=True)
        for corpus in args.corpus or ["k8s", "vue"]:
            s, out = run(spec, corpus, args.misses)
            print(f"-- {corpus} (p50 {s['latency_ms']['p50']:.2f} ms client, {s['errors']} errors)")
            print(table(corpus, s["groups"]), flush=True)
            if args.misses:
                path, causes = misses(corpus, out, s["deep_ranks"])
                print(f"misses ({path}), relevant pages not in the top 10, by cause:")
                kinds = ["ranked-below", "some-words", "no-words"]
                print(f"  {'group':12s} " + " ".join(f"{k:>12s}" for k in kinds))
                for g in sorted(causes):
                    print(f"  {g:12s} " + " ".join(f"{causes[g].get(k, 0):12d}" for k in kinds))


if __name__ == "__main__":
    main()
