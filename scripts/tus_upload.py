#!/usr/bin/env python3
"""Uploads one file to a tus 1.0 endpoint with tuspy: an independent tus client for tests and benchmarks.

    .venv/bin/python scripts/tus_upload.py --endpoint URL --token TOKEN FILE
        [--chunk-size BYTES] [--retries N --retry-delay S] [--timeout S] [--metadata k=v ...] [--verbose]
        [--url UPLOAD_URL]

Creates the upload (POST to URL with Upload-Length and Upload-Metadata; tus creation), then sends the
file in PATCH requests of --chunk-size bytes. Prints the upload's URL (the Location, made absolute) on
stdout and exits 0; on failure says why on stderr and exits 1. With --url it resumes that upload
instead: HEAD for the server's Upload-Offset, then PATCH from there.

Metadata: `filename` (the file's name) and `sha256` (hex SHA-256 of the file) unless given with
--metadata; tuspy encodes each value as base64 of its UTF-8.

Retries are tuspy's own: after a failed PATCH (connection error or a status that is not 2xx) it waits
--retry-delay, asks the server for the offset (HEAD) and sends from there; N retries per chunk. tuspy
does not retry the creation POST, so this script does, as often, unless the server refused it (a 4xx
other than 408 and 429). Every request carries the token (Authorization: Bearer) and Tus-Resumable:
1.0.0, and gives up after --timeout seconds without a byte (tuspy sets none). The venv comes from
scripts/install-deps.sh (tuspy pinned in scripts/requirements-test.txt).
"""
import argparse
import hashlib
import os
import sys
import time
from urllib.parse import urljoin


def die(msg):
    print(f"tus_upload: {msg}", file=sys.stderr)
    sys.exit(1)


try:
    import requests
    from tusclient.client import TusClient
    from tusclient.exceptions import TusCommunicationError, TusUploadFailed
except ImportError as e:
    die(f"tuspy is not importable ({e}): run scripts/install-deps.sh, then use .venv/bin/python")


class Requests:
    """Counts the requests tuspy makes per method, and gives each a timeout (it passes none)."""

    def __init__(self, timeout):
        self.counts = {}
        original = requests.sessions.Session.request
        me = self

        def request(session, method, url, *args, **kwargs):
            me.counts[method.upper()] = me.counts.get(method.upper(), 0) + 1
            kwargs.setdefault("timeout", timeout)
            return original(session, method, url, *args, **kwargs)

        requests.sessions.Session.request = request


def sha256_hex(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def why(e):
    """One line for a tuspy error: its message, the server's status and the start of its reply."""
    text = str(e) or type(e).__name__
    status = getattr(e, "status_code", None)
    body = getattr(e, "response_content", None)
    if status is not None:
        text += f" (HTTP {status}"
        if body:
            text += ": " + body[:300].decode("utf-8", "replace").strip()
        text += ")"
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", required=True, help="the tus creation URL, e.g. http://host:port/api/v1/uploads")
    p.add_argument("--token", required=True, help="sent as Authorization: Bearer TOKEN")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--chunk-size", type=int, default=1 << 20, help="bytes per PATCH (default 1 MiB)")
    p.add_argument("--retries", type=int, default=0, help="retries per chunk, and of the creation (default 0)")
    p.add_argument("--retry-delay", type=float, default=1.0, help="seconds before a retry (default 1)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds without a byte before a request fails")
    p.add_argument("--url", help="resume this upload (its Location) instead of creating one")
    p.add_argument("--metadata", action="append", default=[], metavar="K=V", help="Upload-Metadata pair")
    p.add_argument("--verbose", action="store_true", help="a summary of the requests on stderr")
    a = p.parse_args()
    if a.chunk_size < 1 or a.retries < 0 or a.retry_delay < 0 or a.timeout <= 0:
        p.error("--chunk-size ≥ 1, --retries ≥ 0, --retry-delay ≥ 0, --timeout > 0")
    if not os.path.isfile(a.file):
        die(f"{a.file}: not a file")

    metadata = {"filename": os.path.basename(a.file), "sha256": sha256_hex(a.file)}
    for kv in a.metadata:
        k, sep, v = kv.partition("=")
        if not sep or not k:
            p.error(f"--metadata wants K=V, not {kv!r}")
        metadata[k] = v
    # tuspy retries by recursion (a few frames a retry).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100 + 10 * a.retries))
    counter = Requests(a.timeout)
    t0 = time.monotonic()
    client = TusClient(a.endpoint, headers={"Authorization": f"Bearer {a.token}"})
    try:
        uploader = client.uploader(file_path=a.file, chunk_size=a.chunk_size, metadata=metadata,
                                   retries=a.retries, retry_delay=a.retry_delay)
        uploader.encode_metadata()
    except ValueError as e:  # a metadata key tus cannot carry
        die(str(e))
    size = uploader.get_file_size()

    def start():
        if a.url:  # resume: the server says how far it got (HEAD)
            uploader.set_url(urljoin(a.endpoint, a.url))
            uploader.offset = uploader.get_offset()
        else:
            uploader.set_url(uploader.create_url())
            uploader.offset = 0

    for attempt in range(a.retries + 1):
        try:
            start()
            break
        except TusCommunicationError as e:
            refused = e.status_code is not None and 400 <= e.status_code < 500 and e.status_code not in (408, 429)
            if refused or attempt == a.retries:
                what = f"resuming {uploader.url}" if a.url else f"creating the upload at {a.endpoint}"
                die(f"{a.file}: {what} failed: {why(e)}")
            time.sleep(a.retry_delay)
    try:
        uploader.upload()
    except (TusCommunicationError, TusUploadFailed) as e:
        die(f"{a.file}: upload {uploader.url} failed at byte {uploader.offset:,} of {size:,}: {why(e)}")
    except (TypeError, ValueError):  # tuspy reads int(reply's Upload-Offset)
        die(f"{a.file}: upload {uploader.url}: a PATCH reply without a valid Upload-Offset")
    print(uploader.url, flush=True)
    if a.verbose:
        reqs = ", ".join(f"{n} {m}" for m, n in sorted(counter.counts.items()))
        print(f"tus_upload: {size:,} bytes in {time.monotonic() - t0:.1f} s; requests: {reqs}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        die("interrupted")
