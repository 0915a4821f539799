#!/usr/bin/env python3
"""Writes kb's /api/search responses to the k8s dev queries, to check that a speed change
leaves results as they were (a benchmark helper, not a test).

  python3 scripts/responses.py KB INDEX OUT.json            # then: cmp before.json after.json
  python3 scripts/responses.py KB INDEX OUT.json --stages   # stage means (KB_LOG=kb::search=debug)

KB is a kb binary, INDEX an index of ../shared/corpus/k8s-docs (`kb index`; use one copy per
binary compared at once). Each dev query is searched with `lang`, with `hl` only, with `hl`
and `partial=1`, and as page 2 (offset 10) without either: 4 784 searches, written without
`took_ms` and `search_id`. With --stages, only the `lang` searches, three rounds after a
warm-up one, and the stage log's means and percentiles are printed instead.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pct(values, p):
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kb")
    ap.add_argument("index")
    ap.add_argument("out")
    ap.add_argument("--stages", action="store_true")
    ap.add_argument("--shared", default=os.path.normpath(os.path.join(ROOT, "..", "shared")))
    args = ap.parse_args()
    args.kb = os.path.abspath(args.kb)
    queries = [json.loads(l) for l in open(os.path.join(args.shared, "eval", "k8s-dev.jsonl"), encoding="utf-8")]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ)
    if args.stages:
        env["KB_LOG"] = "kb::search=debug"
    data = tempfile.mkdtemp(prefix="kb-responses-")
    log_path = args.out + ".log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([args.kb, "serve", "--articles", os.path.join(args.shared, "corpus", "k8s-docs"),
                                 "--index", args.index, "--data", data, "--addr", f"127.0.0.1:{port}", "--no-watch"],
                                stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            conn = None
            for _ in range(3000):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.request("GET", "/healthz")
                    r = conn.getresponse()
                    r.read()
                    if r.status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            searches = [{"q": q["query"], "lang": q["lang"], "limit": 10} for q in queries]
            if not args.stages:
                for q in queries:
                    searches.append({"q": q["query"], "hl": q["lang"], "limit": 10})
                    searches.append({"q": q["query"], "hl": q["lang"], "limit": 10, "partial": 1})
                    searches.append({"q": q["query"], "limit": 5, "offset": 10})
            out = {}
            for _ in range(4 if args.stages else 1):
                for v in searches:
                    conn.request("GET", "/api/search?" + urllib.parse.urlencode(v))
                    r = conn.getresponse()
                    j = json.loads(r.read())
                    j.pop("took_ms", None)
                    j.pop("search_id", None)
                    out[json.dumps(v, ensure_ascii=False, sort_keys=True)] = j
        finally:
            proc.terminate()
            proc.wait()
            shutil.rmtree(data, ignore_errors=True)
    if not args.stages:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, indent=0, sort_keys=True)
        return
    lines = [l for l in open(log_path, encoding="utf-8") if "search stages" in l]
    lines = lines[len(lines) // 4:]  # the warm-up round
    rows = []
    for l in lines:
        text = re.sub(r"\x1b\[[0-9;]*m", "", l).split("(ms):")[1]
        rows.append({k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", text) if k != "terms"})
    for k in rows[0]:
        print(f"{k:10s} mean {statistics.mean(r[k] for r in rows):.3f}")
    total = [sum(r.values()) for r in rows]
    query_side = [r["plan"] + r["query"] + r["collect"] + r["choose"] for r in rows]
    for name, v in (("all", total), ("plan..choose", query_side)):
        print(f"{name:12s} mean {statistics.mean(v):.3f} p50 {pct(v, 50):.3f} p90 {pct(v, 90):.3f} p99 {pct(v, 99):.3f}")


if __name__ == "__main__":
    main()
