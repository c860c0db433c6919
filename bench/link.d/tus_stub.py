"""A stand-in tus 1.0 server for trying scripts/tus_upload.py and bench/link's tus columns before
`sohoa serve` has /api/v1/uploads (standard library only; not a server to rely on).

    python3 bench/link.d/tus_stub.py [--listen 127.0.0.1:0] [--dir DIR] [--log FILE] [--discard-partial]

Prints `listening HOST:PORT` first. The API of issue 19: OPTIONS /api/v1/uploads (204 with Tus-*), POST
(creation: Upload-Length, Upload-Metadata → 201 + Location), HEAD /api/v1/uploads/ID (Upload-Offset,
Upload-Length), PATCH (application/offset+octet-stream at Upload-Offset → 204 + Upload-Offset; 409 at
another offset), DELETE (204; then 404), and POST /api/v1/documents with {"upload": ID, "record": …}
(201, or 200 with duplicate true for a SHA-256 already committed; 409 while bytes are missing, 422 when
the SHA-256 differs). Any Bearer token is taken. Bytes of a PATCH cut short are kept (the tus spec's
SHOULD) unless --discard-partial. --log FILE gets one JSON line per request: method, path, status and
the tus headers sent, so a client's behaviour can be read afterwards.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import sys
import threading
import uuid
from pathlib import Path

TUS = {"Tus-Resumable": "1.0.0"}


class State:
    def __init__(self, folder, log, discard_partial):
        self.dir, self.log_path, self.discard = Path(folder), log, discard_partial
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.uploads = {}  # id → {"length", "offset", "metadata"}
        self.documents = {}  # sha256 → id

    def log(self, entry):
        if self.log_path:
            with self.lock, open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None

    def log_message(self, *a):
        pass

    def reply(self, status, headers=None, body=b""):
        self.status = status
        self.send_response(status)
        for k, v in {**TUS, **(headers or {})}.items():
            self.send_header(k, str(v))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def upload(self):
        prefix = "/api/v1/uploads/"
        if not self.path.startswith(prefix):
            return None, None
        uid = self.path[len(prefix):]
        return uid, self.state.uploads.get(uid)

    def handle_one_request(self):
        self.status, self.command = None, None
        try:
            super().handle_one_request()
        finally:
            self.log_request_done()

    def log_request_done(self):
        if self.command:
            keep = ("Tus-Resumable", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Content-Length",
                    "Content-Type")
            self.state.log({"method": self.command, "path": self.path, "status": self.status,
                            "headers": {k: self.headers[k] for k in keep if self.headers.get(k) is not None}})

    def do_OPTIONS(self):
        self.reply(204, {"Tus-Version": "1.0.0", "Tus-Extension": "creation,expiration,termination",
                         "Tus-Max-Size": 1 << 30})

    def do_POST(self):
        if self.path == "/api/v1/documents":
            return self.commit()
        if self.path != "/api/v1/uploads":
            return self.reply(404)
        meta = {}
        for pair in filter(None, (self.headers.get("Upload-Metadata") or "").split(",")):
            k, _, v = pair.strip().partition(" ")
            meta[k] = base64.b64decode(v).decode() if v else ""
        uid = uuid.uuid4().hex
        self.state.uploads[uid] = {"length": int(self.headers["Upload-Length"]), "offset": 0, "metadata": meta}
        (self.state.dir / uid).write_bytes(b"")
        self.reply(201, {"Location": f"/api/v1/uploads/{uid}"})

    def do_HEAD(self):
        uid, up = self.upload()
        if up is None:
            return self.reply(404)
        self.reply(200, {"Upload-Offset": up["offset"], "Upload-Length": up["length"], "Cache-Control": "no-store"})

    def do_PATCH(self):
        uid, up = self.upload()
        if up is None:
            return self.reply(404)
        if self.headers.get("Content-Type") != "application/offset+octet-stream":
            return self.reply(415)
        n, offset = int(self.headers.get("Content-Length", 0)), int(self.headers["Upload-Offset"])
        if offset != up["offset"] or offset + n > up["length"]:
            return self.reply(409, {"Upload-Offset": up["offset"]})
        got = 0
        with open(self.state.dir / uid, "r+b") as f:
            f.seek(offset)
            while got < n:
                try:
                    b = self.rfile.read1(min(65536, n - got))
                except OSError:
                    b = b""
                if not b:
                    break
                f.write(b)
                got += len(b)
                if not self.state.discard:
                    up["offset"] = offset + got
            f.truncate(offset + got if got == n or not self.state.discard else offset)
        if got < n:
            self.close_connection = True
            return
        up["offset"] = offset + n
        self.reply(204, {"Upload-Offset": up["offset"]})

    def do_DELETE(self):
        uid, up = self.upload()
        if up is None:
            return self.reply(404)
        del self.state.uploads[uid]
        os.unlink(self.state.dir / uid)
        self.reply(204)

    def commit(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        up = self.state.uploads.get(body.get("upload"))
        if up is None:
            return self.reply(404)
        if up["offset"] < up["length"]:
            return self.reply(409, body=b'{"code":"E_INCOMPLETE"}')
        sha = hashlib.sha256((self.state.dir / body["upload"]).read_bytes()).hexdigest()
        if sha != body["record"]["sha256"]:
            return self.reply(422, body=b'{"code":"E_HASH_MISMATCH"}')
        with self.state.lock:
            dup = sha in self.state.documents
            doc = self.state.documents.setdefault(sha, len(self.state.documents) + 1)
        self.reply(200 if dup else 201, {"Content-Type": "application/json"},
                   json.dumps({"id": doc, "duplicate": dup}).encode())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--dir", default=None, help="where upload bytes go (default a temp folder)")
    p.add_argument("--log", default=None, help="one JSON line per request")
    p.add_argument("--discard-partial", action="store_true", help="keep only the bytes of whole PATCHes")
    a = p.parse_args()
    import tempfile
    Handler.state = State(a.dir or tempfile.mkdtemp(prefix="tus-stub-"), a.log, a.discard_partial)
    host, _, port = a.listen.rpartition(":")
    httpd = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    httpd.daemon_threads = True
    httpd.handle_error = lambda request, address: None  # a client that went away
    print(f"listening {host}:{httpd.server_address[1]}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
