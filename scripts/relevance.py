#!/usr/bin/env python3
"""Relevance experiments: score kb on the shared k8s judgments with ranking overrides.

  python3 scripts/relevance.py                       # current defaults
  python3 scripts/relevance.py "title=4" "body=1.2"  # one run per override spec

Each spec is passed to `kb serve` as KB_RANKING (see README, "Relevance"). The index is kept
in target/relevance-index between runs, so only the first run pays for the build. Prints
MRR@10 per language/variant, one line per spec. Needs a release build (cargo build --release).
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
KB = os.path.join(ROOT, "target", "release", "kb")
INDEX = os.path.join(ROOT, "target", "relevance-index")
GROUPS = ["en/base", "zh-cn/base", "uk/base", "zh-cn/zh-tw", "en/typo", "uk/typo", "all/base"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(spec):
    port = free_port()
    env = dict(os.environ, KB_RANKING=spec, KB_LOG="kb=warn")
    data = tempfile.mkdtemp(prefix="kb-rel-")
    proc = subprocess.Popen([KB, "serve", "--articles", os.path.join(SHARED, "corpus", "k8s-docs"),
                             "--index", INDEX, "--data", data, "--addr", f"127.0.0.1:{port}", "--no-watch"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(1200):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.25)
        summary = os.path.join(data, "summary.json")
        subprocess.run([sys.executable, os.path.join(SHARED, "eval", "run_eval.py"), "--url",
                        f"http://127.0.0.1:{port}", "--summary", summary,
                        "--out", os.path.join(data, "run.jsonl")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(summary) as f:
            s = json.load(f)
    finally:
        proc.terminate()
        proc.wait()
        run_file = os.path.join(data, "run.jsonl")
        if os.path.exists(run_file):
            os.makedirs(os.path.join(ROOT, "target", "eval"), exist_ok=True)
            os.replace(run_file, os.path.join(ROOT, "target", "eval", "relevance-last.run.jsonl"))
        subprocess.run(["rm", "-rf", data])
    groups = s["groups"]
    cells = [f"{groups.get(g, {}).get('mrr', float('nan')):.4f}" for g in GROUPS]
    print(f"{spec or '(defaults)':40s} " + " ".join(cells) + f"  p50 {s['latency_ms']['p50']:.2f}ms err {s['errors']}",
          flush=True)


if __name__ == "__main__":
    print(f"{'spec':40s} " + " ".join(f"{g:>7s}"[-7:] for g in ["en", "zh-cn", "uk", "zh-tw", "en-typo", "uk-typo", "all"]))
    for spec in sys.argv[1:] or [""]:
        run(spec)
