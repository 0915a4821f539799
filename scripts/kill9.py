#!/usr/bin/env python3
"""Durability under `kill -9` (a probe, not a test): no acknowledged vote is ever lost.

  python3 scripts/kill9.py                 # cargo build --release, 20 cycles
  python3 scripts/kill9.py --cycles 40 --clients 32 --kb target/release/kb

Each cycle starts `kb serve` on a copy of the sample articles with one data folder kept across
cycles, has --clients threads post votes (each with a unique comment, each from its own
address through a trusted proxy so that no rate limit refuses it) as fast as the server
answers, kills the server with SIGKILL at a random moment (0.3 to 1.5 s into the load), and
checks the database with SQLite's own `PRAGMA integrity_check`. At the end every vote that was
answered 204 must be in `kb export`. Exit 1 when one is missing or the database is damaged.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTICLE = "en/billing/refunds.md"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kb, work, port):
    proc = subprocess.Popen(
        [kb, "serve", "--articles", os.path.join(work, "articles"),
         "--index", os.path.join(work, "index"), "--data", os.path.join(work, "data"),
         "--addr", f"127.0.0.1:{port}", "--no-watch", "--trust-proxy", "127.0.0.1/32"],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "serve.log"), "a"),
        env={k: v for k, v in os.environ.items() if not k.startswith("KB_")},
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    sys.exit("kb serve did not become healthy; see " + os.path.join(work, "serve.log"))


def client(port, cycle, n, stop, acked, counter):
    conn = None
    while not stop.is_set():
        with counter["lock"]:
            counter["n"] += 1
            i = counter["n"]
        comment = f"kill9 {cycle} {n} {i}"
        body = json.dumps({"path": ARTICLE, "helpful": False, "reason": "other",
                           "comment": comment})
        # Every vote from an address of its own: the probe measures durability, not limits.
        addr = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/api/feedback", body,
                         {"Content-Type": "application/json", "X-Forwarded-For": addr})
            r = conn.getresponse()
            r.read()
            if r.status == 204:
                acked.append(comment)
        except (OSError, http.client.HTTPException):
            conn = None
            if stop.is_set():
                return
            time.sleep(0.01)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb")
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    kb = args.kb
    if not kb:
        log("$ cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        kb = os.path.join(ROOT, "target", "release", "kb")
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="kb-kill9-")
    shutil.copytree(os.path.join(ROOT, "articles"), os.path.join(work, "articles"))
    acked = []
    damaged = []
    counter = {"n": 0, "lock": threading.Lock()}
    try:
        for cycle in range(args.cycles):
            port = free_port()
            proc = start(kb, work, port)
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(port, cycle, n, stop, acked, counter))
                       for n in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.3, 1.5))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            for t in threads:
                t.join()
            db = sqlite3.connect(os.path.join(work, "data", "kb.sqlite3"))
            check = db.execute("PRAGMA integrity_check").fetchone()[0]
            db.close()
            if check != "ok":
                damaged.append((cycle, check))
            log(f"cycle {cycle + 1:>2}: {len(acked)} votes acknowledged so far, integrity {check}")
        out = subprocess.run([kb, "export", "--data", os.path.join(work, "data")],
                             capture_output=True, text=True, check=True).stdout
        stored = {json.loads(l).get("comment") for l in out.splitlines() if l.strip()}
        lost = [c for c in acked if c not in stored]
        print(json.dumps({"cycles": args.cycles, "clients": args.clients,
                          "acknowledged": len(acked), "lost": len(lost),
                          "damaged": damaged}, indent=2))
        if lost or damaged:
            log(f"LOST {len(lost)} acknowledged votes, e.g. {lost[:5]}")
            sys.exit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
