#!/usr/bin/env python3
"""Speed and memory of kb on the shared Kubernetes corpus (a benchmark, not a test).

  python3 scripts/bench.py             # cargo build --release, then measure
  python3 scripts/bench.py --runs 5    # more index builds (the median is reported)
  python3 scripts/bench.py --kb target/release/kb --json target/bench/latest.json
  python3 scripts/bench.py --shared /path/to/shared   # when shared/ is not next to the checkout

Measures, on this machine:
  1. full index build of ../shared/corpus/k8s-docs with `kb index` into an empty folder:
     wall time and peak RSS (median of --runs builds);
  2. a refresh with nothing changed, and with one article changed (incremental);
  3. `kb serve` on that index: RSS once loaded, then server-side query latency (the
     `took_ms` of /api/search: analysis, search and snippets, without HTTP) p50/p99 over every
     dev query (sent --rounds times after a warm-up round), plus client round-trip times;
  4. RSS of the server after the queries (VmRSS) and its peak (VmHWM).
Targets (issue 3, 2 cores): build < 10 s, p50 < 2 ms, p99 < 10 ms, serving RSS < 300 MB.
Lucene's mark (issue 15, in-process, no snippets): p50 0.42 ms, p99 1.67 ms; kb's target is
p50 <= 0.4 ms and p99 <= 2 ms with snippets, build time and serving RSS no worse.
"""
import argparse
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
# The corpus and judgments under the default shared folder, for the scripts that import them
# (idle.py, link_latency.py); `--shared` moves them for this script.
CORPUS = os.path.join(SHARED, "corpus", "k8s-docs")
QUERIES = os.path.join(SHARED, "eval", "k8s-dev.jsonl")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pct(values, p):
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def build_kb():
    log("$ cargo build --release")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "kb")


def timed(cmd):
    """Runs a command; returns (seconds, peak RSS in MB of that very process, stdout)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{err}")
    return dt, out.strip()


def timed_rss(cmd):
    """Runs a command; returns (seconds, its peak RSS in MB, stdout), from wait4's rusage."""
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.execv(cmd[0], cmd)
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed")
    return dt, usage.ru_maxrss / 1024.0, b"".join(chunks).decode().strip()


def rss_mb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) / 1024.0
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, timeout=30, within=300):
    """Waits until `kb serve` on `port` answers /healthz with 200; returns the connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    while True:
        try:
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                return conn
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        if time.perf_counter() - t0 > within:
            sys.exit("bench: server did not become healthy")
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--shared", default=SHARED,
                    help="the shared folder with corpus/ and eval/ (default: ../shared)")
    args = ap.parse_args()
    global CORPUS, QUERIES
    CORPUS = os.path.join(args.shared, "corpus", "k8s-docs")
    QUERIES = os.path.join(args.shared, "eval", "k8s-dev.jsonl")
    kb = os.path.abspath(args.kb) if args.kb else build_kb()
    queries = [json.loads(l) for l in open(QUERIES, encoding="utf-8")]
    tmp = tempfile.mkdtemp(prefix="kb-bench-")
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    try:
        # 1. Full builds.
        builds = []
        for i in range(args.runs):
            index = os.path.join(tmp, f"index-{i}")
            dt, peak, out = timed_rss([kb, "index", "--articles", CORPUS, "--index", index])
            builds.append((dt, peak))
            log(f"full build {i + 1}: {dt:.2f} s, peak RSS {peak:.0f} MB  ({out})")
        index = os.path.join(tmp, "index-0")
        du = sum(os.path.getsize(os.path.join(index, f)) for f in os.listdir(index)) / 2**20
        result["build"] = {"seconds_median": statistics.median(b[0] for b in builds),
                           "seconds_all": [round(b[0], 3) for b in builds],
                           "peak_rss_mb": max(b[1] for b in builds), "index_mb": round(du, 1)}

        # 2. Incremental refreshes on a copy of the corpus.
        corpus = os.path.join(tmp, "corpus")
        shutil.copytree(CORPUS, corpus)
        inc_index = os.path.join(tmp, "index-inc")
        timed([kb, "index", "--articles", corpus, "--index", inc_index])
        dt_none, out_none = timed([kb, "index", "--articles", corpus, "--index", inc_index])
        target = os.path.join(corpus, "en", "docs", "concepts", "overview", "_index.md")
        with open(target, "a", encoding="utf-8") as f:
            f.write("\nA new paragraph about benchmark refreshes.\n")
        dt_one, out_one = timed([kb, "index", "--articles", corpus, "--index", inc_index])
        log(f"refresh, nothing changed: {dt_none:.2f} s ({out_none})")
        log(f"refresh, one article changed: {dt_one:.2f} s ({out_one})")
        result["refresh"] = {"unchanged_s": round(dt_none, 3), "one_changed_s": round(dt_one, 3)}

        # 3. Serving.
        port = free_port()
        data = os.path.join(tmp, "data")
        proc = subprocess.Popen([kb, "serve", "--articles", CORPUS, "--index", index, "--data", data,
                                 "--addr", f"127.0.0.1:{port}", "--no-watch"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            conn = wait_healthy(port)
            loaded = rss_mb(proc.pid)
            log(f"serve: loaded, RSS {loaded['VmRSS']:.0f} MB")
            server_ms, client_ms = [], []
            for round_ in range(args.rounds + 1):
                for q in queries:
                    path = "/api/search?" + urllib.parse.urlencode({"q": q["query"], "lang": q["lang"], "limit": 10})
                    c0 = time.perf_counter()
                    conn.request("GET", path)
                    r = conn.getresponse()
                    body = r.read()
                    c1 = time.perf_counter()
                    if r.status != 200:
                        sys.exit(f"bench: {q['query']!r} got HTTP {r.status}: {body[:200]!r}")
                    if round_ > 0:  # round 0 warms caches
                        server_ms.append(json.loads(body)["took_ms"])
                        client_ms.append((c1 - c0) * 1000)
            after = rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait()
        result["serve"] = {
            "queries": len(server_ms),
            "server_ms": {"p50": pct(server_ms, 50), "p90": pct(server_ms, 90), "p99": pct(server_ms, 99),
                          "max": max(server_ms)},
            "client_ms": {"p50": pct(client_ms, 50), "p99": pct(client_ms, 99)},
            "rss_loaded_mb": loaded["VmRSS"], "rss_after_queries_mb": after["VmRSS"],
            "rss_peak_mb": after["VmHWM"],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    b, s = result["build"], result["serve"]
    print(f"machine: {result['machine']['cpus']} CPUs, {result['machine']['platform']}")
    print(f"full build of k8s-docs (4293 files, 41 MB): {b['seconds_median']:.2f} s median of {args.runs} "
          f"({', '.join(f'{x:.2f}' for x in b['seconds_all'])}), peak RSS {b['peak_rss_mb']:.0f} MB, "
          f"index {b['index_mb']} MB   [target < 10 s, and no worse than before]")
    print(f"refresh: nothing changed {result['refresh']['unchanged_s']:.2f} s, one article changed "
          f"{result['refresh']['one_changed_s']:.2f} s")
    print(f"query latency, server side ({s['queries']} queries): p50 {s['server_ms']['p50']:.2f} ms, "
          f"p90 {s['server_ms']['p90']:.2f} ms, p99 {s['server_ms']['p99']:.2f} ms, max {s['server_ms']['max']:.2f} ms"
          f"   [targets p50 <= 0.4 ms, p99 <= 2 ms; Lucene in-process, no snippets: p50 0.42, p99 1.67]")
    print(f"query latency, client round trip: p50 {s['client_ms']['p50']:.2f} ms, p99 {s['client_ms']['p99']:.2f} ms")
    print(f"serve RSS: {s['rss_loaded_mb']:.0f} MB loaded, {s['rss_after_queries_mb']:.0f} MB after the queries, "
          f"peak {s['rss_peak_mb']:.0f} MB   [target < 300 MB]")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
