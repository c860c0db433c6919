"""The clients bench/link runs over a link profile, each pushing the station's documents in id order
(the order of `sohoa sync`'s outbox) until all are delivered or the time limit is reached:

  sync       `sohoa sync --wait LIMIT` on a fresh copy of the station (whatever protocol the binary
             speaks: tus since issue 19, multipart before);
  tuspy      scripts/tus_upload.py (tuspy, from .venv) with retries for each PDF, then the commit
             `POST /api/v1/documents` {"upload": ID, "record": …}, retried until answered;
  multipart  one-shot `POST /api/v1/documents` multipart (record + pdf), as sohoa sync sent it before
             issue 19: after a cut it starts again from byte zero, after --retry-delay.

A reply 200/201 is a delivery; another 4xx is a refusal (noted, next document); a cut, a timeout or a
5xx is tried again. Standard library only (tuspy runs in its own process).
"""
import http.client
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
TUS_UPLOAD = ROOT / "scripts" / "tus_upload.py"


class Deadline:
    def __init__(self, seconds):
        self.t0, self.limit = time.monotonic(), seconds

    def left(self):
        return self.limit - (time.monotonic() - self.t0)

    def elapsed(self):
        return time.monotonic() - self.t0

    def sleep(self, seconds):
        time.sleep(max(0.0, min(seconds, self.left())))


def _request(host, port, timeout, method, path, headers, body=b"", file=None, tail=b""):
    """(status or "conn:Error", reply body) of one request on a new connection; `file` is sent after
    `body` and before `tail` without reading it into memory."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        length = len(body) + len(tail) + (os.path.getsize(file) if file else 0)
        for k, v in {**headers, "Content-Length": str(length)}.items():
            c.putheader(k, v)
        c.endheaders()
        try:
            c.send(body)
            if file:
                with open(file, "rb") as f:
                    c.sock.sendfile(f)
            c.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered (and closed) before reading all: read its reply
        r = c.getresponse()
        return r.status, r.read()
    except (OSError, http.client.HTTPException) as e:
        return f"conn:{type(e).__name__}", b""
    finally:
        c.close()


def multipart_once(host, port, token, doc, timeout):
    boundary = "sohoa-link-" + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"record\"\r\n"
            f"Content-Type: application/json\r\n\r\n").encode()
    head += json.dumps(doc["record"], ensure_ascii=False).encode()
    head += (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"pdf\"; "
             f"filename=\"{quote(doc['record']['name'])}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return _request(host, port, timeout, "POST", "/api/v1/documents",
                    {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
                    head, doc["path"], tail)


def commit_once(host, port, token, upload_id, record, timeout):
    body = json.dumps({"upload": upload_id, "record": record}, ensure_ascii=False).encode()
    return _request(host, port, timeout, "POST", "/api/v1/documents",
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, body)


def probe_tus(host, port, token):
    """(True, "") when the server answers OPTIONS /api/v1/uploads as a tus 1.0 server, else (False, why)."""
    c = http.client.HTTPConnection(host, port, timeout=10)
    try:
        c.request("OPTIONS", "/api/v1/uploads", headers={"Authorization": f"Bearer {token}",
                                                         "Tus-Resumable": "1.0.0"})
        r = c.getresponse()
        r.read()
        versions = r.getheader("Tus-Version") or ""
        if r.status in (200, 204) and "1.0.0" in versions:
            return True, ""
        return False, f"the server has no tus endpoint yet (OPTIONS /api/v1/uploads answered {r.status})"
    except (OSError, http.client.HTTPException) as e:
        return False, f"OPTIONS /api/v1/uploads failed: {type(e).__name__}: {e}"
    finally:
        c.close()


def _retryable(status):
    return not isinstance(status, int) or status >= 500 or status in (408, 429)


def _short(body):
    return body[:200].decode("utf-8", "replace").strip()


def run_multipart(ctx, docs, deadline):
    """Each document in turn, sent whole until one try gets through; returns the ids delivered."""
    delivered = []
    for doc in docs:
        while deadline.left() > 0:
            status, body = multipart_once("127.0.0.1", ctx.proxy_port, ctx.token, doc, ctx.timeout)
            if status in (200, 201):
                delivered.append(doc["id"])
                break
            if not _retryable(status):
                ctx.note(f"multipart: document {doc['id']} refused: {status} {_short(body)}")
                break
            ctx.count(f"retry after {status}")
            deadline.sleep(ctx.retry_delay)
    return delivered


def run_tuspy(ctx, docs, deadline):
    """tus_upload.py for each document, then its commit; returns the ids delivered."""
    delivered = []
    endpoint = f"http://127.0.0.1:{ctx.proxy_port}/api/v1/uploads"
    for doc in docs:
        if deadline.left() <= 0:
            break
        cmd = [str(VENV_PYTHON), str(TUS_UPLOAD), "--endpoint", endpoint, "--token", ctx.token, str(doc["path"]),
               "--chunk-size", str(ctx.tus_chunk), "--retries", str(ctx.tus_retries),
               "--retry-delay", str(ctx.retry_delay), "--timeout", str(ctx.timeout), "--verbose"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=max(1.0, deadline.left()),
                               preexec_fn=ctx.die_with_parent)
        except subprocess.TimeoutExpired:
            break
        for n, method in re.findall(r"(\d+) (HEAD|PATCH|POST|OPTIONS|DELETE)", r.stderr):
            ctx.count(f"tus {method}", int(n))
        if r.returncode != 0:
            ctx.note(f"tuspy: document {doc['id']}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
            continue
        upload_id = r.stdout.strip().rstrip("/").rsplit("/", 1)[-1]
        while deadline.left() > 0:
            status, body = commit_once("127.0.0.1", ctx.proxy_port, ctx.token, upload_id, doc["record"], ctx.timeout)
            ctx.count("commit requests")
            if status in (200, 201):
                delivered.append(doc["id"])
                break
            if not _retryable(status):
                ctx.note(f"tuspy: commit of document {doc['id']} refused: {status} {_short(body)}")
                break
            deadline.sleep(ctx.retry_delay)
    return delivered


def run_sync(ctx, station, deadline):
    """`sohoa sync --wait LIMIT` from `station` (a fresh copy); returns its exit code, output in sync.log.

    Quick retries (max_backoff_seconds 2); the request timeout and the rest are sync's defaults."""
    config = station / "sohoa.toml"
    config.write_text(
        f'data_dir = "{station / "data"}"\n[sync]\nserver = "http://127.0.0.1:{ctx.proxy_port}"\n'
        f'token = "{ctx.token}"\ninterval_seconds = 1.0\nmax_backoff_seconds = {max(2.0, ctx.retry_delay)}\n')
    cmd = [str(ctx.bin), "--config", str(config), "sync", "--wait", str(int(ctx.time_limit))]
    with open(station / "sync.log", "wb") as log:
        p = subprocess.Popen(cmd, env=ctx.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             preexec_fn=ctx.die_with_parent)
        try:
            return p.wait(max(1.0, deadline.left()) + 15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return "killed"
