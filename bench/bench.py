"""Benchmark sohoa against OCRmyPDF and raw Tesseract on one corpus, on this machine.

Run through `bench/run`, which installs what is missing, builds sohoa in release mode and then calls this
file with the venv's Python (it needs rapidfuzz).

    bench/run                         the comparison: 40 pages, 3 rounds, one Markdown table on stdout
    bench/run --pages 60 --rounds 5   a bigger corpus, more rounds
    bench/run --memory                sohoa only: peak RSS of a 40-page batch vs a 2,000-page one
    bench/run --memory --memory-pages 500
    bench/run --models                sohoa only: the best_int Vietnamese model (the default) vs Debian's fast one

Method (after /work/shared/research/ocrmypdf-baseline.md, the earlier OCRmyPDF measurement here):

* Corpus: `scripts/make_samples.py corpus` (A4, 300 dpi JPEG, a quarter turned 90/180/270 degrees, some
  skewed, noisy or photocopied; ground truth in _truth/). Its output folder is already an inbox the way
  sohoa wants it (one folder per dossier code, one file per component); `_truth` is skipped by sohoa
  because it starts with `_`. Cached in bench/work/corpus-<N>/.
* Variants, one PDF per component each:
    sohoa      `sohoa batch <corpus> --data-dir <fresh> --json` (orientation and deskew are the defaults)
    ocrmypdf   `ocrmypdf -l vie --rotate-pages --deskew --jobs <cores> --output-type pdfa IN OUT`, one
               invocation per image, one after another or <cores> at a time (xargs -P), the latter also
               with OMP_THREAD_LIMIT=1 exported (see OCRMYPDF_MODES); all three are tried once on a few
               pages first and the fastest is kept (printed, and in the JSON)
    tesseract  `xargs -P <cores> env OMP_THREAD_LIMIT=1 tesseract IN OUT -l vie pdf` (the limit: no
               orientation, no deskew, no PDF/A), with TESSDATA_PREFIX set to the model folder sohoa uses
               (`sohoa config`), so both read with the same model. OCRmyPDF gets Tesseract's default
               models (Debian's), as a user installing it would.
* Runs alternate A B C A B C ... for --rounds rounds so drift (thermal, neighbours) hits all variants alike;
  the table shows medians.
* Per run: wall time (monotonic clock around the process); CPU time of the whole process tree (the
  RUSAGE_CHILDREN delta: it holds every descendant that was waited for, as GNU time's user+sys does);
  peak RSS of the whole tree (a thread sums /proc/<pid>/statm resident pages over the tree every 100 ms:
  GNU time's maxrss is the largest single process only); output bytes (the PDFs only); CER.
* CER: `pdftotext` in its default mode, NFC, every whitespace run (form feeds too) collapsed to one
  space, stripped; CER = Levenshtein distance / reference length; overall = sum of distances / sum of
  reference lengths. A missing output PDF counts as every character lost.
* The machine may be shared (the lead compiles on it): before every run wait until the CPUs are idle
  (< 0.1 core busy over 2 s, waiting at most --idle-timeout); after it, compare the kernel's busy time
  (/proc/stat) with the run's own CPU time and ours; if other processes used more than max(0.5 s, 5 % of
  wall), discard the run and repeat it (at most --retries times, then keep it flagged "contended").

Exit status: 0 when every variant ran and produced its outputs (whether the targets pass or not is in the
table), 1 when a tool failed.
"""
import argparse
import datetime
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
WORK = ROOT / "bench" / "work"
VENV = WORK / "venv"
BUILT = ROOT / "target" / "release" / "sohoa"
# The binary measured is a copy taken at start: someone else may rebuild target/release during the runs.
SOHOA = WORK / "sohoa"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# Targets from the issue (2-core machine): ratio is sohoa / other.
TARGETS = {
    ("ppm", "ocrmypdf"): (">=", 2.0),
    ("ppm", "tesseract"): (">=", 0.8),
    ("cer", "ocrmypdf"): ("<=", 1.0),
    ("bytes", "ocrmypdf"): ("<=", 1.0),
}
MEMORY_TARGET = 1.20  # peak RSS of the big batch <= 1.2 x that of the 40-page one


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- machine state
def cpu_counters():
    """(busy, steal) CPU seconds of the whole machine so far (all cores), from /proc/stat.
    Busy = user + nice + system + irq + softirq (guest time is already inside user; idle, iowait and
    steal are not work done here). Steal = time the hypervisor gave our vCPUs to someone else: it is
    recorded per run because it slows a run without showing up as another process."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / CLK_TCK, v[7] / CLK_TCK


def cpu_busy_seconds():
    return cpu_counters()[0]


def wait_idle(timeout, window=2.0, threshold=0.1):
    """Wait until the CPUs were < `threshold` cores busy over `window` seconds. Returns (seconds waited,
    idle reached). Gives up after `timeout` so a busy neighbour cannot stall the benchmark forever."""
    t0 = time.monotonic()
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(window)
        busy = (cpu_busy_seconds() - b0) / window
        waited = time.monotonic() - t0
        if busy < threshold:
            return waited, True
        if waited >= timeout:
            log(f"CPUs still {busy:.2f} cores busy after {waited:.0f} s of waiting; running anyway")
            return waited, False


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every `interval` seconds.
    Shared pages (libraries, the mapped traineddata) are counted once per process, as `ps` would."""

    def __init__(self, pid, interval=0.1):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak, self.samples, self.series = 0, 0, []  # series: (seconds since start, RSS bytes)
        self.t0 = time.monotonic()
        self._halt = threading.Event()

    def tree(self):
        pids, stack = [], [self.pid]
        while stack:
            pid = stack.pop()
            pids.append(pid)
            try:  # children are listed per thread (the one that forked them)
                for tid in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{tid}/children") as f:
                        stack.extend(int(c) for c in f.read().split())
            except OSError:
                pass  # exited between listing and reading
        return pids

    def sample(self):
        rss = 0
        for pid in self.tree():
            try:
                with open(f"/proc/{pid}/statm") as f:
                    rss += int(f.read().split()[1]) * PAGE
            except (OSError, IndexError, ValueError):
                pass
        self.samples += 1
        self.peak = max(self.peak, rss)
        self.series.append((round(time.monotonic() - self.t0, 2), rss))

    def run(self):
        self.sample()
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self):
        self._halt.set()
        self.join()


def measure(cmd, cwd, env, stdin_data=None, log_path=None):
    """Run `cmd` once; return wall, tree CPU, tree peak RSS, other processes' CPU, exit code, stdout."""
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, steal0 = cpu_counters()
    t0 = time.monotonic()
    with open(log_path or os.devnull, "wb") as err:
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        sampler = TreeSampler(p.pid)
        sampler.start()
        out, _ = p.communicate(stdin_data)
        wall = time.monotonic() - t0
        sampler.stop()
    busy1, steal1 = cpu_counters()
    busy = busy1 - busy0
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    ours = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)  # the sampler
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "peak_rss": sampler.peak,
            "rss_samples": sampler.samples, "other_cpu_s": round(max(0.0, busy - cpu - ours), 3),
            "sampler_cpu_s": round(ours, 3), "steal_s": round(steal1 - steal0, 2), "exit": p.returncode,
            "stdout": out.decode("utf-8", "replace"), "series": sampler.series}


def measured_run(label, fn, args, retry=True):
    """Idle check, run, discard rule. `fn()` does one run and returns its record (from `measure`)."""
    attempts = []
    for attempt in range(1 + (args.retries if retry else 0)):
        waited, idle = wait_idle(args.idle_timeout)
        rec = fn()
        rec.update(idle_wait_s=round(waited, 1), started_idle=idle, attempt=attempt + 1)
        limit = max(0.5, 0.05 * rec["wall_s"])
        rec["contended"] = rec["other_cpu_s"] > limit
        attempts.append(rec)
        if not rec["contended"]:
            break
        log(f"{label}: other processes used {rec['other_cpu_s']:.1f} CPU-s (> {limit:.1f}) during the run: "
            + ("discarded, repeating" if retry and attempt < args.retries else "kept, flagged contended"))
    for r in attempts[:-1]:
        r["discarded"] = True
    attempts[-1]["discarded"] = False
    return attempts


# ---------------------------------------------------------------- corpus
def ensure_corpus(n):
    """bench/work/corpus-<n>: made once by scripts/make_samples.py, reused while its manifest is whole."""
    out = WORK / f"corpus-{n}"
    man = out / "_truth" / "manifest.json"
    ok = False
    if man.exists():
        comps = json.loads(man.read_text(encoding="utf-8"))["components"]
        ok = len(comps) == n and all((out / c["dossier"] / c["disk_path"]).exists() for c in comps)
    if not ok:
        log(f"making the corpus ({n} pages) in {out.relative_to(ROOT)}")
        subprocess.run(["/usr/bin/python3", str(ROOT / "scripts/make_samples.py"), "corpus", str(out),
                        "--pages", str(n)], check=True, stdout=sys.stderr)
    comps = json.loads(man.read_text(encoding="utf-8"))["components"]
    pages = []
    for c in comps:
        assert c["format"] == "jpeg" and c["pages"] == 1, c  # corpus mode: single-page JPEG components
        rel = f"{c['dossier']}/{c['disk_path']}"
        pages.append({"rel": rel, "stem": rel[:-len(Path(rel).suffix)], "dossier": c["dossier"],
                      "truth": (out / c["truth"]).read_text(encoding="utf-8"), "info": c["page_info"][0]})
    for p in pages:  # read every image once so no variant pays for the first disk read
        (out / p["rel"]).read_bytes()
    return out, pages


# ---------------------------------------------------------------- CER
def norm(text):
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def pdf_text(pdf):
    r = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True)
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None


def cer(pages, pdf_of):
    """Per-page and overall CER. `pdf_of(page)` is the output PDF for that page's component."""
    from rapidfuzz.distance import Levenshtein  # C speed; only in the venv, hence imported here

    per_page, dist, length, by_tag, missing = [], 0, 0, {}, 0
    for p in pages:
        ref = norm(p["truth"])
        pdf = pdf_of(p)
        text = pdf_text(pdf) if pdf and pdf.exists() else None
        if text is None:
            missing += 1
        d = Levenshtein.distance(ref, norm(text)) if text is not None else len(ref)
        per_page.append({"page": p["stem"], "kind": p["info"]["kind"], "dist": d, "len": len(ref),
                         "cer": round(d / max(1, len(ref)), 5)})
        dist, length = dist + d, length + len(ref)
        for tag in p["info"]["kind"].split("+"):
            t = by_tag.setdefault(tag, [0, 0])
            t[0] += d
            t[1] += len(ref)
    return {"cer": dist / max(1, length), "dist": dist, "len": length, "missing_pdfs": missing,
            "by_tag": {k: round(v[0] / max(1, v[1]), 5) for k, v in sorted(by_tag.items())},
            "pages": per_page}


def pdf_bytes(folder):
    return sum(f.stat().st_size for f in folder.rglob("*.pdf"))


# ---------------------------------------------------------------- variants
def clean_env(**extra):
    """The environment for a tool: no OMP/SOHOA settings leaking in from whoever runs the bench, so each
    tool uses its own defaults (sohoa sets OMP_THREAD_LIMIT=1 itself, OCRmyPDF sets it per worker)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT" and not k.startswith("SOHOA_")}
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(extra)
    return env


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


SOHOA_ARGS = []  # --sohoa-args, e.g. "--languages vie" for a diagnostic run
TESSDATA = None  # sohoa's model folder, set in main() (raw Tesseract uses it too)
DEBIAN_TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"


def run_sohoa(inbox, pages, out, extra=()):
    """One batch over the whole inbox into a fresh data dir (otherwise the second run skips everything)."""
    fresh(out)
    rec = measure([str(SOHOA), "batch", str(inbox), "--data-dir", str(out / "data"), "--json"] + SOHOA_ARGS
                  + list(extra),
                  cwd=out, env=clean_env(), log_path=out / "stderr.log")
    try:
        summary = json.loads(rec["stdout"])
    except ValueError:
        summary = {}
    rec["sohoa_summary"] = summary
    rec["ok"] = rec["exit"] == 0 and summary.get("pages") == len(pages) and not summary.get("failures")
    archive = out / "data" / "archive"
    index = {(f.parent.name, f.stem): f for f in archive.rglob("*.pdf")}  # <code>/<component>.pdf
    rec["pdf_of"] = lambda p: index.get((p["dossier"], Path(p["stem"]).name))
    rec["out_bytes"] = pdf_bytes(archive)
    return rec


def run_xargs(inbox, pages, out, tool_cmd, parallel, **env):
    """Run `tool_cmd` (a list with {} for the page's path without .jpg) once per page through xargs,
    `parallel` at a time, with the inbox as working directory and outputs under out/pdf/<dossier>/."""
    fresh(out)
    for d in {p["dossier"] for p in pages}:
        (out / "pdf" / d).mkdir(parents=True)
    stems = "".join(p["stem"] + "\n" for p in pages).encode()
    rec = measure(["xargs", "-P", str(parallel), "-I{}"] + tool_cmd, cwd=inbox, env=clean_env(**env),
                  stdin_data=stems, log_path=out / "stderr.log")
    rec["pdf_of"] = lambda p: out / "pdf" / f"{p['stem']}.pdf"
    rec["ok"] = rec["exit"] == 0 and all(rec["pdf_of"](p).exists() for p in pages)
    rec["out_bytes"] = pdf_bytes(out / "pdf")
    return rec


def ocrmypdf_cmd(out, cores):
    return [str(VENV / "bin" / "ocrmypdf"), "-l", "vie", "--rotate-pages", "--deskew", "--jobs", str(cores),
            "--output-type", "pdfa", "{}.jpg", f"{out}/pdf/{{}}.pdf"]


def sohoa_tessdata():
    """The model folder sohoa settles on (`sohoa config`); None = Tesseract's default."""
    m = re.search(r'^tessdata = "([^"]+)"', sh(f"{SOHOA} config 2>/dev/null"), re.M)
    return m.group(1) if m else None


def tesseract_cmd(out):
    model = [f"TESSDATA_PREFIX={TESSDATA}"] if TESSDATA else []
    return ["env", "OMP_THREAD_LIMIT=1"] + model + ["tesseract", "{}.jpg", f"{out}/pdf/{{}}", "-l", "vie", "pdf"]


VARIANTS = {
    "sohoa": lambda inbox, pages, cores, omode: run_sohoa(inbox, pages, WORK / "out" / "sohoa"),
    "ocrmypdf": lambda inbox, pages, cores, omode: run_xargs(
        inbox, pages, WORK / "out" / "ocrmypdf", ocrmypdf_cmd(WORK / "out" / "ocrmypdf", cores),
        1 if omode == "serial" else cores, **OCRMYPDF_ENV[omode]),
    "tesseract": lambda inbox, pages, cores, omode: run_xargs(
        inbox, pages, WORK / "out" / "tesseract", tesseract_cmd(WORK / "out" / "tesseract"), cores),
}
# How OCRmyPDF's one-page invocations are scheduled. For a 1-page input with --jobs 2 it gives Tesseract
# OMP_THREAD_LIMIT = jobs // pages = 2 threads; two such invocations at a time then run 4 OpenMP threads on 2
# cores, whose spin-waiting burns CPU. OCRmyPDF honours OMP_THREAD_LIMIT from the environment instead, so
# "parallel-omp1" (same flags, OMP_THREAD_LIMIT=1 exported) is probed as well: the comparison should be
# against the best OCRmyPDF one can get with the issue's flags.
OCRMYPDF_MODES = ("serial", "parallel", "parallel-omp1")
OCRMYPDF_ENV = {"serial": {}, "parallel": {}, "parallel-omp1": {"OMP_THREAD_LIMIT": "1"}}
NAMES = {"sohoa": "sohoa", "ocrmypdf": "OCRmyPDF", "tesseract": "raw Tesseract"}


def finish_record(rec, pages, variant, round_no):
    """Derived numbers, CER, and the fields that do not go into JSON. A discarded run's outputs were
    overwritten by its repeat, so it gets no CER."""
    n = len(pages)
    rec["variant"], rec["round"], rec["pages"] = variant, round_no, n
    rec["ppm"] = round(n * 60 / rec["wall_s"], 2)
    rec["cpu_per_page"] = round(rec["cpu_s"] / n, 3)
    rec["bytes_per_page"] = rec["out_bytes"] / n
    pdf_of = rec.pop("pdf_of")
    if not rec["discarded"]:
        c = cer(pages, pdf_of)
        rec["cer"], rec["cer_detail"] = c["cer"], c
    rec["peak_rss_mib"] = round(rec["peak_rss"] / 2**20, 1)
    rec["rss_series"] = thin(rec.pop("series"))
    rec.pop("stdout", None)  # sohoa's is parsed into sohoa_summary
    return rec


def thin(series, n=40):
    """Keep about n points of an RSS series (the max of each slice) so the JSON stays small."""
    if len(series) <= n:
        return series
    k = -(-len(series) // n)
    return [max(series[i:i + k], key=lambda s: s[1]) for i in range(0, len(series), k)]


# ---------------------------------------------------------------- environment facts
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, cwd=WORK,
                              env=clean_env()).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    vie = Path(TESSDATA or DEBIAN_TESSDATA) / "vie.traineddata"
    dirty = sh(f"git -C {ROOT} status --porcelain -- src Cargo.toml Cargo.lock")
    langs = re.search(r'"([^"]+)"', sh(f"{SOHOA} config 2>/dev/null | grep -m1 languages"))
    return {
        "cpus": os.cpu_count(), "cpu_model": cpu.group(1) if cpu else "?",
        "ram_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "os": "Debian " + sh("cat /etc/debian_version"), "kernel": os.uname().release,
        "tesseract": sh("tesseract --version 2>&1 | head -1"),
        "vie_traineddata": str(vie), "vie_traineddata_bytes": vie.stat().st_size if vie.exists() else None,
        "vie_model": model_kind(vie),
        "ocrmypdf": sh(f"{VENV}/bin/ocrmypdf --version"), "ghostscript": sh("gs --version"),
        "pdftotext": sh("pdftotext -v 2>&1 | head -1"),
        "sohoa_commit": sh(f"git -C {ROOT} rev-parse --short HEAD") + ("+uncommitted changes" if dirty else ""),
        "sohoa_sha256": sh(f"sha256sum {SOHOA} | cut -c1-16"),
        "sohoa_languages": langs.group(1) if langs else "?", "sohoa_args": " ".join(SOHOA_ARGS),
    }


BEST_INT_SHA256 = "112f6fd1d04ab4cb0208cad9cada8de214ae33a1e4db3750ffcda69262aef0a8"  # scripts/install-model.sh


def model_kind(path):
    """best_int (what scripts/install-model.sh installs), Debian's fast model, or another one."""
    if not path.exists():
        return "missing"
    if sh(f"sha256sum {path} | cut -c1-64") == BEST_INT_SHA256:
        return "best_int"
    return "fast (Debian)" if str(path).startswith(DEBIAN_TESSDATA) else "other"


# ---------------------------------------------------------------- comparison mode
def pick_ocrmypdf_mode(inbox, pages, args):
    """One invocation per component, with --jobs <cores>: one after another, or <cores> at a time (with
    or without OMP_THREAD_LIMIT=1)? Try each once on a few pages (idle-checked) and keep the fastest."""
    if args.ocrmypdf_mode != "auto":
        return args.ocrmypdf_mode, []
    probe = pages[:min(len(pages), args.probe_pages)]
    probes = []
    for mode in OCRMYPDF_MODES:
        log(f"OCRmyPDF probe, {mode}, {len(probe)} pages")
        runs = measured_run(f"ocrmypdf probe {mode}",
                            lambda: VARIANTS["ocrmypdf"](inbox, probe, args.cores, mode), args)
        for r in runs:
            r.pop("pdf_of", None)
            r.pop("series", None)
            r.pop("stdout", None)
            r["mode"] = mode
            r["ppm"] = round(len(probe) * 60 / r["wall_s"], 2)
        probes += runs
        kept = runs[-1]
        if not kept["ok"]:
            raise SystemExit(f"OCRmyPDF failed in the probe ({mode}); see {WORK / 'out/ocrmypdf/stderr.log'}")
        log(f"  {mode}: {kept['wall_s']:.1f} s = {kept['ppm']:.1f} pages/min")
    kept = {r["mode"]: r for r in probes if not r["discarded"]}
    best = max(kept, key=lambda m: kept[m]["ppm"])
    log(f"OCRmyPDF: keeping {best}")
    return best, probes


def compare(args):
    inbox, pages = ensure_corpus(args.pages)
    started, facts = datetime.datetime.now(), machine()
    omode, probes = pick_ocrmypdf_mode(inbox, pages, args)
    runs, ok = [], True
    for rnd in range(1, args.rounds + 1):
        for v in ("sohoa", "ocrmypdf", "tesseract"):
            log(f"round {rnd}/{args.rounds}: {v}")
            attempts = measured_run(f"{v} round {rnd}", lambda: VARIANTS[v](inbox, pages, args.cores, omode), args)
            for a in attempts:
                finish_record(a, pages, v, rnd)
            r = attempts[-1]
            ok &= r["ok"]
            log(f"  {r['wall_s']:.1f} s, {r['ppm']:.1f} pages/min, {r['cpu_per_page']:.2f} CPU-s/page, "
                f"peak {r['peak_rss_mib']:.0f} MiB, {r['bytes_per_page'] / 1e3:.0f} kB/page, "
                f"CER {100 * r['cer']:.2f} %" + ("" if r["ok"] else "  ** FAILED, see bench/work/out **"))
            runs += attempts
    summary = summarize(runs)
    table = render_table(summary, facts, args, omode, probes, runs, pages)
    report("compare", started, facts, args, table, ocrmypdf_mode=omode, ocrmypdf_probes=probes,
           summary=summary, runs=runs)
    return 0 if ok else 1


def report(mode, started, facts, args, table, **results):
    """Writes every run to bench/work/results[-mode]-<time>.json and prints the table."""
    name = "results" if mode == "compare" else f"results-{mode}"
    path = WORK / f"{name}-{started:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps({"mode": mode, "started": started.isoformat(timespec="seconds"),
                                "machine": facts, "options": vars(args), **results, "table": table},
                               ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(table)
    print(f"\nAll runs: {path.relative_to(ROOT)}")


def summarize(runs, variants=VARIANTS):
    out = {}
    for v in variants:
        kept = [r for r in runs if r["variant"] == v and not r["discarded"]]
        med = lambda k: statistics.median(r[k] for r in kept)
        out[v] = {"runs": len(kept), "ppm": med("ppm"), "ppm_min": min(r["ppm"] for r in kept),
                  "ppm_max": max(r["ppm"] for r in kept), "wall_s": med("wall_s"),
                  "cpu_per_page": med("cpu_per_page"), "peak_rss_mib": med("peak_rss_mib"),
                  "bytes_per_page": med("bytes_per_page"), "cer": med("cer"),
                  "cer_by_tag": kept[len(kept) // 2]["cer_detail"]["by_tag"],
                  "contended_kept": sum(r["contended"] for r in kept),
                  "discarded": sum(1 for r in runs if r["variant"] == v and r["discarded"]),
                  "all_ok": all(r["ok"] for r in kept)}
    return out


def ratio_cell(metric, other, s, o):
    if o == 0:
        return "n/a"
    q = s / o
    cell = f"{q:.2f}"
    if (metric, other) in TARGETS:
        op, lim = TARGETS[(metric, other)]
        good = q >= lim if op == ">=" else q <= lim
        cell += f" (target {op} {lim:g}: **{'PASS' if good else 'FAIL'}**)"
    return cell


def render_table(summary, facts, args, omode, probes, runs, pages):
    s, o, t = summary["sohoa"], summary["ocrmypdf"], summary["tesseract"]
    rows = [
        ("pages per minute (higher is better)", "ppm",
         lambda v: f"{v['ppm']:.1f} ({v['ppm_min']:.1f}–{v['ppm_max']:.1f})"),
        ("CPU seconds per page", "cpu_per_page", lambda v: f"{v['cpu_per_page']:.2f}"),
        ("peak RSS, whole process tree (MiB)", "peak_rss_mib", lambda v: f"{v['peak_rss_mib']:.0f}"),
        ("output kB per page", "bytes_per_page", lambda v: f"{v['bytes_per_page'] / 1e3:.0f}"),
        ("character error rate (%)", "cer", lambda v: f"{100 * v['cer']:.2f}"),
    ]
    short = {"ppm": "ppm", "bytes_per_page": "bytes", "cer": "cer"}
    omode_txt = {"serial": "one invocation after another",
                 "parallel": f"{args.cores} invocations at a time (xargs -P {args.cores})",
                 "parallel-omp1": f"{args.cores} invocations at a time (xargs -P {args.cores}) with "
                                  "OMP_THREAD_LIMIT=1 exported"}[omode]
    if probes:
        omode_txt += " (the fastest in a probe on the first pages: " + ", ".join(
            f"{r['mode']} {r['ppm']:.1f}" for r in probes if not r["discarded"]) + " pages/min)"
    n_disc = sum(r["discarded"] for r in runs)
    n_probe = sum(r["discarded"] for r in probes)
    n_cont = sum(r["contended"] and not r["discarded"] for r in runs)
    waits = sum(r["idle_wait_s"] for r in runs)
    lines = [
        f"### sohoa vs OCRmyPDF vs raw Tesseract: {len(pages)} pages, median of {args.rounds} alternating rounds",
        "",
        f"Machine: {facts['cpus']} vCPU {facts['cpu_model']}, {facts['ram_gib']} GiB RAM, {facts['os']}; "
        f"{facts['tesseract']}, sohoa and raw Tesseract read with the {facts['vie_model']} vie model "
        f"({facts['vie_traineddata_bytes']:,} bytes), OCRmyPDF with Tesseract's default (Debian's fast); "
        f"OCRmyPDF {facts['ocrmypdf']}, Ghostscript {facts['ghostscript']}; sohoa {facts['sohoa_commit']}.",
        "",
        "| | sohoa | OCRmyPDF | raw Tesseract | sohoa / OCRmyPDF | sohoa / raw Tesseract |",
        "|---|---:|---:|---:|---|---|",
    ]
    for label, key, fmt in rows:
        m = short.get(key, key)
        lines.append(f"| {label} | {fmt(s)} | {fmt(o)} | {fmt(t)} | {ratio_cell(m, 'ocrmypdf', s[key], o[key])} "
                     f"| {ratio_cell(m, 'tesseract', s[key], t[key])} |")
    lines += [
        "",
        f"- sohoa: `sohoa batch <corpus> --data-dir <fresh> --json{' ' + facts['sohoa_args'] if facts['sohoa_args'] else ''}` "
        f"(orientation + deskew on, default jobs, languages {facts['sohoa_languages']}). "
        f"OCRmyPDF: `ocrmypdf -l vie --rotate-pages --deskew --jobs {args.cores} --output-type pdfa`, one "
        f"invocation per page, {omode_txt}. Raw Tesseract: "
        f"`{'TESSDATA_PREFIX=' + TESSDATA + ' ' if TESSDATA else ''}tesseract IN OUT -l vie pdf`, {args.cores} processes "
        "at a time, OMP_THREAD_LIMIT=1, no rotation/deskew.",
        "- CER: `pdftotext` (default mode) vs ground truth, NFC, whitespace collapsed, Σ Levenshtein / Σ "
        "reference length. By page kind (sohoa / OCRmyPDF / raw Tesseract, %; a page counts in each of its "
        "kinds): " + "; ".join(f"{tag} {100 * s['cer_by_tag'][tag]:.2f} / {100 * o['cer_by_tag'][tag]:.2f} / "
                               f"{100 * t['cer_by_tag'][tag]:.2f}" for tag in s["cer_by_tag"]) + ".",
        "- Peak RSS: sum over the process tree, sampled every 100 ms.",
        f"- Idle check before every run; {n_disc} run(s) discarded and repeated because other processes used "
        f"CPU during them (and {n_probe} in the OCRmyPDF probe); {n_cont} kept although contended; "
        f"{waits:.0f} s spent waiting for idle CPUs.",
    ]
    bad = [NAMES[v] for v in VARIANTS if not summary[v]["all_ok"]]
    if bad:
        lines.append(f"- **Failures:** {', '.join(bad)} did not produce every output (see bench/work/out/).")
    return "\n".join(lines)


# ---------------------------------------------------------------- memory mode
def ensure_big_inbox(corpus, pages, n):
    """An inbox of n pages in dossiers of 20 components, reusing the corpus images as hard links (sohoa
    refuses symlinks; hard links cost no space). Each dossier has its own code, so nothing is skipped."""
    out, done = WORK / f"memory-{n}", WORK / f"memory-{n}.done"
    if done.exists() and out.is_dir():
        return out
    log(f"linking a {n}-page inbox in {out.relative_to(ROOT)}")
    shutil.rmtree(out, ignore_errors=True)
    for i in range(n):
        d = out / f"000.00.18.H44-230601-{i // 20 + 1:04d}"
        d.mkdir(parents=True, exist_ok=True)
        src = corpus / pages[i % len(pages)]["rel"]
        os.link(src, d / f"{i % 20 + 1:04d}.jpg")
    done.write_text(f"{n}\n")
    return out


def jpeg_pdf(jpegs, path):
    """A PDF with one full-page JPEG per page, the bytes embedded as they are: what a scanner's
    "scan to PDF" writes for a long document."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for j in jpegs:
        data = j.read_bytes()
        w, h, comps = jpeg_size(data)
        pw, ph = w * 72 / 300, h * 72 / 300
        space = {1: b"/DeviceGray", 3: b"/DeviceRGB"}[comps]
        objs.append(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                    b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n%s\nendstream"
                    % (w, h, space, len(data), data))
        content = b"q %.2f 0 0 %.2f 0 0 cm /Im0 Do Q" % (pw, ph)
        objs.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        n = len(objs)
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Contents %d 0 R "
                    b"/Resources << /XObject << /Im0 %d 0 R >> >> >>" % (pw, ph, n, n - 1))
        kids.append(len(objs))
    objs[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), b" ".join(b"%d 0 R" % k for k in kids))
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4\n")
        offsets = []
        for i, o in enumerate(objs, 1):
            offsets.append(f.tell())
            f.write(b"%d 0 obj\n%s\nendobj\n" % (i, o))
        xref = f.tell()
        f.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
        f.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
        f.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))


def jpeg_size(data):
    """(width, height, components) from a JPEG's SOF marker."""
    i = 2
    while i < len(data):
        marker, length = data[i + 1], int.from_bytes(data[i + 2:i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
            return w, h, data[i + 9]
        i += 2 + length
    raise ValueError("no SOF marker")


def ensure_long_inbox(corpus, pages, n):
    """One dossier with one component: an n-page scanner PDF of the corpus JPEGs (a long land dossier)."""
    out, done = WORK / f"long-{n}", WORK / f"long-{n}.done"
    if done.exists() and out.is_dir():
        return out
    log(f"writing a {n}-page PDF in {out.relative_to(ROOT)}")
    shutil.rmtree(out, ignore_errors=True)
    d = out / "000.00.18.H44-230701-0001"
    d.mkdir(parents=True)
    jpeg_pdf([corpus / pages[i % len(pages)]["rel"] for i in range(n)], d / "ho-so-dat-dai.pdf")
    done.write_text(f"{n}\n")
    return out


def memory(args):
    corpus, pages = ensure_corpus(args.pages)
    big = ensure_big_inbox(corpus, pages, args.memory_pages)
    long = ensure_long_inbox(corpus, pages, args.long_pages)
    started, facts = datetime.datetime.now(), machine()
    res = []
    for label, inbox, n in (("small", corpus, len(pages)), ("long", long, args.long_pages),
                            ("big", big, args.memory_pages)):
        log(f"memory: sohoa on {n} pages")
        out = WORK / "out" / f"memory-{label}"

        def one():
            fresh(out)
            rec = measure([str(SOHOA), "batch", str(inbox), "--data-dir", str(out / "data"), "--json"]
                          + SOHOA_ARGS,
                          cwd=out, env=clean_env(), log_path=out / "stderr.log")
            try:
                rec["sohoa_summary"] = json.loads(rec.pop("stdout"))
            except ValueError:
                rec["sohoa_summary"] = {}
            rec["ok"] = (rec["exit"] == 0 and rec["sohoa_summary"].get("pages") == n
                         and not rec["sohoa_summary"].get("failures"))
            rec["out_bytes"] = pdf_bytes(out / "data" / "archive")
            return rec

        # RSS hardly depends on neighbours, and a 2,000-page run is too long to repeat: no retries for it
        attempts = measured_run(f"memory {label} {n}", one, args, retry=(label == "small"))
        for r in attempts:
            r.update(pages=n, ppm=round(n * 60 / r["wall_s"], 2), cpu_per_page=round(r["cpu_s"] / n, 3),
                     peak_rss_mib=round(r["peak_rss"] / 2**20, 1), rss_series=thin(r.pop("series"), 60))
        r = attempts[-1]
        log(f"  {n} pages: {r['wall_s']:.0f} s, {r['ppm']:.1f} pages/min, peak {r['peak_rss_mib']:.0f} MiB"
            + ("" if r["ok"] else "  ** FAILED **"))
        res.append(attempts)
        shutil.rmtree(out / "data" / "archive", ignore_errors=True)  # gigabytes for the big run
    small, longr, bigr = res[0][-1], res[1][-1], res[2][-1]
    longr["in_mib"] = sum(f.stat().st_size for f in long.rglob("*.pdf")) / 2**20
    q = bigr["peak_rss"] / small["peak_rss"]
    ql = longr["peak_rss"] / small["peak_rss"]
    # RSS of the big run at each tenth of its duration: flat means it does not grow with the batch
    ser = bigr["rss_series"]
    tenths = [max((s[1] for s in ser if s[0] <= bigr["wall_s"] * k / 10), default=0) for k in range(1, 11)]
    lines = [
        f"### sohoa peak RSS: {small['pages']} pages vs {bigr['pages']} pages",
        "",
        f"Machine: {facts['cpus']} vCPU {facts['cpu_model']}, {facts['ram_gib']} GiB RAM; sohoa {facts['sohoa_commit']}.",
        "",
        "| pages | dossiers | documents | wall s | pages per minute | CPU s per page | peak RSS (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in (small, longr, bigr):
        lines.append(f"| {r['pages']:,} | {r['sohoa_summary'].get('dossiers', '?')} | "
                     f"{r['sohoa_summary'].get('documents', '?')} | {r['wall_s']:.0f} | "
                     f"{r['ppm']:.1f} | {r['cpu_per_page']:.2f} | {r['peak_rss_mib']:.0f} |")
    lines += [
        "",
        f"Peak RSS {bigr['pages']:,} / {small['pages']} pages = **{q:.2f}** (target <= {MEMORY_TARGET:.2f}: "
        f"**{'PASS' if q <= MEMORY_TARGET else 'FAIL'}**). Running peak of the big batch at each tenth of its "
        f"run (MiB): {', '.join(f'{v / 2**20:.0f}' for v in tenths)}.",
        f"The {bigr['pages']:,}-page inbox reuses the {len(pages)} corpus images (hard links) in "
        f"{bigr['sohoa_summary'].get('dossiers', '?')} dossiers of 20 components.",
        f"One {longr['pages']}-page component (a scanner PDF of the corpus JPEGs, "
        f"{longr['in_mib']:.0f} MiB) / {small['pages']} pages = {ql:.2f}: its pages stream through decode, OCR and "
        "encoding (no rasters are held), but its compressed page images and the PDF being written are in memory "
        "until the document is stored, about twice its size (not an issue target; for information).",
    ]
    if any(r["contended"] for r in (small, bigr)):
        lines.append("- Other processes used CPU during a kept run (see the JSON); RSS is not affected much.")
    table = "\n".join(lines)
    report("memory", started, facts, args, table, ratio=q, runs=res)
    return 0 if small["ok"] and longr["ok"] and bigr["ok"] else 1


# ---------------------------------------------------------------- models mode
def models(args):
    """sohoa with its default model folder (best_int after scripts/install-model.sh) vs sohoa with
    Debian's fast model, alternating rounds on the same corpus; speed and CER."""
    inbox, pages = ensure_corpus(args.pages)
    started, facts = datetime.datetime.now(), machine()
    cfg = WORK / "debian-model.toml"
    cfg.write_text(f'[ocr]\ntessdata = "{DEBIAN_TESSDATA}"\n')
    variants = {"default": [], "debian": ["--config", str(cfg)]}
    names = {"default": f"default: {facts['vie_model']} ({TESSDATA or DEBIAN_TESSDATA})",
             "debian": f"Debian fast ({DEBIAN_TESSDATA})"}
    runs, ok = [], True
    for rnd in range(1, args.rounds + 1):
        for v, extra in variants.items():
            log(f"round {rnd}/{args.rounds}: sohoa, {names[v]}")
            attempts = measured_run(f"model {v} round {rnd}",
                                    lambda: run_sohoa(inbox, pages, WORK / "out" / f"model-{v}", extra), args)
            for a in attempts:
                finish_record(a, pages, v, rnd)
            r = attempts[-1]
            ok &= r["ok"]
            log(f"  {r['ppm']:.1f} pages/min, {r['cpu_per_page']:.2f} CPU-s/page, CER {100 * r['cer']:.2f} %")
            runs += attempts
    summary = summarize(runs, variants)
    d, f = summary["default"], summary["debian"]
    tags = list(d["cer_by_tag"])
    lines = [
        f"### sohoa's OCR model: {len(pages)} pages, median of {args.rounds} alternating rounds",
        "",
        f"Machine: {facts['cpus']} vCPU {facts['cpu_model']}; {facts['tesseract']}; sohoa {facts['sohoa_commit']}.",
        "",
        "| vie model | pages per minute | CPU s per page | CER (%) | " + " | ".join(f"CER {t} (%)" for t in tags) + " |",
        "|---|---:|---:|---:|" + "---:|" * len(tags),
    ]
    for v in variants:
        x = summary[v]
        lines.append(f"| {names[v]} | {x['ppm']:.1f} | {x['cpu_per_page']:.2f} | {100 * x['cer']:.2f} | "
                     + " | ".join(f"{100 * x['cer_by_tag'][t]:.2f}" for t in tags) + " |")
    lines += ["", f"Default / Debian: speed {d['ppm'] / f['ppm']:.2f}, error rate {d['cer'] / f['cer']:.2f}."]
    table = "\n".join(lines)
    report("models", started, facts, args, table, summary=summary, runs=runs)
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description="sohoa vs OCRmyPDF vs raw Tesseract (see bench/bench.py)")
    ap.add_argument("--pages", type=int, default=40, help="corpus pages (default 40)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--memory", action="store_true", help="sohoa only: peak RSS of --pages vs --memory-pages")
    ap.add_argument("--memory-pages", type=int, default=2000, help="pages of the big batch (default 2000)")
    ap.add_argument("--cores", type=int, default=os.cpu_count(), help="parallelism for the peers (default: all)")
    ap.add_argument("--ocrmypdf-mode", choices=("auto",) + OCRMYPDF_MODES, default="auto",
                    help="OCRmyPDF invocations one after another, <cores> at a time, or <cores> at a time "
                         "with OMP_THREAD_LIMIT=1 (auto: probe all three, keep the fastest)")
    ap.add_argument("--probe-pages", type=int, default=8, help="pages for the OCRmyPDF probe (default 8)")
    ap.add_argument("--idle-timeout", type=float, default=240, help="max seconds to wait for idle CPUs per run")
    ap.add_argument("--retries", type=int, default=3, help="max repeats of a contended run (default 3)")
    ap.add_argument("--models", action="store_true",
                    help="sohoa only: its default model folder vs Debian's fast vie model, same corpus")
    ap.add_argument("--long-pages", type=int, default=200,
                    help="--memory: pages of the one-component run (a multi-page grey TIFF; default 200)")
    ap.add_argument("--sohoa-args", default="", help='extra flags for sohoa batch, e.g. "--languages vie"')
    args = ap.parse_args()
    if not BUILT.exists():
        raise SystemExit(f"{BUILT} is missing: run bench/run (it builds sohoa), not bench.py directly")
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUILT, SOHOA)
    SOHOA_ARGS.extend(args.sohoa_args.split())
    global TESSDATA
    TESSDATA = sohoa_tessdata()
    sys.exit(memory(args) if args.memory else models(args) if args.models else compare(args))


if __name__ == "__main__":
    main()
