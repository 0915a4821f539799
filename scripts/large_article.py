#!/usr/bin/env python3
"""What one large article costs: peak memory to index it and to serve its page (a benchmark).

  python3 scripts/large_article.py                    # cargo build --release; 1 MiB (the default limit)
  python3 scripts/large_article.py --sizes 64KiB,1MiB,4MiB --kb target/release/kb

For each size, writes one article of that size (English prose in paragraphs under headings,
with lists, links and code blocks, as documentation is) next to a 1 kB one, and measures:
  1. the peak RSS of `kb index --max-article-size 64MiB` on that folder, against the same
     build with only the small article (the difference is what the large one costs);
  2. `kb serve` on that index: VmHWM before and after GET of the article page, and the time
     of that request.
Memory should grow in proportion to the article (issue 11 measured 2.8 GB to index a 50 MB
article and 890 MB per page view).
"""
import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from bench import build_kb, free_port, log, rss_mb, timed_rss, wait_healthy  # same folder

WORDS = ("the a to of and pod node cluster container service deployment replica label selector "
         "namespace volume secret config map network policy ingress controller scheduler kubelet "
         "api server resource limit request memory cpu storage class persistent claim job cron "
         "daemon set stateful rollout update restart probe readiness liveness health endpoint "
         "annotation taint toleration affinity").split()


def parse_size(text):
    units = {"kib": 1 << 10, "mib": 1 << 20, "": 1}
    t = text.strip().lower()
    for u in ("kib", "mib"):
        if t.endswith(u):
            return int(float(t[: -len(u)]) * units[u])
    return int(t)


def article(size, rng):
    parts = ["---\ntitle: A very large article\n---\n\n"]
    total, section = len(parts[0]), 0
    while total < size:
        section += 1
        block = [f"## Section {section}\n\n"]
        for _ in range(4):
            block.append(" ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".\n\n")
        block.append(f"- see [part {section}](#section-{section})\n- `kubectl get pods -n ns{section}`\n\n")
        block.append("```yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p%d\n```\n\n" % section)
        chunk = "".join(block)
        parts.append(chunk)
        total += len(chunk.encode())
    return "".join(parts).encode()[:size]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb")
    ap.add_argument("--sizes", default="1MiB")
    args = ap.parse_args()
    kb = os.path.abspath(args.kb) if args.kb else build_kb()
    rng = random.Random(11)
    tmp = tempfile.mkdtemp(prefix="kb-large-")
    try:
        base_dir = os.path.join(tmp, "base")
        os.makedirs(os.path.join(base_dir, "en"))
        with open(os.path.join(base_dir, "en", "small.md"), "w") as f:
            f.write("# Small\n\nA small article.\n")
        _, base_peak, _ = timed_rss([kb, "index", "--articles", base_dir, "--index", os.path.join(tmp, "i0")])
        log(f"baseline: kb index of one small article, peak RSS {base_peak:.0f} MB")
        for size_text in args.sizes.split(","):
            size = parse_size(size_text)
            d = os.path.join(tmp, f"a{size}")
            shutil.copytree(base_dir, d)
            with open(os.path.join(d, "en", "large.md"), "wb") as f:
                f.write(article(size, rng))
            index = os.path.join(tmp, f"i{size}")
            dt, peak, _ = timed_rss([kb, "index", "--articles", d, "--index", index,
                                     "--max-article-size", "64MiB"])
            port = free_port()
            proc = subprocess.Popen([kb, "serve", "--articles", d, "--index", index, "--no-watch",
                                     "--data", os.path.join(tmp, f"data{size}"),
                                     "--max-article-size", "64MiB", "--addr", f"127.0.0.1:{port}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                conn = wait_healthy(port, timeout=120)
                before = rss_mb(proc.pid)["VmHWM"]
                t1 = time.perf_counter()
                conn.request("GET", "/en/large")
                r = conn.getresponse()
                page = r.read()
                took = time.perf_counter() - t1
                after = rss_mb(proc.pid)["VmHWM"]
                if r.status != 200:
                    sys.exit(f"large_article: page answered {r.status}")
            finally:
                proc.terminate()
                proc.wait()
            mb = size / 2**20
            print(f"article of {size_text} ({mb:.2f} MiB): kb index {dt:.2f} s, peak RSS {peak:.0f} MB "
                  f"(+{peak - base_peak:.0f} MB over one small article, {(peak - base_peak) / mb:.0f}× the file); "
                  f"page view {took * 1000:.0f} ms, {len(page) / 2**20:.1f} MiB of HTML, server peak RSS "
                  f"{before:.0f} → {after:.0f} MB (+{after - before:.0f} MB)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
