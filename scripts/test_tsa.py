#!/usr/bin/env python3
"""A time-stamping authority for the signing tests (RFC 3161 over HTTP, on
loopback): each request is answered by `openssl ts -reply`, signed with the
test PKI's `tsa` certificate (scripts/make_test_pki.py).

    python3 scripts/test_tsa.py PKI_DIR [--refuse]

Prints the port it listens on (127.0.0.1), then serves until killed.
--refuse answers every request with HTTP 503, as a TSA that is down.
"""
import http.server
import subprocess
import sys
import tempfile
from pathlib import Path

CONFIG = """
[ tsa ]
default_tsa = test_tsa
[ test_tsa ]
dir = {dir}
serial = {work}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
certs = {dir}/ca.pem
signer_key = {dir}/tsa.key.pem
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def main():
    pki = Path(sys.argv[1]).resolve()
    refuse = "--refuse" in sys.argv[2:]
    work = Path(tempfile.mkdtemp(prefix="sohoa-tsa-"))
    (work / "serial").write_text("01\n")
    config = work / "tsa.cnf"
    config.write_text(CONFIG.format(dir=pki, work=work))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(length)
            if refuse:
                self.send_error(503, "time-stamping service unavailable")
                return
            with tempfile.TemporaryDirectory(dir=work) as d:
                q, r = Path(d) / "q.tsq", Path(d) / "r.tsr"
                q.write_bytes(query)
                done = subprocess.run(["openssl", "ts", "-reply", "-config", str(config),
                                       "-queryfile", str(q), "-out", str(r)],
                                      capture_output=True)
                if done.returncode != 0:
                    self.send_error(400, done.stderr.decode(errors="replace")[:200])
                    return
                reply = r.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
