#!/usr/bin/env python3
"""How long readers wait for a pushed article: from a signed webhook to every replica serving it.

  python3 scripts/git_latency.py                    # sample articles and the k8s corpus, 20 pushes each
  python3 scripts/git_latency.py --pushes 50 --replicas 3 --kb target/release/kb

For each folder it commits the articles to a new bare repository (the remote), starts
`kb serve --git file://… --git-every 1h` replicas on it (only hooks pull), then repeatedly
commits a change with a new made-up word to one article, pushes it, sends GitHub's signed
hook (X-Hub-Signature-256) to every replica and polls /api/search on each every 5 ms until
all of them find the word. Prints p50, p90 and max from the first hook to the last replica
serving the change, and what one GET /metrics costs. Target (issue 12): under 10 s.
"""
import argparse
import hashlib
import hmac
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from live_latency import FOLDERS, free_port, get, kb_binary, percentiles, wait_healthy

SECRET = "a-webhook-secret-for-the-benchmark"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="Writer", GIT_AUTHOR_EMAIL="writer@example.com",
               GIT_COMMITTER_NAME="Writer", GIT_COMMITTER_EMAIL="writer@example.com",
               GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, stdout=subprocess.DEVNULL)


def make_remote(tmp, src):
    """A bare repository in `tmp` whose main branch holds the articles in `src`, and a working
    clone of it: (the clone's folder, the remote's file:// URL)."""
    work = os.path.join(tmp, "work")
    shutil.copytree(src, work, ignore=shutil.ignore_patterns(".git"))
    git(tmp, "init", "--quiet", "--bare", "-b", "main", "remote.git")
    git(work, "init", "--quiet", "-b", "main")
    git(work, "add", "--all")
    git(work, "commit", "--quiet", "-m", "The articles")
    remote = "file://" + os.path.join(tmp, "remote.git")
    git(work, "push", "--quiet", remote, "main")
    return work, remote


def hook(base, body):
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(base + "/api/hooks/git", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 202, r.status


def finds(base, word):
    _, body = get(base + "/api/search?" + urllib.parse.urlencode({"q": word, "limit": 1}))
    return json.loads(body)["total"] > 0


def measure(kb, name, src, article, pushes, replicas):
    tmp = tempfile.mkdtemp(prefix="kb-git-")
    procs = []
    try:
        work, remote = make_remote(tmp, src)
        bases = []
        for i in range(replicas):
            home = os.path.join(tmp, f"replica{i}")
            os.mkdir(home)
            port, metrics = free_port(), free_port()
            procs.append(subprocess.Popen(
                [kb, "serve", "--git", remote, "--git-every", "1h", "--addr", f"127.0.0.1:{port}",
                 "--metrics-addr", f"127.0.0.1:{metrics}"],
                cwd=home, env=dict(os.environ, KB_GIT_WEBHOOK_SECRET=SECRET),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            bases.append((f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics}/metrics"))
        for base, _ in bases:
            wait_healthy(base, 600)
        target = os.path.join(work, *article.split("/"))
        original = open(target, encoding="utf-8").read()
        latencies = []
        for i in range(pushes):
            word = "zq" + "".join(random.choice(string.ascii_lowercase) for _ in range(10))
            with open(target, "w", encoding="utf-8") as f:
                f.write(original + f"\n\nChange {i}: {word}\n")
            git(work, "commit", "--quiet", "--all", "-m", f"Change {i}")
            git(work, "push", "--quiet", remote, "main")
            body = json.dumps({"ref": "refs/heads/main", "change": i}).encode()
            sent = time.perf_counter()
            for base, _ in bases:
                hook(base, body)
            waiting = [base for base, _ in bases]
            while waiting:
                waiting = [b for b in waiting if not finds(b, word)]
                if time.perf_counter() - sent > 60:
                    sys.exit(f"{name}: change {i} not served after 60 s")
                if waiting:
                    time.sleep(0.005)
            latencies.append((time.perf_counter() - sent) * 1000)
            time.sleep(0.2)
        scrapes, size = [], 0
        for _ in range(50):
            started = time.perf_counter()
            _, text = get(bases[0][1])
            scrapes.append((time.perf_counter() - started) * 1000)
            size = len(text)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    p50, p90, worst = percentiles(latencies)
    print(f"{name}: signed hook to {replicas} replicas serving the push, {pushes} pushes: "
          f"p50 {p50:.0f} ms, p90 {p90:.0f} ms, max {worst:.0f} ms   [target < 10 000 ms]", flush=True)
    p50, _, worst = percentiles(scrapes)
    print(f"{name}: GET /metrics ({size / 1024:.1f} kB): p50 {p50:.1f} ms, max {worst:.1f} ms", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb")
    ap.add_argument("--pushes", type=int, default=20)
    ap.add_argument("--replicas", type=int, default=2)
    args = ap.parse_args()
    kb = kb_binary(args.kb)
    for name, (src, article) in FOLDERS.items():
        if os.path.isdir(src):
            measure(kb, name, src, article, args.pushes, args.replicas)


if __name__ == "__main__":
    main()
