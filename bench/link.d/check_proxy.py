"""A quick check of scripts/faulty_link.py (run by `bench/link --check-proxy`, ~20 s).

Starts a small HTTP server (GET /bytes/N answers N bytes; POST /sink reads the body, counts it and
answers) and, for each fault, the proxy in front of it as a separate process, as the benchmark and the
tests run it; then measures what a client sees through it and what the proxy's --stats file says:
rate (one direction, each way, two connections sharing it), cut-every, stall, drop-replies, loss, and a
clean exit 0 on SIGTERM with the counters written. A Markdown table on stdout, progress on stderr; exit
0 when every check passes, 1 when one fails, 2 when it could not run.
"""
import http.client
import http.server
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROXY = ROOT / "scripts" / "faulty_link.py"
KIB = 1024


def log(*a):
    print("check-proxy:", *a, file=sys.stderr, flush=True)


class Sink(http.server.BaseHTTPRequestHandler):
    received = []  # sizes of the POST bodies read in full
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        n = int(self.path.rsplit("/", 1)[1])
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        block = bytes(range(256)) * 64
        while n > 0:
            k = min(n, len(block))
            self.wfile.write(block[:k])
            n -= k

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        left = n
        while left > 0:
            got = self.rfile.read(min(left, 65536))
            if not got:
                return
            left -= len(got)
        Sink.received.append(n)
        body = f"got {n}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Proxy:
    def __init__(self, target, *opts):
        self.stats_path = Path(tempfile.mkstemp(prefix="faulty-link-", suffix=".json")[1])
        cmd = [sys.executable, str(PROXY), "--target", target, "--stats", str(self.stats_path), *map(str, opts)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError(f"faulty_link.py printed {line!r}, exit {self.proc.poll()}")
        self.port = int(line.split(":")[-1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(10)
        stats = json.loads(self.stats_path.read_text())
        self.stats_path.unlink()
        return code, stats


def get(port, n):
    """(seconds, bytes of the body received, error or None) of GET /bytes/n."""
    t, got = time.monotonic(), 0
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request("GET", f"/bytes/{n}")
        r = c.getresponse()
        while True:
            b = r.read(16 * KIB)
            if not b:
                break
            got += len(b)
        return time.monotonic() - t, got, None if got == n else "short body"
    except (OSError, http.client.HTTPException) as e:
        return time.monotonic() - t, got, type(e).__name__
    finally:
        c.close()


def post(port, n):
    """(seconds, reply body or None, error or None) of POST /sink with n bytes."""
    t = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        c.request("POST", "/sink", body=b"x" * n)
        r = c.getresponse()
        return time.monotonic() - t, r.read().decode(), None
    except (OSError, http.client.HTTPException) as e:
        return time.monotonic() - t, None, type(e).__name__
    finally:
        c.close()


def parallel(*calls):
    out = [None] * len(calls)
    def run(i, f):
        out[i] = f()
    ts = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(calls)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a reply written to a connection the proxy reset


def main():
    httpd = Server(("127.0.0.1", 0), Sink)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    target = f"127.0.0.1:{httpd.server_address[1]}"
    rows = []

    def check(name, figure, ok):
        rows.append((name, figure, ok))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {figure}")

    rate = 128 * KIB
    p = Proxy(target, "--rate", rate)
    s, got, err = get(p.port, 384 * KIB)
    check("rate down: GET 384 KiB at 128 KiB/s (3 s)", f"{s:.2f} s, {got / s / KIB:.0f} KiB/s",
          err is None and 2.7 <= s <= 3.4)
    s, reply, err = post(p.port, 256 * KIB)
    check("rate up: POST 256 KiB at 128 KiB/s (2 s)", f"{s:.2f} s, {256 / s:.0f} KiB/s",
          err is None and 1.8 <= s <= 2.4)
    t = time.monotonic()
    res = parallel(lambda: get(p.port, 192 * KIB), lambda: get(p.port, 192 * KIB))
    s = time.monotonic() - t
    check("rate shared: 2 × GET 192 KiB at once (3 s)", f"{s:.2f} s; each {res[0][0]:.2f} and {res[1][0]:.2f} s",
          all(r[2] is None for r in res) and 2.7 <= s <= 3.4 and min(r[0] for r in res) >= 2.2)
    code, st = p.stop()
    expect = 384 * KIB + 2 * 192 * KIB
    check("counters and SIGTERM", f"exit {code}, down_bytes {st['down_bytes']:,} (bodies {expect:,} + headers), "
          f"up_bytes {st['up_bytes']:,}, connections {st['connections']}",
          code == 0 and expect < st["down_bytes"] < expect + 2 * KIB and 256 * KIB < st["up_bytes"] < 258 * KIB
          and st["connections"] == 4)

    p = Proxy(target, "--rate", 64 * KIB, "--cut-every", 1)
    s, got, err = get(p.port, 256 * KIB)
    s2, got2, err2 = get(p.port, 24 * KIB)
    code, st = p.stop()
    check("cut-every 1 s at 64 KiB/s: GET 256 KiB, then GET 24 KiB",
          f"first {err} after {s:.2f} s with {got / KIB:.0f} KiB; second {err2 or 'complete'} in {s2:.2f} s; "
          f"cuts {st['cuts']}",
          err is not None and 0.9 <= s <= 1.2 and 48 * KIB <= got <= 72 * KIB and err2 is None
          and st["cuts"] == 1)

    p = Proxy(target, "--rate", 256 * KIB, "--stall-at", 0.5, "--stall-for", 1.5)
    s, got, err = get(p.port, 256 * KIB)
    code, st = p.stop()
    check("stall 1.5 s at 0.5 s: GET 256 KiB at 256 KiB/s (1 s + 1.5 s)",
          f"{s:.2f} s, {err or 'complete'}, stalls {st['stalls']}, cuts {st['cuts']}",
          err is None and 2.3 <= s <= 2.8 and st["stalls"] == 1 and st["cuts"] == 0)

    Sink.received.clear()
    p = Proxy(target, "--drop-replies", 1)
    small = post(p.port, 1 * KIB)
    first = post(p.port, 100 * KIB)
    second = post(p.port, 100 * KIB)
    code, st = p.stop()
    check("drop-replies 1: POST 1 KiB, then 100 KiB twice",
          f"replies: {small[1] or small[2]!r}, {first[1] or first[2]!r}, {second[1] or second[2]!r}; "
          f"server read {len(Sink.received)} bodies; dropped_replies {st['dropped_replies']}",
          small[2] is None and first[2] is not None and second[1] == f"got {100 * KIB}"
          and Sink.received == [KIB, 100 * KIB, 100 * KIB] and st["dropped_replies"] == 1)

    p = Proxy(target, "--loss", 0.05, "--seed", 7)
    results = [get(p.port, 40 * KIB) for _ in range(40)]
    code, st = p.stop()
    failed = sum(1 for r in results if r[2] is not None)
    check("loss 5 % per chunk: 40 × GET 40 KiB (~11 chunks: ~43 % cut)",
          f"{failed} cut, loss_cuts {st['loss_cuts']}, cuts {st['cuts']}",
          failed == st["loss_cuts"] == st["cuts"] and 6 <= failed <= 30)

    httpd.shutdown()
    print("## scripts/faulty_link.py checks\n\n| check | measured | |\n|---|---|---|")
    for name, figure, ok in rows:
        print(f"| {name} | {figure} | {'PASS' if ok else 'FAIL'} |")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as e:
        log(f"could not run: {e}")
        sys.exit(2)
