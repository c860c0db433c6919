"""A keep-alive HTTP client for the load benchmark, and what it records.

Standard library only. An upload is sent as multipart/form-data without holding the PDF in memory: the
length is computed from the parts, then the preamble, the file (sendfile) and the closing boundary go
out one after the other. Every request is timed from its first byte sent to the last byte of the reply
read, and recorded under its route with its status (a number, or `conn:<Error>` when the connection
failed or timed out).
"""
import ctypes
import http.client
import json
import signal
import threading
import time
import uuid
from urllib.parse import quote


class Samples:
    """(route, status, seconds) of every request, shared by the threads of a scenario."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rows = []

    def add(self, route, status, seconds):
        with self.lock:
            self.rows.append((route, status, seconds))

    def extend(self, rows):
        with self.lock:
            self.rows.extend(rows)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, -(-len(sorted_values) * p // 100) - 1))
    return sorted_values[int(k)]


def summarize(rows, seconds):
    """Per route: requests, errors by status, p50/p99 (ms, of every request), throughput (2xx/s)."""
    routes = {}
    for route, status, s in rows:
        routes.setdefault(route, []).append((status, s))
    out = {}
    for route, items in routes.items():
        times = sorted(s for _, s in items)
        ok = sum(1 for st, _ in items if isinstance(st, int) and 200 <= st < 300)
        errors = {}
        for st, _ in items:
            if not (isinstance(st, int) and 200 <= st < 300):
                errors[str(st)] = errors.get(str(st), 0) + 1
        out[route] = {
            "requests": len(items),
            "ok": ok,
            "errors": errors,
            "p50_ms": round(percentile(times, 50) * 1000, 1),
            "p99_ms": round(percentile(times, 99) * 1000, 1),
            "max_ms": round(times[-1] * 1000, 1),
            "throughput_rps": round(ok / seconds, 2) if seconds > 0 else None,
        }
    return out


class Client:
    """One station's connection to the server (re-opened after a failure)."""

    def __init__(self, host, port, token, timeout):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout
        self.conn = None

    def _connection(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self.conn

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _finish(self, c):
        r = c.getresponse()
        body = r.read()
        if r.getheader("connection", "").lower() == "close":
            self.close()
        return r.status, body

    def get(self, path):
        """(status, body) of GET `path`."""
        c = self._connection()
        try:
            c.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
            return self._finish(c)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return f"conn:{type(e).__name__}", b""

    def upload(self, record: dict, pdf):
        """(status, body) of POST /api/v1/documents with `record` and the file of `pdf`."""
        boundary = "sohoa-load-" + uuid.uuid4().hex
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"record\"\r\n"
                f"Content-Type: application/json\r\n\r\n").encode()
        head += json.dumps(record, ensure_ascii=False).encode()
        head += (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; "
                 f"filename=\"{quote(record['name'])}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        c = self._connection()
        try:
            c.putrequest("POST", "/api/v1/documents", skip_accept_encoding=True)
            c.putheader("Authorization", f"Bearer {self.token}")
            c.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
            c.putheader("Content-Length", str(len(head) + pdf.bytes + len(tail)))
            c.endheaders()
            try:
                c.send(head)
                with open(pdf.path, "rb") as f:
                    c.sock.sendfile(f)
                c.send(tail)
            except (BrokenPipeError, ConnectionResetError):
                # The server may have answered (and closed) before reading the whole body.
                pass
            return self._finish(c)
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return f"conn:{type(e).__name__}", b""


def timed(samples, route, call):
    """Runs `call()` → (status, body), records it under `route`, returns it."""
    t = time.perf_counter()
    status, body = call()
    samples.add(route, status, time.perf_counter() - t)
    return status, body


def poll(host, port, token, interval, stop, conn_out):
    """GET /health and /api/v1/station every `interval` s until `stop` is set; sends the rows back.

    Runs in its own process, so its timings do not wait for the uploaders' Python threads (GIL). It
    leaves Ctrl-C to its parent, which stops it, and dies with it.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    client = Client(host, port, token, timeout=30)
    rows = []
    next_at = time.perf_counter()
    while not stop.is_set():
        for route in ("GET /health", "GET /api/v1/station"):
            path = route.split(" ", 1)[1]
            t = time.perf_counter()
            status, _ = client.get(path)
            rows.append((route, status, time.perf_counter() - t))
        next_at += interval
        delay = next_at - time.perf_counter()
        if delay > 0:
            stop.wait(delay)
        else:
            next_at = time.perf_counter()
    client.close()
    conn_out.send(rows)
    conn_out.close()
