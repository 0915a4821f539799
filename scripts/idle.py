#!/usr/bin/env python3
"""What an idle `kb serve` costs: CPU and reads while nobody touches anything (a benchmark).

  python3 scripts/idle.py                      # cargo build --release, k8s corpus, 30 s
  python3 scripts/idle.py --seconds 60 --kb target/release/kb --articles DIR

Starts `kb serve` (watching) on a copy of the corpus with one broken article added, waits
until it is ready and watching, lets it settle for 3 s, then reads /proc/PID/stat (utime +
stime) and /proc/PID/io (rchar, read_bytes) at the start and the end of a quiet period.
Prints CPU as a share of one core, bytes read per second, and how often the broken article
was reported. Target (issue 11): under 1 % of a core, nothing read, one report.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from bench import CORPUS, build_kb, free_port, log  # same folder


def usage(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rfind(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    io = {}
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            k, v = line.split(":")
            io[k] = int(v)
    return ticks, io["rchar"], io["read_bytes"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kb")
    ap.add_argument("--articles", default=CORPUS)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    kb = os.path.abspath(args.kb) if args.kb else build_kb()
    tmp = tempfile.mkdtemp(prefix="kb-idle-")
    try:
        articles = os.path.join(tmp, "articles")
        shutil.copytree(args.articles, articles)
        with open(os.path.join(articles, "broken-on-purpose.md"), "w") as f:
            f.write("---\ntitle: [\n---\nbroken\n")
        proc = subprocess.Popen(
            [kb, "serve", "--articles", articles, "--index", os.path.join(tmp, "index"),
             "--data", os.path.join(tmp, "data"), "--addr", f"127.0.0.1:{free_port()}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "KB_LOG": "kb=info"})
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            t0 = time.time()
            while not any("watching" in l for l in lines):
                if proc.poll() is not None or time.time() - t0 > 300:
                    sys.exit("idle: kb serve did not start watching:\n" + "".join(lines))
                time.sleep(0.1)
            log(f"ready and watching after {time.time() - t0:.1f} s; settling 3 s")
            time.sleep(3)
            hz = os.sysconf("SC_CLK_TCK")
            t_start, (ticks0, rchar0, bytes0) = time.time(), usage(proc.pid)
            time.sleep(args.seconds)
            t_end, (ticks1, rchar1, bytes1) = time.time(), usage(proc.pid)
            reports = sum("broken-on-purpose.md:" in l for l in lines)
        finally:
            proc.terminate()
            proc.wait()
        dt = t_end - t_start
        cpu = (ticks1 - ticks0) / hz / dt * 100
        print(f"idle kb serve on {args.articles} over {dt:.0f} s: CPU {cpu:.2f} % of a core "
              f"({ticks1 - ticks0} ticks), read {(rchar1 - rchar0) / dt:.0f} B/s "
              f"(from disk {(bytes1 - bytes0) / dt:.0f} B/s), broken article reported {reports} time(s)"
              f"   [target < 1 %, nothing read, once]")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
