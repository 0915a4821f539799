#!/usr/bin/env python3
"""Checks deploy/nginx.conf for real: nginx in front of three `kb serve --git` replicas.

  python3 scripts/proxy_check.py --nginx /usr/sbin/nginx [--kb target/release/kb]

Not a test (it needs nginx, which CI does not install): a check to run after editing
deploy/nginx.conf. It makes a bare git repository (the remote), starts three replicas that
follow it with only hooks pulling, and nginx with deploy/nginx.conf where only the addresses,
ports and certificate are replaced (a self-signed one, made with openssl). Then, all through
nginx over TLS: plain HTTP is redirected to https; a search answers; `X-Forwarded-Proto`
reaches kb (the sitemap's links say https); `/metrics` is not exposed; an unsigned hook is
refused; ONE signed hook makes all three replicas serve a pushed article (nginx's mirror);
and a reader's `/api/live` stream receives the `change` event as it happens. Exits 1 on the
first check that fails.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from git_latency import SECRET, git, make_remote
from live_latency import ROOT, free_port, get, kb_binary, wait_healthy

REPLICAS = ["10.0.0.11:8080", "10.0.0.12:8080", "10.0.0.13:8080"]
NEW_ARTICLE = """---
title: Proxy check
---

# Proxy check

The word {word} arrived through one hook.
"""


def fail(message):
    sys.exit(f"FAILED: {message}")


def nginx_conf(tmp, ports, http_port, https_port):
    """deploy/nginx.conf with local addresses and a self-signed certificate, in a main config."""
    site = open(os.path.join(ROOT, "deploy", "nginx.conf"), encoding="utf-8").read()
    for replica, port in zip(REPLICAS, ports):
        site = site.replace(replica, f"127.0.0.1:{port}")
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=help.example.com", "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = re.sub(r"ssl_certificate /\S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key /\S+;", f"ssl_certificate_key {key};", site)
    if any(r in site for r in REPLICAS) or "/etc/letsencrypt" in site:
        fail("deploy/nginx.conf changed shape: update proxy_check.py")
    with open(os.path.join(tmp, "site.conf"), "w", encoding="utf-8") as f:
        f.write(site)
    main = os.path.join(tmp, "nginx.conf")
    with open(main, "w", encoding="utf-8") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
""")
    return main


def https(port, method, path, body=None, headers=None):
    """One request to nginx over TLS (the certificate is self-signed): status, headers, body."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                             context=ssl._create_unverified_context())
    try:
        connection.request(method, path, body=body, headers={"Host": "help.example.com",
                                                             **(headers or {})})
        r = connection.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        connection.close()


def listen_live(port, events, opened):
    """Reads /api/live through nginx and appends each `change` event's data, as it arrives."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=60,
                                             context=ssl._create_unverified_context())
    connection.request("GET", "/api/live", headers={"Host": "help.example.com",
                                                    "Accept": "text/event-stream"})
    r = connection.getresponse()
    opened.set()
    event = None
    while True:
        line = r.fp.readline()
        if not line:
            return
        line = line.decode().rstrip("\r\n")
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:") and event == "change":
            events.append((time.perf_counter(), line[5:].strip()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nginx", required=True)
    ap.add_argument("--kb")
    args = ap.parse_args()
    kb = kb_binary(args.kb)
    tmp = tempfile.mkdtemp(prefix="kb-proxy-")
    os.chmod(tmp, 0o755)  # nginx's workers (nobody) write their temporary files in it
    procs = []
    try:
        work, remote = make_remote(tmp, os.path.join(ROOT, "articles"))

        ports = [free_port() for _ in REPLICAS]
        for i, port in enumerate(ports):
            home = os.path.join(tmp, f"replica{i}")
            os.mkdir(home)
            env = dict(os.environ, KB_GIT=remote, KB_GIT_EVERY="1h", KB_GIT_WEBHOOK_SECRET=SECRET,
                       KB_ADDR=f"127.0.0.1:{port}", KB_TRUST_PROXY="127.0.0.1")
            procs.append(subprocess.Popen([kb, "serve"], cwd=home, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in ports:
            wait_healthy(f"http://127.0.0.1:{port}", 300)

        http_port, https_port = free_port(), free_port()
        procs.append(subprocess.Popen([args.nginx, "-p", tmp, "-c", nginx_conf(tmp, ports, http_port, https_port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        started = time.time()
        while True:
            try:
                https(https_port, "GET", "/healthz")
                break
            except OSError:
                if time.time() - started > 30:
                    fail("nginx did not start: " + open(os.path.join(tmp, "error.log")).read())
                time.sleep(0.1)

        connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        connection.request("GET", "/en/", headers={"Host": "help.example.com"})
        r = connection.getresponse()
        if r.status != 301 or not r.getheader("Location", "").startswith("https://"):
            fail(f"plain HTTP answered {r.status} {r.getheader('Location')}, not a redirect to https")
        print("ok: plain HTTP is redirected to https")

        status, _, body = https(https_port, "GET", "/api/search?q=refund")
        if status != 200 or json.loads(body)["total"] == 0:
            fail(f"search through nginx: {status} {body[:200]!r}")
        print("ok: a search answers through nginx over TLS")

        status, _, body = https(https_port, "GET", "/sitemap.xml")
        if status != 200 or b"<loc>https://help.example.com/" not in body:
            fail(f"the sitemap's links are not https (X-Forwarded-Proto lost?): {body[:300]!r}")
        print("ok: X-Forwarded-Proto reaches kb (the sitemap links to https://help.example.com/)")

        status, _, _ = https(https_port, "GET", "/metrics")
        if status != 404:
            fail(f"/metrics through nginx answered {status}")
        print("ok: /metrics is not exposed through nginx")

        events, opened = [], threading.Event()
        threading.Thread(target=listen_live, args=(https_port, events, opened), daemon=True).start()
        if not opened.wait(10):
            fail("/api/live did not open through nginx")

        word = "zqproxy" + str(int(time.time()))
        with open(os.path.join(work, "en", "proxy-check.md"), "w", encoding="utf-8") as f:
            f.write(NEW_ARTICLE.format(word=word))
        git(work, "add", "--all")
        git(work, "commit", "--quiet", "-m", "A new article")
        git(work, "push", "--quiet", remote, "main")

        body = json.dumps({"ref": "refs/heads/main"}).encode()
        status, _, _ = https(https_port, "POST", "/api/hooks/git", body,
                             {"Content-Type": "application/json"})
        if status != 401:
            fail(f"an unsigned hook through nginx answered {status}")
        time.sleep(1)
        for port in ports:
            _, found = get(f"http://127.0.0.1:{port}/api/search?" + urllib.parse.urlencode({"q": word}))
            if json.loads(found)["total"] != 0:
                fail("an unsigned hook made a replica pull")
        print("ok: an unsigned hook gets 401 and no replica pulls")

        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sent = time.perf_counter()
        status, _, _ = https(https_port, "POST", "/api/hooks/git", body,
                             {"Content-Type": "application/json", "X-Hub-Signature-256": signature})
        if status != 202:
            fail(f"a signed hook through nginx answered {status}")
        waiting = list(ports)
        while waiting:
            waiting = [p for p in waiting if json.loads(get(
                f"http://127.0.0.1:{p}/api/search?" + urllib.parse.urlencode({"q": word}))[1])["total"] == 0]
            if time.perf_counter() - sent > 10:
                fail(f"{len(waiting)} replicas do not serve the push 10 s after one signed hook")
            time.sleep(0.01)
        print(f"ok: one signed hook through nginx, all {len(ports)} replicas serve the push "
              f"after {(time.perf_counter() - sent) * 1000:.0f} ms")

        while not any("proxy-check" in data for _, data in events):
            if time.perf_counter() - sent > 10:
                fail(f"no change event reached the /api/live reader through nginx: {events}")
            time.sleep(0.01)
        arrived = next(t for t, data in events if "proxy-check" in data)
        print(f"ok: the /api/live reader got the change event through nginx "
              f"{(arrived - sent) * 1000:.0f} ms after the hook")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("deploy/nginx.conf: all checks passed")


if __name__ == "__main__":
    main()
