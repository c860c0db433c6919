"""Load benchmark of `sohoa serve` on PostgreSQL (run through bench/load, inside scripts/with-postgres.sh).

Sets up a fresh database in the throw-away cluster, the unit tree of config/units.toml, one station per
commune (more stations than communes share them) and a district-level station for the leaders, then
starts `sohoa serve` on a free port and runs three scenarios against it:

  1. uploads of --small-mib PDFs by --stations concurrent stations, nothing else running;
  2. the same while --leaders clients loop over two reports and a dossier read, and one client polls
     /health and /api/v1/station every --poll-ms;
  3. serve's RSS: --rss-clients concurrent uploads of --small-mib PDFs for --rss-seconds, then of
     --big-mib PDFs (--big-rounds each).

Every upload is a new document (201): a fresh dossier code of the station's commune every
COMPONENTS uploads, a new component name in between. Markdown tables on stdout, progress on stderr,
the figures in bench/work/load.json. Exit 0 when every target passes, 1 when one fails, 2 when the
benchmark could not run.
"""
import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client import Client, Samples, poll, summarize, timed  # noqa: E402
from pdf import write_pdf  # noqa: E402
from report import UPLOAD, print_scenario, print_server_log, targets  # noqa: E402
from server import Serve, Setup, SetupError, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "work"
RUN = WORK / "load"
DISTRICT = "000.00.18.H44"
COMMUNES = [f"000.{n}.18.H44" for n in range(20, 39)]  # the 19 xã of Tuyên Hóa, 2023
COMPONENTS = 3
MIB = 1 << 20


def log(*a):
    print("load:", *a, file=sys.stderr, flush=True)


class Dossiers:
    """Fresh dossier codes per unit: 2023 receipt dates in turn, then the next serial number."""

    def __init__(self):
        self.lock = threading.Lock()
        self.next = {}
        self.stored = []  # codes with at least one document on the server

    def new(self, unit):
        with self.lock:
            k = self.next.get(unit, 0)
            self.next[unit] = k + 1
        day = dt.date(2023, 1, 1) + dt.timedelta(days=k % 365)
        return {"code": f"{unit}-{day:%y%m%d}-{k // 365 + 1:04d}", "unit": unit,
                "received": day.isoformat(), "standard": True}

    def remember(self, code):
        with self.lock:
            self.stored.append(code)

    def any(self, rng):
        with self.lock:
            return rng.choice(self.stored) if self.stored else None


def record(dossier, component, pdf):
    """An upload record (src/api.rs `Upload`): the dossier code and the document, one entry per page."""
    return {
        "dossier": dossier, "kind": "thanh_phan", "name": f"{component:02d}-thanh-phan", "version": 1,
        "bytes": pdf.bytes, "sha256": pdf.sha256, "input_sha256": pdf.sha256,
        "inputs": [{"path": f"{dossier['code']}/{component:02d}-thanh-phan.pdf", "sha256": pdf.sha256,
                    "bytes": pdf.bytes}],
        "ocr_engine": "tesseract", "ocr_version": "5.3.0", "ocr_languages": "vie", "mean_confidence": 90.0,
        "pages": [{"page_no": n, "width_px": pdf.width, "height_px": h, "dpi": [300.0, 300.0],
                   "color": "gray", "turn": 0, "deskew_deg": 0.0, "blank": False, "mean_confidence": 90.0,
                   "words": 100, "ocr_seconds": 1.0} for n, h in enumerate(pdf.heights, start=1)],
    }


def uploader(ctx, station, pdf, samples, until, rounds=None):
    """One station uploading `pdf` as new documents until `until` (or `rounds` uploads)."""
    client = Client("127.0.0.1", ctx.port, station["token"], timeout=ctx.a.timeout)
    dossier, component, done = None, COMPONENTS, 0
    while not ctx.stop.is_set() and (rounds is None and time.monotonic() < until or
                                     rounds is not None and done < rounds):
        if component == COMPONENTS:
            dossier, component = ctx.dossiers.new(station["unit"]), 0
        component += 1
        status, body = timed(samples, UPLOAD, lambda: client.upload(record(dossier, component, pdf), pdf))
        done += 1
        if status == 201:
            if component == 1:
                ctx.dossiers.remember(dossier["code"])
        elif status == 200:
            ctx.note("upload 200: a duplicate, where a new document was meant")
        else:
            ctx.note(f"upload {status}: {body[:300].decode(errors='replace')}")
            component = COMPONENTS  # start a fresh dossier after a failure
    client.close()


def leader(ctx, token, samples, until, seed):
    """Loops over the two reports and a dossier read until `until`."""
    client = Client("127.0.0.1", ctx.port, token, timeout=ctx.a.timeout)
    rng = random.Random(seed)
    while not ctx.stop.is_set() and time.monotonic() < until:
        for by in ("unit", "month"):
            status, body = timed(samples, f"GET /api/v1/reports?by={by}",
                                 lambda: client.get(f"/api/v1/reports?year=2023&by={by}"))
            if status != 200:
                ctx.note(f"report by={by} {status}: {body[:300].decode(errors='replace')}")
        code = ctx.dossiers.any(rng)
        if code is not None:
            status, body = timed(samples, "GET /api/v1/dossiers/{code}",
                                 lambda: client.get(f"/api/v1/dossiers/{quote(code)}"))
            if status != 200:
                ctx.note(f"dossier {status}: {body[:300].decode(errors='replace')}")
    client.close()


def run_threads(jobs):
    """Runs each (function, args) on its own thread; returns when all have ended."""
    threads = [threading.Thread(target=f, args=args, daemon=True) for f, args in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class Context:
    def __init__(self, a, port, serve):
        self.a, self.port, self.serve = a, port, serve
        self.stop = serve.exited
        self.dossiers = Dossiers()
        self.notes = {}
        self.lock = threading.Lock()

    def note(self, text):
        """Counts each distinct failure text; the first of each kind is logged."""
        with self.lock:
            n = self.notes.get(text, 0)
            self.notes[text] = n + 1
        if n == 0:
            log(text)


def measure(ctx, name, body):
    """Runs `body(samples)`; returns the scenario's figures (routes, seconds, RSS, CPU)."""
    ctx.serve.check_alive()
    samples = Samples()
    hwm = ctx.serve.reset_peak()
    cpu0, client0, t0 = ctx.serve.cpu_seconds(), time.process_time(), time.monotonic()
    body(samples)
    seconds = time.monotonic() - t0
    rss = ctx.serve.rss_between(t0, time.monotonic(), hwm)
    return {"name": name, "seconds": round(seconds, 2), "routes": summarize(samples.rows, seconds),
            "serve_rss_mib": rss,
            "serve_cpu_percent": round(100 * (ctx.serve.cpu_seconds() - cpu0) / seconds, 1),
            "client_cpu_percent": round(100 * (time.process_time() - client0) / seconds, 1)}


def scenario_uploads(ctx, stations, pdf):
    a = ctx.a
    def body(samples):
        until = time.monotonic() + a.duration
        run_threads([(uploader, (ctx, s, pdf, samples, until)) for s in stations])
    return measure(ctx, f"1. uploads of {a.small_mib:g} MiB, {len(stations)} stations, {a.duration:g} s", body)


def scenario_mixed(ctx, stations, district, pdf):
    a = ctx.a
    def body(samples):
        until = time.monotonic() + a.duration
        mp = multiprocessing.get_context("spawn")
        stop = mp.Event()
        mine, theirs = mp.Pipe(duplex=False)
        poller = mp.Process(target=poll, args=("127.0.0.1", ctx.port, district["token"], a.poll_ms / 1000,
                                               stop, theirs), daemon=True)
        poller.start()
        try:
            run_threads([(uploader, (ctx, s, pdf, samples, until)) for s in stations] +
                        [(leader, (ctx, district["token"], samples, until, i)) for i in range(a.leaders)])
        finally:
            stop.set()
            if mine.poll(a.timeout + 30):
                samples.extend(mine.recv())
            poller.join(5)
    return measure(ctx, f"2. uploads of {a.small_mib:g} MiB, {len(stations)} stations, with {a.leaders} "
                        f"leaders and /health + /api/v1/station every {a.poll_ms:g} ms, {a.duration:g} s", body)


def scenario_rss(ctx, stations, small, big):
    a = ctx.a
    stations = stations[:a.rss_clients]
    idle0 = ctx.serve.rss_now()
    def small_body(samples):
        until = time.monotonic() + a.rss_seconds
        run_threads([(uploader, (ctx, s, small, samples, until)) for s in stations])
    s = measure(ctx, f"3a. RSS: {len(stations)} concurrent uploads of {a.small_mib:g} MiB, {a.rss_seconds:g} s",
                small_body)
    time.sleep(2)
    idle1 = ctx.serve.rss_now()
    def big_body(samples):
        run_threads([(uploader, (ctx, st, big, samples, None, a.big_rounds)) for st in stations])
    b = measure(ctx, f"3b. RSS: {len(stations)} concurrent uploads of {a.big_mib:g} MiB, {a.big_rounds} each",
                big_body)
    time.sleep(2)
    s["serve_rss_mib"]["idle_before"] = idle0
    b["serve_rss_mib"]["idle_before"] = idle1
    b["serve_rss_mib"]["idle_after"] = ctx.serve.rss_now()
    return s, b


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stations", type=int, default=20, help="concurrent uploading stations (default 20)")
    p.add_argument("--leaders", type=int, default=3, help="leader clients in scenario 2 (default 3)")
    p.add_argument("--duration", type=float, default=30, help="seconds of scenarios 1 and 2 (default 30)")
    p.add_argument("--small-mib", type=float, default=1, help="PDF size of scenarios 1-3a (default 1)")
    p.add_argument("--big-mib", type=float, default=300, help="PDF size of scenario 3b (default 300)")
    p.add_argument("--rss-clients", type=int, default=4, help="concurrent uploads in scenario 3 (default 4)")
    p.add_argument("--rss-seconds", type=float, default=15, help="seconds of scenario 3a (default 15)")
    p.add_argument("--big-rounds", type=int, default=1, help="big uploads per client in 3b (default 1)")
    p.add_argument("--poll-ms", type=float, default=50, help="interval of the /health poller (default 50)")
    p.add_argument("--timeout", type=float, default=600, help="seconds before a request is given up")
    p.add_argument("--keep", action="store_true", help="keep the server's archive and the PDFs in bench/work/load/")
    a = p.parse_args()
    url = os.environ.get("SOHOA_TEST_DATABASE_URL")
    if not url:
        sys.exit("load: SOHOA_TEST_DATABASE_URL is not set; run bench/load, which starts PostgreSQL")

    def terminate(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, terminate)
    Setup.die_with_parent(signal.SIGTERM)

    setup, serve, finished = None, None, False
    try:
        setup = Setup(ROOT, RUN, url, log)
        setup.fresh()
        small = write_pdf(RUN / "small.pdf", int(a.small_mib * MIB))
        big = write_pdf(RUN / "big.pdf", int(a.big_mib * MIB))
        log(f"PDFs: {small.bytes:,} and {big.bytes:,} bytes")
        stations = [{"name": f"xa-{i + 1:02d}", "unit": COMMUNES[i % len(COMMUNES)]}
                    for i in range(max(a.stations, a.rss_clients))]
        for s in stations:
            s["token"] = setup.station(s["name"], s["unit"])
        district = {"name": "huyen", "unit": DISTRICT, "token": setup.station("huyen", DISTRICT)}
        port = free_port()
        serve = Serve(setup, port)
        ctx = Context(a, port, serve)
        log(f"serve pid {serve.pid} on 127.0.0.1:{port}; scenario 1")
        one = scenario_uploads(ctx, stations[:a.stations], small)
        log("scenario 2")
        two = scenario_mixed(ctx, stations[:a.stations], district, small)
        log("scenario 3")
        three_small, three_big = scenario_rss(ctx, stations, small, big)
        serve.check_alive()
        finished = True
    except SetupError as e:
        log(str(e))
        sys.exit(2)
    finally:
        if serve is not None:
            serve.stop(graceful=finished)
        if setup is not None and not a.keep:
            setup.remove_bulk()

    scenarios = [one, two, three_small, three_big]
    checks = targets(one, two, three_small, three_big)
    facts = {"commit": setup.commit(), "date": dt.datetime.now().isoformat(timespec="seconds"),
             "cpus": os.cpu_count(), "load_average": os.getloadavg(),
             "options": vars(a), "pdf_bytes": {"small": small.bytes, "big": big.bytes},
             "server_log": serve.log_summary(), "client_notes": ctx.notes}
    print(f"## sohoa serve under load (PostgreSQL), commit {facts['commit']}, {facts['cpus']} CPUs, "
          f"load average {facts['load_average'][0]:.1f}\n")
    for sc in scenarios:
        print_scenario(sc)
    print("### Targets\n\n| target | value | |\n|---|---|---|")
    for c in checks:
        print(f"| {c['target']} | {c['value']} | {'PASS' if c['pass'] else 'FAIL'} |")
    print_server_log(facts["server_log"], ctx.notes)
    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "load.json").write_text(json.dumps({"facts": facts, "scenarios": scenarios, "targets": checks},
                                               indent=1, ensure_ascii=False))
    log(f"figures in {WORK / 'load.json'}")
    sys.exit(0 if all(c["pass"] for c in checks) else 1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
