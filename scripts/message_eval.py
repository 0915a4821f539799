#!/usr/bin/env python3
"""How well kb answers a customer's whole message, on the shared Kubernetes judgments.

  python3 scripts/message_eval.py                 # cargo build --release, serve, score
  python3 scripts/message_eval.py --kb target/release/kb
  python3 scripts/message_eval.py --shared /path/to/shared   # when shared/ is not next to the checkout

There are no judged customer messages, so each judged dev query (base variant) is written into
messages the way customers write to support: a greeting, the question in a sentence around
the query, a request for help, a sign-off (two templates per language below, several lines,
the second with more words of the corpus's own topic around the query).
The message goes to POST /api/answers (the more-like-this path) with the judgment's
language; the bare query goes to GET /api/search as a baseline. Prints MRR@10 and Recall@10 of
both per language: what an agent gets by pasting the ticket instead of typing the query.
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from bench import SHARED, build_kb, log  # same folder

TEMPLATES = {
    "en": [
        "Hello support team,\nwe are running a small cluster and I am stuck with {q}. "
        "I read a few pages but could not make it work. Could you point me to the right "
        "documentation?\nThanks a lot,\nAlex",
        "Hi,\n\nThanks for the quick reply last week. Our team upgraded the nodes on Monday and "
        "since then something is off. The question is about {q}: what is the recommended way "
        "to handle it? We would rather not break production again.\n\nBest regards,\nMaria\n"
        "Platform team",
    ],
    "zh-cn": [
        "你好，\n我们有一个小集群，最近在{q}这方面遇到了问题，看了一些页面还是没弄明白。"
        "能否告诉我应该看哪篇文档？\n谢谢！\n小王",
        "您好！\n\n上周感谢你们的快速回复。我们周一升级了节点，之后出现了一些问题。"
        "想请教一下关于{q}，推荐的处理方式是什么？我们不想再影响生产环境。\n\n此致\n玛丽亚",
    ],
    "uk": [
        "Добрий день!\nМи маємо невеликий кластер, і я застряг із темою «{q}». "
        "Прочитав кілька сторінок, але не вийшло. Підкажіть, будь ласка, яку документацію "
        "подивитися?\nДякую,\nОлексій",
        "Вітаю!\n\nДякуємо за швидку відповідь минулого тижня. У понеділок ми оновили вузли, "
        "і відтоді щось не так. Питання щодо «{q}»: як це правильно зробити? Не хочемо знову "
        "зламати продакшн.\n\nЗ повагою,\nМарія",
    ],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def paths(status, data):
    if status != 200:
        return []
    return [r["path"] for r in json.loads(data)["results"]]


def scores(ranked, relevant):
    rr = next((1.0 / (i + 1) for i, p in enumerate(ranked[:10]) if p in relevant), 0.0)
    recall = len(set(ranked[:10]) & relevant) / len(relevant)
    return rr, recall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", help="kb binary (default: cargo build --release)")
    ap.add_argument("--shared", default=SHARED,
                    help="the shared folder with corpus/ and eval/ (default: ../shared)")
    args = ap.parse_args()
    corpus = os.path.join(args.shared, "corpus", "k8s-docs")
    queries = os.path.join(args.shared, "eval", "k8s-dev.jsonl")
    kb = args.kb or build_kb()
    judged = []
    with open(queries, encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if q.get("variant", "base") == "base" and q["lang"] in TEMPLATES:
                judged.append(q)

    with tempfile.TemporaryDirectory(prefix="kb-messages-") as tmp:
        port = free_port()
        server = subprocess.Popen(
            [kb, "serve", "--articles", corpus, "--index", os.path.join(tmp, "index"),
             "--data", os.path.join(tmp, "data"), "--addr", f"127.0.0.1:{port}", "--no-watch"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 600
            while True:
                try:
                    if request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                if time.time() > deadline or server.poll() is not None:
                    sys.exit("kb serve did not become ready")
                time.sleep(0.2)
            totals = {}
            for n, q in enumerate(judged):
                lang, relevant = q["lang"], set(q["relevant"])
                query = urllib.parse.urlencode({"q": q["query"], "lang": lang, "limit": 10})
                runs = [paths(*request(port, "GET", f"/api/search?{query}"))]
                for template in TEMPLATES[lang]:
                    runs.append(paths(*request(port, "POST", "/api/answers", {
                        "text": template.format(q=q["query"]), "lang": lang, "limit": 10})))
                t = totals.setdefault(lang, [0] + [0.0] * (2 * len(runs)))
                t[0] += 1
                for i, ranked in enumerate(runs):
                    rr, recall = scores(ranked, relevant)
                    t[1 + 2 * i] += rr
                    t[2 + 2 * i] += recall
                if (n + 1) % 200 == 0:
                    log(f"  {n + 1}/{len(judged)}")
        finally:
            server.terminate()
            server.wait()
    heads = ["query"] + [f"message {i + 1}" for i in range(len(TEMPLATES["en"]))]
    print(f"{'MRR@10 / R@10':14} {'n':>4}  " + "  ".join(f"{h:>15}" for h in heads))
    for lang, t in sorted(totals.items()):
        n = t[0]
        cells = [f"{t[1 + 2 * i] / n:.3f} / {t[2 + 2 * i] / n:.3f}" for i in range(len(heads))]
        print(f"{lang:14} {n:4}  " + "  ".join(f"{c:>15}" for c in cells))

if __name__ == "__main__":
    main()
