"""A station pushing its documents to the district server over a weak, breaking link (run by bench/link).

Makes the station once: the scans of bench/link.d/pages.py (4 dossiers, 8 documents, ~10 MB of PDFs,
one over 3 MB) through the real pipeline, `sohoa --data-dir STATION batch INBOX`. Then for each link
profile and each client (bench/link.d/peers.py: `sohoa sync`, tuspy, a one-shot multipart POST) it
starts a fresh `sohoa serve` (SQLite, its own data dir, the unit tree of config/units.toml, one station
token, a free loopback port) and scripts/faulty_link.py in front of it, lets the client push every
document through the proxy, and reads what arrived from the server's records (the station's SHA-256s
found there). Figures: documents delivered, wall time (or "did not finish in N s"), bytes the proxy
forwarded upstream, and those bytes over the bytes of the documents delivered (1.00× is a perfect
resumable client; a client that starts over after each cut sends more and delivers less).

Targets (issue 19): `sohoa sync` delivers every document within the time limit on every profile, and
sends at most 1.15× the documents' bytes. The tuspy and multipart columns are peers, without targets;
the tuspy column is skipped, saying why, while the server has no /api/v1/uploads.

Markdown on stdout, progress on stderr, figures in bench/work/link.json; the run folder is
bench/work/link/ (archives, station and inbox removed unless --keep; logs kept). Exit 0 when every
target passes, 1 when one fails, 2 when the benchmark could not run.
"""
import argparse
import ctypes
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "work"
RUN = WORK / "link"
BIN = ROOT / "target" / "release" / "sohoa"
PROXY = ROOT / "scripts" / "faulty_link.py"
UNIT = "000.20.18.H44"
KB = 1024
PROFILES = {
    "64k-cut5s": ("64 KB/s, cut every 5 s", ["--rate", 64 * KB, "--cut-every", 5]),
    "256k": ("256 KB/s stable", ["--rate", 256 * KB]),
    "1m-loss2": ("1 MB/s, 2 % loss as cuts", ["--rate", 1024 * KB, "--loss", 0.02, "--seed", 1]),
}
CLIENTS = {"sync": "sohoa sync", "tuspy": "tuspy + commit", "multipart": "one-shot multipart"}
SYNC_MAX_RATIO = 1.15  # issue 19: bytes crossing the link ≤ 1.15 × the documents


def log(*a):
    print("link:", *a, file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


def die_with_parent(sig=signal.SIGKILL):
    ctypes.CDLL(None, use_errno=True).prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sohoa_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_") or k == "SOHOA_LOG"}
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def sohoa(env, *args):
    r = subprocess.run([str(BIN), *map(str, args)], env=env, capture_output=True, text=True, cwd=RUN)
    if r.returncode != 0:
        raise SetupError(f"sohoa {' '.join(map(str, args))} exited {r.returncode}: {r.stderr.strip()[-1500:]}")
    return r.stdout


def make_station(env):
    """The station's data dir and its documents (id order), with the upload record of each."""
    inbox, station = RUN / "inbox", RUN / "station"
    r = subprocess.run(["/usr/bin/python3", str(ROOT / "bench" / "link.d" / "pages.py"), str(inbox)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError(f"bench/link.d/pages.py (needs Debian's python3-pil and python3-numpy: "
                         f"scripts/install-deps.sh): {r.stderr.strip()[-1000:]}")
    t = time.monotonic()
    sohoa(env, "--data-dir", station / "data", "batch", inbox)
    log(f"station: batch of {inbox} in {time.monotonic() - t:.1f} s")
    docs = station_documents(station / "data")
    if len(docs) != 8:
        raise SetupError(f"the station has {len(docs)} documents, 8 expected")
    return station, docs


def station_documents(data):
    """Each document: id, PDF path, bytes, sha256 and the upload record (src/api.rs `Upload`), as
    `sohoa sync` builds it from the records."""
    db = sqlite3.connect(f"file:{data / 'sohoa.db'}?mode=ro", uri=True)
    docs = []
    rows = db.execute(
        "SELECT d.id, s.code, s.unit_code, d.kind, d.name, d.version, d.bytes, d.sha256, d.input_sha256, "
        "d.ocr_engine, d.ocr_version, d.ocr_languages, d.mean_confidence, d.archive_path "
        "FROM documents d JOIN dossiers s ON s.id = d.dossier_id ORDER BY d.id").fetchall()
    for (did, code, unit, kind, name, version, nbytes, sha, input_sha, engine, ver, langs, conf, path) in rows:
        pages = [{"page_no": p[0], "width_px": p[1], "height_px": p[2],
                  "dpi": [p[3], p[4]] if p[3] is not None and p[4] is not None else None,
                  "color": p[5], "turn": p[6], "deskew_deg": p[7], "blank": bool(p[8]),
                  "mean_confidence": p[9], "words": p[10], "ocr_seconds": p[11] or 0.0}
                 for p in db.execute("SELECT page_no, width_px, height_px, dpi_x, dpi_y, color, turn, deskew_deg, "
                                     "blank, mean_confidence, words, ocr_seconds FROM pages "
                                     "WHERE document_id = ? ORDER BY page_no", (did,))]
        inputs = [{"path": f[0], "sha256": f[1], "bytes": f[2]}
                  for f in db.execute("SELECT path, sha256, bytes FROM input_files WHERE document_id = ? "
                                      "ORDER BY path", (did,))]
        record = {"dossier": {"code": code, "unit": unit}, "kind": kind, "name": name, "version": version,
                  "bytes": nbytes, "sha256": sha, "input_sha256": input_sha, "inputs": inputs,
                  "ocr_engine": engine, "ocr_version": ver, "ocr_languages": langs, "mean_confidence": conf,
                  "pages": pages}
        docs.append({"id": did, "path": data / path, "bytes": nbytes, "sha256": sha, "record": record,
                     "label": f"{code} {name}"})
    db.close()
    return docs


class Serve:
    """A fresh `sohoa serve` on SQLite in `folder`, with the unit tree and one station."""

    def __init__(self, env, folder):
        self.folder, self.data = folder, folder / "data"
        shutil.rmtree(folder, ignore_errors=True)
        self.data.mkdir(parents=True)
        sohoa(env, "--data-dir", self.data, "units", "import", ROOT / "config" / "units.toml")
        self.token = sohoa(env, "--data-dir", self.data, "station", "add", "xa-link", "--unit", UNIT
                           ).strip().splitlines()[-1].strip()
        self.port = free_port()
        self.log = open(folder / "serve.log", "wb")
        self.proc = subprocess.Popen([str(BIN), "--data-dir", str(self.data), "serve", "--listen",
                                      f"127.0.0.1:{self.port}"], env=env, cwd=folder, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SetupError(f"sohoa serve exited {self.proc.returncode}; see {folder / 'serve.log'}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SetupError("sohoa serve did not answer /health within 60 s")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def sha256s(self):
        db = sqlite3.connect(f"file:{self.data / 'sohoa.db'}?mode=ro", uri=True)
        try:
            return {r[0] for r in db.execute("SELECT sha256 FROM documents")}
        finally:
            db.close()


class Proxy:
    def __init__(self, port, args, stats):
        self.stats = stats
        cmd = [sys.executable, str(PROXY), "--target", f"127.0.0.1:{port}", "--stats", str(stats), *map(str, args)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise SetupError(f"faulty_link.py printed {line!r} (exit {self.proc.poll()})")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return json.loads(self.stats.read_text())


class Ctx:
    """What a client needs: ports, token, options; and what it reports (counts, first notes)."""

    def __init__(self, a, env):
        self.bin, self.env, self.time_limit = BIN, env, a.time_limit
        self.retry_delay, self.timeout = a.retry_delay, a.timeout
        self.tus_chunk, self.tus_retries = a.tus_chunk, a.tus_retries
        self.die_with_parent = die_with_parent
        self.proxy_port = self.token = None
        self.counts, self.notes = {}, []

    def count(self, what, n=1):
        self.counts[what] = self.counts.get(what, 0) + n

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)
            log(text)


def run_one(a, env, profile, client, station, docs):
    label, proxy_args = PROFILES[profile]
    folder = RUN / f"{profile}-{client}"
    ctx = Ctx(a, env)
    serve = Serve(env, folder)
    ctx.token = serve.token
    row = {"profile": label, "profile_key": profile, "client": CLIENTS[client], "client_key": client,
           "documents": len(docs), "document_bytes": sum(d["bytes"] for d in docs)}
    try:
        tus, why = peers.probe_tus("127.0.0.1", serve.port, serve.token)
        row["server_tus"] = tus
        if client == "tuspy" and not tus:
            row["skipped"] = why
            return row
        if client == "tuspy" and not os.access(peers.VENV_PYTHON, os.X_OK):
            row["skipped"] = "no .venv with tuspy: run scripts/install-deps.sh"
            return row
        if client == "sync" and not tus:
            ctx.note(f"sohoa sync: {why}, so sync sent multipart")
        copy = None
        if client == "sync":
            copy = folder / "station"
            shutil.copytree(station, copy)
        proxy = Proxy(serve.port, proxy_args, folder / "proxy.json")
        ctx.proxy_port = proxy.port
        deadline = peers.Deadline(a.time_limit)
        try:
            if client == "multipart":
                peers.run_multipart(ctx, docs, deadline)
            elif client == "tuspy":
                peers.run_tuspy(ctx, docs, deadline)
            else:
                row["sync_exit"] = peers.run_sync(ctx, copy, deadline)
            row["seconds"] = round(deadline.elapsed(), 1)
        finally:
            row["proxy"] = proxy.stop()
    finally:
        row["serve_exit"] = serve.stop()
        row["counts"], row["notes"] = ctx.counts, ctx.notes
    on_server = serve.sha256s()
    delivered = [d for d in docs if d["sha256"] in on_server]
    row["delivered"] = len(delivered)
    row["delivered_bytes"] = sum(d["bytes"] for d in delivered)
    row["up_bytes"] = row["proxy"]["up_bytes"]
    row["finished"] = len(delivered) == len(docs) and row["seconds"] <= a.time_limit + 1
    if not a.keep:
        shutil.rmtree(serve.data / "archive", ignore_errors=True)
        if copy is not None:
            shutil.rmtree(copy / "data", ignore_errors=True)
    return row


def mb(n):
    return f"{n / 1e6:.1f} MB"


def print_table(rows, a, docs):
    total = sum(d["bytes"] for d in docs)
    print("| profile | client | documents delivered | wall time | bytes up through the proxy "
          "| bytes up / document bytes delivered | link |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "skipped" in r:
            print(f"| {r['profile']} | {r['client']} | — | — | — | — | skipped: {r['skipped']} |")
            continue
        p = r["proxy"]
        time_text = f"{r['seconds']:.0f} s" if r["finished"] else f"did not finish in {a.time_limit:g} s"
        ratio = f"{r['up_bytes'] / r['delivered_bytes']:.2f}×" if r["delivered_bytes"] else "—"
        link = f"{p['connections']} connection{'s' * (p['connections'] != 1)}, {p['cuts']} cut{'s' * (p['cuts'] != 1)}"
        print(f"| {r['profile']} | {r['client']} | {r['delivered']}/{r['documents']} ({mb(r['delivered_bytes'])}) "
              f"| {time_text} | {mb(r['up_bytes'])} | {ratio} | {link} |")
    print(f"\nDocuments: {len(docs)}, {mb(total)} of PDFs (largest {mb(max(d['bytes'] for d in docs))}); "
          f"time limit {a.time_limit:g} s per client and profile; retry delay {a.retry_delay:g} s; "
          f"tuspy chunks of {a.tus_chunk:,} bytes.")


def targets(rows):
    out = []
    for r in rows:
        if r["client_key"] != "sync" or "skipped" in r:
            continue
        out.append({"target": f"sohoa sync delivers every document, {r['profile']}",
                    "value": f"{r['delivered']}/{r['documents']}" +
                             (f" in {r['seconds']:.0f} s" if r["finished"] else ", time limit reached"),
                    "pass": r["finished"]})
        ratio = r["up_bytes"] / r["delivered_bytes"] if r["delivered_bytes"] else float("inf")
        out.append({"target": f"sohoa sync sends ≤ {SYNC_MAX_RATIO:g}× the bytes delivered, {r['profile']}",
                    "value": f"{ratio:.2f}×" if r["delivered_bytes"] else "nothing delivered",
                    "pass": ratio <= SYNC_MAX_RATIO})
    return out


def commit_id():
    r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or "unknown"


def names(text, known, what):
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    bad = [s for s in chosen if s not in known]
    if bad or not chosen:
        raise SystemExit(f"link: unknown {what} {', '.join(bad) or '(none)'}; known: {', '.join(known)}")
    return chosen


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profiles", default=",".join(PROFILES),
                   help=f"comma-separated link profiles (default all: {', '.join(PROFILES)})")
    p.add_argument("--clients", default=",".join(CLIENTS),
                   help=f"comma-separated clients (default all: {', '.join(CLIENTS)})")
    p.add_argument("--time-limit", type=float, default=300, help="seconds per client and profile (default 300)")
    p.add_argument("--retry-delay", type=float, default=1.0, help="seconds before a peer retries (default 1)")
    p.add_argument("--timeout", type=float, default=60, help="seconds without a byte before a peer's request fails")
    p.add_argument("--tus-chunk", type=int, default=1 << 20, help="tuspy's PATCH size (default 1 MiB)")
    p.add_argument("--tus-retries", type=int, default=200, help="tuspy's retries per chunk (default 200)")
    p.add_argument("--keep", action="store_true", help="keep the archives, the station and the inbox")
    a = p.parse_args()
    profiles, clients = names(a.profiles, PROFILES, "profile"), names(a.clients, CLIENTS, "client")

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    die_with_parent(signal.SIGTERM)

    env = sohoa_env()
    rows = []
    try:
        if not os.access(BIN, os.X_OK):
            raise SetupError(f"{BIN} is missing: run `cargo build --release` first")
        shutil.rmtree(RUN, ignore_errors=True)
        RUN.mkdir(parents=True)
        station, docs = make_station(env)
        for d in docs:
            log(f"document {d['id']}: {d['label']}, {d['bytes']:,} bytes")
        for profile in profiles:
            for client in clients:
                log(f"{PROFILES[profile][0]}: {CLIENTS[client]}")
                r = run_one(a, env, profile, client, station, docs)
                rows.append(r)
                if "skipped" in r:
                    log(f"  skipped: {r['skipped']}")
                else:
                    log(f"  {r['delivered']}/{r['documents']} delivered in {r['seconds']:.1f} s, "
                        f"{r['up_bytes']:,} bytes up, {r['proxy']['cuts']} cuts; {r['counts']}")
    except SetupError as e:
        log(str(e))
        sys.exit(2)
    finally:
        if not a.keep:
            shutil.rmtree(RUN / "inbox", ignore_errors=True)
            shutil.rmtree(RUN / "station", ignore_errors=True)

    checks = targets(rows)
    facts = {"commit": commit_id(), "date": dt.datetime.now().isoformat(timespec="seconds"),
             "cpus": os.cpu_count(), "options": vars(a),
             "documents": [{k: d[k] for k in ("id", "label", "bytes", "sha256")} for d in docs]}
    print(f"## A station over a weak link (bench/link), commit {facts['commit']}, {facts['cpus']} CPUs\n")
    print_table(rows, a, docs)
    if checks:
        print("\n### Targets\n\n| target | value | |\n|---|---|---|")
        for c in checks:
            print(f"| {c['target']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    notes = {}  # each distinct note once, with the runs it came from
    for r in rows:
        for n in r.get("notes", []):
            notes.setdefault(n, []).append(f"{r['profile']}, {r['client']}")
    if notes:
        print("\n### Notes\n")
        for n, where in notes.items():
            print(f"- {n} ({'; '.join(where)})")
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "link.json").write_text(json.dumps({"facts": facts, "runs": rows, "targets": checks}, indent=1,
                                               ensure_ascii=False, default=str))
    log(f"figures in {WORK / 'link.json'}")
    sys.exit(0 if all(c["pass"] for c in checks) else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
