"""Signing cost per document: `sohoa sign` with a PKCS#12 key file and with a PKCS#11 token (SoftHSM2),
beside pyHanko signing the same PDFs, on this machine.

Run through `bench/run --sign`, which installs the Debian packages and the project venv
(scripts/install-deps.sh), builds sohoa in release mode and then calls this file with the project venv's
Python:

    bench/run --sign                        15 documents, 3 alternating rounds, one Markdown table on stdout
    bench/run --sign --copies 4 --rounds 5  60 documents (the archive copied 4 times), 5 rounds
    bench/run --sign --help                 every option

Method:

* Set-up (not timed; about a minute): the test PKI (scripts/make_test_pki.py: officer.p12, ca.pem), a
  SoftHSM2 token holding the same officer key and certificate (scripts/make_test_token.sh), the fixtures'
  good scans (scripts/make_samples.py fixtures) archived by `sohoa batch` into a data dir: 15 current,
  unsigned documents. With --copies K that data dir is copied K times, so a run signs 15 x K documents.
  Everything lives in bench/work/sign/, made anew on every run.
* Methods, each signing every one of those documents once:
    sohoa, PKCS#12   `sohoa sign --all --json --config sign.toml --data-dir D --pkcs12 officer.p12
                     --password-file F`, once per copy D (a fresh copy of the unsigned data dir each run);
                     sign.toml sets [sign] trust_anchors to the test CA, so sohoa's check after signing
                     verifies the chain, as a user's set-up would
    sohoa, PKCS#11   the same with `--pkcs11-module libsofthsm2.so --token-label L --pin-file F`
    pyHanko CLI      `pyhanko sign addsig --use-pades --field 1/x1,y1,x2,y2/Signature1 pkcs12 --passfile F
                     IN OUT officer.p12` (or `pkcs11 --lib ... --token-label L --key-label officer
                     --cert-label officer`, PIN in PYHANKO_PKCS11_PIN), one process per document (what a
                     script around the CLI does): PAdES B-B and a visible field, as sohoa's signature
    pyHanko API      the same signature (PdfSigner, same metadata and field) for every document in ONE
                     Python process, started once and loading the key once: pyHanko's best case
    ... B-T          sohoa with [sign] tsa_url, and pyHanko's API with an HTTPTimeStamper, both asking
                     the same RFC 3161 authority on loopback (scripts/test_tsa.py: `openssl ts -reply` per
                     request) for a time-stamp on every signature: the cost of B-T over B-B
  pyHanko signs the unsigned archive PDFs (D/archive/**/*.pdf before signing) into another folder.
  pyHanko's CLI is its own package (pyhanko-cli) and the token needs python-pkcs11: neither is in the
  project venv, so they go into bench/work/pyhanko-venv with the project's pyHanko pin; if that cannot be
  installed, the CLI and token rows of pyHanko are skipped (the PKCS#12 API row then runs on the project
  venv's pyHanko).
* Runs alternate the methods (A B C ... A B C ...) for --rounds rounds so drift hits all alike; the table
  shows medians. Before every run: wait until the CPUs are idle (bench.py's check, at most
  --idle-timeout s); after it, a run during which other processes used more CPU than max(0.5 s, 5 % of
  its wall time) is flagged (kept, not repeated).
* Per run: wall time around the processes (monotonic clock, process start included), their CPU time and
  the largest peak RSS of one process (os.wait4's rusage: ru_maxrss). Not timed, after each run: every
  document is signed (sohoa: its JSON summary lists them all as signed and trusted; pyHanko: every output
  exists and `sohoa verify --trust ca.pem` finds each valid).

Figures of every run go to bench/work/sign.json. Exit status: 0 when every method signed every
document, 1 when one did not.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
WORK = ROOT / "bench" / "work"
SIGN = WORK / "sign"  # everything of one benchmark run
PEER_VENV = WORK / "pyhanko-venv"
BUILT = ROOT / "target" / "release" / "sohoa"
PROJECT_PY = ROOT / ".venv" / "bin" / "python"
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PYHANKO_CLI = "pyhanko-cli==0.6.0"  # the CLI release that goes with pyHanko 0.38
PASSWORD, PIN, TOKEN = "bench-mat-khau", "123456", "bench-token"
# pyHanko's visible field: page 1, top left (in points, origin bottom left), near where sohoa puts its block.
FIELD_PAGE, FIELD_BOX = 1, (36, 716, 316, 806)


def log(msg):
    print(f"[bench sign {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    """A set-up step: its output goes to stderr, a failure stops the benchmark."""
    subprocess.run([str(c) for c in cmd], check=True, stdout=sys.stderr, **kw)


def timed(cmd, env, out_path=None, err_path=None):
    """Run one process; wall seconds (process start included), CPU seconds, peak RSS bytes and exit code
    of that process, from os.wait4's rusage."""
    with open(out_path or os.devnull, "wb") as out, open(err_path or os.devnull, "ab") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([str(c) for c in cmd], env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "peak_rss": ru.ru_maxrss * 1024,
            "exit": p.returncode}


def env_with(**extra):
    """The environment of a tool: no SOHOA_ or pyHanko settings from whoever runs the benchmark."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOHOA_", "PYHANKO_")) and k != "SOFTHSM2_CONF"}
    env.update(extra)
    return env


# ---------------------------------------------------------------- set-up
def setup(args):
    """The key, the token and the unsigned documents. Returns the facts every method needs."""
    shutil.rmtree(SIGN, ignore_errors=True)
    SIGN.mkdir(parents=True)
    sohoa = SIGN / "sohoa"  # a copy: someone else may rebuild target/release during the runs
    shutil.copy2(BUILT, sohoa)

    pki, token = SIGN / "pki", SIGN / "token"
    log("test PKI and SoftHSM2 token")
    run([PROJECT_PY, ROOT / "scripts/make_test_pki.py", pki, PASSWORD])
    run([ROOT / "scripts/make_test_token.sh", token, pki, TOKEN, PIN, "officer"])
    (SIGN / "password").write_text(PASSWORD + "\n")
    (SIGN / "pin").write_text(PIN + "\n")
    (SIGN / "sign.toml").write_text(f'[sign]\ntrust_anchors = ["{pki / "ca.pem"}"]\n')
    tsa = subprocess.Popen([PROJECT_PY, ROOT / "scripts/test_tsa.py", pki], stdout=subprocess.PIPE, text=True)
    tsa_url = f"http://127.0.0.1:{tsa.stdout.readline().strip()}/"
    (SIGN / "sign-bt.toml").write_text(
        f'[sign]\ntrust_anchors = ["{pki / "ca.pem"}"]\ntsa_url = "{tsa_url}"\n')

    log("scans (scripts/make_samples.py fixtures) archived by sohoa batch")
    run(["/usr/bin/python3", ROOT / "scripts/make_samples.py", "fixtures", SIGN / "fixtures"])
    first = SIGN / "unsigned" / "copy-1"
    run([sohoa, "units", "import", ROOT / "config/units.toml", "--data-dir", first], env=env_with())
    t0 = time.monotonic()
    run([sohoa, "batch", SIGN / "fixtures" / "good", "--data-dir", first, "--jobs", "2"], env=env_with())
    log(f"batch took {time.monotonic() - t0:.0f} s")
    copies = [first]
    for i in range(2, args.copies + 1):
        copies.append(SIGN / "unsigned" / f"copy-{i}")
        shutil.copytree(first, copies[-1])
    # The PDFs pyHanko signs: the archive's unsigned documents, as (copy, path inside the copy).
    pdfs = [(c, p.relative_to(c)) for c in copies for p in sorted((c / "archive").rglob("*.pdf"))]
    for c, p in pdfs:  # read every input once so no method pays for the first disk read
        (c / p).read_bytes()
    log(f"{len(pdfs)} unsigned documents in {len(copies)} data dir(s)")
    return {"sohoa": sohoa, "pki": pki, "token": token, "copies": copies, "pdfs": pdfs, "tsa": tsa,
            "tsa_url": tsa_url}


def peer_python(args):
    """The Python of bench/work/pyhanko-venv (pyHanko's CLI and python-pkcs11 beside the project's
    pyHanko pin), made once; None when it cannot be installed (no registry, say)."""
    py = PEER_VENV / "bin" / "python"
    probe = "import pyhanko.cli, pyhanko.sign.pkcs11, pkcs11"
    if args.skip_peer_venv:
        return None
    if py.exists() and subprocess.run([py, "-c", probe], capture_output=True).returncode == 0:
        return py
    pin = re.search(r"^pyHanko==(\S+)", (ROOT / "scripts/requirements-test.txt").read_text(), re.M)
    pins = [f"pyHanko[pkcs11]=={pin.group(1)}" if pin else "pyHanko[pkcs11]", PYHANKO_CLI]
    certvalidator = re.search(r"^pyhanko-certvalidator==\S+",
                              (ROOT / "scripts/requirements-test.txt").read_text(), re.M)
    if certvalidator:
        pins.append(certvalidator.group(0))
    log(f"creating {PEER_VENV.relative_to(ROOT)} (pip install {' '.join(pins)})")
    shutil.rmtree(PEER_VENV, ignore_errors=True)
    try:
        run(["/usr/bin/python3", "-m", "venv", PEER_VENV])
        run([PEER_VENV / "bin" / "pip", "install", "-q", "--disable-pip-version-check"] + pins)
        run([py, "-c", probe])
        return py
    except (subprocess.CalledProcessError, OSError) as e:
        log(f"pyHanko's CLI could not be installed ({e}): its rows are skipped")
        return None


# ---------------------------------------------------------------- methods
def fresh_copies(s, label):
    """Copies of the unsigned data dirs for one run of `label` (signing is once per document)."""
    out = SIGN / "runs" / label
    shutil.rmtree(out, ignore_errors=True)
    for c in s["copies"]:
        shutil.copytree(c, out / c.name)
    return [out / c.name for c in s["copies"]]


def sohoa_method(key, config="sign.toml"):
    def go(s, label):
        if key == "pkcs12":
            flags = ["--pkcs12", s["pki"] / "officer.p12", "--password-file", SIGN / "password"]
            env = env_with()
        else:
            flags = ["--pkcs11-module", MODULE, "--token-label", TOKEN, "--pin-file", SIGN / "pin"]
            env = env_with(SOFTHSM2_CONF=str(s["token"] / "softhsm2.conf"))
        dirs = fresh_copies(s, label)
        recs, signed, problems = [], 0, []
        for d in dirs:
            r = timed([s["sohoa"], "sign", "--all", "--json", "--config", SIGN / config, "--data-dir", d]
                      + flags, env, out_path=d / "sign.json", err_path=d / "sign.log")
            recs.append(r)
            try:
                summary = json.loads((d / "sign.json").read_text(encoding="utf-8"))
            except ValueError:
                summary = {"signed": [], "unsigned": ["no JSON summary"]}
            signed += sum(1 for doc in summary["signed"] if doc["trusted"])
            if r["exit"] != 0 or summary.get("unsigned"):
                problems.append(f"{d.name}: exit {r['exit']}, unsigned {summary.get('unsigned')}")
        return recs, signed, problems
    return go


def pyhanko_cli_method(key):
    def go(s, label):
        py, out = s["peer_py"], SIGN / "runs" / label
        shutil.rmtree(out, ignore_errors=True)
        field = ["--use-pades", "--field", f"{FIELD_PAGE}/{','.join(map(str, FIELD_BOX))}/Signature1"]
        if key == "pkcs12":
            flags, env = ["pkcs12", "--passfile", SIGN / "password"], env_with()
            tail = [s["pki"] / "officer.p12"]
        else:
            flags = ["pkcs11", "--lib", MODULE, "--token-label", TOKEN, "--key-label", "officer",
                     "--cert-label", "officer"]
            env, tail = env_with(SOFTHSM2_CONF=str(s["token"] / "softhsm2.conf"), PYHANKO_PKCS11_PIN=PIN), []
        recs, outputs = [], []
        for c, p in s["pdfs"]:
            dst = out / c.name / p
            dst.parent.mkdir(parents=True, exist_ok=True)
            recs.append(timed([py.parent / "pyhanko", "sign", "addsig"] + field + flags + [c / p, dst] + tail,
                              env, err_path=out / "pyhanko.log"))
            outputs.append(dst)
        return (recs,) + check_outputs(s, outputs, recs)
    return go


def pyhanko_api_method(key, time_stamped=False):
    def go(s, label):
        py = s["peer_py"] or PROJECT_PY
        out = SIGN / "runs" / label
        shutil.rmtree(out, ignore_errors=True)
        pairs = [(str(c / p), str(out / c.name / p)) for c, p in s["pdfs"]]
        for _, dst in pairs:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
        job = out / "job.json"
        job.write_text(json.dumps({"key": key, "p12": str(s["pki"] / "officer.p12"), "password": PASSWORD,
                                   "module": MODULE, "token": TOKEN, "pin": PIN, "pairs": pairs,
                                   "tsa_url": s["tsa_url"] if time_stamped else None}))
        env = env_with(SOFTHSM2_CONF=str(s["token"] / "softhsm2.conf"))
        rec = timed([py, Path(__file__).resolve(), "--pyhanko-worker", job], env, err_path=out / "pyhanko.log")
        return ([rec],) + check_outputs(s, [Path(d) for _, d in pairs], [rec])
    return go


def check_outputs(s, outputs, recs):
    """(documents signed with a valid signature, problems) of pyHanko's outputs, by `sohoa verify`."""
    problems = [f"{sum(r['exit'] != 0 for r in recs)} process(es) failed"] if any(r["exit"] for r in recs) else []
    present = [o for o in outputs if o.exists()]
    if len(present) < len(outputs):
        problems.append(f"{len(outputs) - len(present)} output(s) missing")
    if not present:
        return 0, problems
    v = subprocess.run([s["sohoa"], "verify", "--json", "--trust", s["pki"] / "ca.pem"] + present,
                       capture_output=True, env=env_with())
    try:
        valid = sum(1 for f in json.loads(v.stdout) if f["valid"])
    except ValueError:
        valid = 0
    if valid < len(present):
        problems.append(f"sohoa verify: {len(present) - valid} output(s) not valid")
    return valid, problems


# (label, method, key, what runs it); `needs` says which pyHanko set-up the row needs.
METHODS = [
    ("sohoa-p12", "sohoa sign", "PKCS#12 file", sohoa_method("pkcs12"), None),
    ("sohoa-p11", "sohoa sign", "PKCS#11 token (SoftHSM2)", sohoa_method("pkcs11"), None),
    ("pyhanko-cli-p12", "pyHanko CLI, a process per document", "PKCS#12 file", pyhanko_cli_method("pkcs12"),
     "peer"),
    ("pyhanko-cli-p11", "pyHanko CLI, a process per document", "PKCS#11 token (SoftHSM2)",
     pyhanko_cli_method("pkcs11"), "peer"),
    ("pyhanko-api-p12", "pyHanko API, one process", "PKCS#12 file", pyhanko_api_method("pkcs12"), None),
    ("pyhanko-api-p11", "pyHanko API, one process", "PKCS#11 token (SoftHSM2)", pyhanko_api_method("pkcs11"),
     "peer"),
    ("sohoa-p12-bt", "sohoa sign, B-T (time-stamp)", "PKCS#12 file", sohoa_method("pkcs12", "sign-bt.toml"),
     None),
    ("pyhanko-api-p12-bt", "pyHanko API, one process, B-T", "PKCS#12 file", pyhanko_api_method("pkcs12", True),
     None),
]


# ---------------------------------------------------------------- the worker of the API rows
def pyhanko_worker(job_path):
    """Signs every (input, output) pair of the job with pyHanko's API in this one process, the key
    loaded once, with the signature the CLI rows make (PAdES, a new visible field, the default stamp)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    job = json.loads(Path(job_path).read_text())
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES)
    spec = fields.SigFieldSpec(sig_field_name="Signature1", on_page=FIELD_PAGE - 1, box=FIELD_BOX)

    def sign_all(signer):
        stamper = None
        if job.get("tsa_url"):
            from pyhanko.sign.timestamps import HTTPTimeStamper
            stamper = HTTPTimeStamper(job["tsa_url"])
        pdf_signer = signers.PdfSigner(meta, signer=signer, new_field_spec=spec, timestamper=stamper)
        for src, dst in job["pairs"]:
            with open(src, "rb") as f, open(dst, "wb") as out:
                pdf_signer.sign_pdf(IncrementalPdfFileWriter(f), output=out)

    if job["key"] == "pkcs12":
        sign_all(signers.SimpleSigner.load_pkcs12(job["p12"], passphrase=job["password"].encode()))
    else:
        from pyhanko.config.pkcs11 import PKCS11SignatureConfig, TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11SigningContext

        config = PKCS11SignatureConfig(module_path=job["module"], token_criteria=TokenCriteria(job["token"]),
                                       key_label="officer", cert_label="officer")
        with PKCS11SigningContext(config, user_pin=job["pin"]) as signer:  # as the CLI opens the token
            sign_all(signer)


# ---------------------------------------------------------------- runs and table
def measured(label, fn, s, args):
    """Idle check, one run of a method, and the contention flag (bench.py's rule, without repeats)."""
    from bench import cpu_busy_seconds, wait_idle  # bench/bench.py, beside this file

    waited, idle = wait_idle(args.idle_timeout)
    busy0 = cpu_busy_seconds()
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    recs, signed, problems = fn(s, label)
    wall = time.monotonic() - t0  # with the untimed copying and checking; only for the contention rule
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # Other processes: the machine's busy time less ours and our children's (the tools and the checks).
    ours = sum(getattr(b, f) - getattr(a, f) for a, b in ((self0, self1), (kids0, kids1))
               for f in ("ru_utime", "ru_stime"))
    other = max(0.0, cpu_busy_seconds() - busy0 - ours)
    timed_wall = sum(r["wall_s"] for r in recs)
    cpu = sum(r["cpu_s"] for r in recs)
    n = len(s["pdfs"])
    return {"label": label, "documents": n, "signed": signed, "problems": problems,
            "ok": signed == n and not problems, "wall_s": round(timed_wall, 3), "cpu_s": round(cpu, 3),
            "ms_per_doc": round(1000 * timed_wall / n, 1), "cpu_ms_per_doc": round(1000 * cpu / n, 1),
            "peak_rss_mib": round(max(r["peak_rss"] for r in recs) / 2**20, 1), "processes": len(recs),
            "idle_wait_s": round(waited, 1), "started_idle": idle, "other_cpu_s": round(other, 2),
            "contended": other > max(0.5, 0.05 * wall), "run_wall_s": round(wall, 2)}


def facts(s):
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    hsm = subprocess.run(["softhsm2-util", "--version"], capture_output=True, text=True).stdout.strip()
    py = s["peer_py"] or PROJECT_PY
    ver = subprocess.run([py, "-c", "import pyhanko.version as v; print(v.__version__)"], capture_output=True,
                         text=True).stdout.strip()
    cli = subprocess.run([py, "-c", "import pyhanko.cli.version as v; print(v.__version__)"],
                         capture_output=True, text=True).stdout.strip() if s["peer_py"] else None
    return {"cpus": os.cpu_count(), "cpu_model": cpu.group(1) if cpu else "?", "sohoa_commit": commit,
            "softhsm2": hsm, "pyhanko": ver, "pyhanko_cli": cli}


def render(rows, skipped, f, args, runs):
    n = rows[0][1]["documents"] if rows else 0
    lines = [f"### Signing cost per document: {n} documents, median of {args.rounds} alternating rounds", "",
             f"Machine: {f['cpus']} vCPU {f['cpu_model']}; sohoa {f['sohoa_commit']}; SoftHSM {f['softhsm2']}; "
             f"pyHanko {f['pyhanko']}" + (f", pyhanko-cli {f['pyhanko_cli']}" if f["pyhanko_cli"] else "") + ".",
             "",
             "| method | key | documents | total (s) | ms / document | CPU ms / document | peak RSS (MiB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for (label, method, key, _, _), m in rows:
        bad = "" if m["all_ok"] else " (**not all signed**)"
        lines.append(f"| {method}{bad} | {key} | {m['documents']} | {m['wall_s']:.2f} | {m['ms_per_doc']:.1f} "
                     f"| {m['cpu_ms_per_doc']:.1f} | {m['peak_rss_mib']:.0f} |")
    for (label, method, key, _, _), why in skipped:
        lines.append(f"| {method} | {key} | – | skipped: {why} | | | |")
    copies = f"{args.copies} copies of the data dir, one `sohoa sign --all` each" if args.copies > 1 else \
        "one `sohoa sign --all`"
    cont = sum(r["contended"] for r in runs)
    lines += [
        "",
        f"- sohoa sign: {copies}, process start, key opening (password or token login), the check after "
        "signing (chain to `[sign] trust_anchors`) and the records included; a fresh copy of the unsigned "
        "data dir per run.",
        "- pyHanko CLI: `pyhanko sign addsig --use-pades --field 1/…/Signature1 pkcs12|pkcs11 … IN OUT`, one "
        "process per document, one after another (Python start, imports and key loading every time). "
        "pyHanko API: the same signature for every document in one Python process that loads the key once.",
        "- Both make a PAdES B-B signature with a visible appearance in an incremental update; sohoa also "
        "embeds its font in the block, then checks each signature (chain included) and records it; pyHanko "
        "validates no chain and records nothing.",
        "- Times are wall time around the processes, medians over the rounds; peak RSS is the largest single "
        f"process (ru_maxrss). Idle check before every run; {cont} of {len(runs)} run(s) flagged because other "
        "processes used CPU during them.",
    ]
    return "\n".join(lines)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--pyhanko-worker":
        return pyhanko_worker(sys.argv[2])
    ap = argparse.ArgumentParser(description="signing cost per document: sohoa sign vs pyHanko (see bench/sign.py)")
    ap.add_argument("--sign", action="store_true", help="(the mode bench/run dispatches here; implied)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    ap.add_argument("--copies", type=int, default=1,
                    help="copies of the 15-document data dir to sign per run (default 1)")
    ap.add_argument("--idle-timeout", type=float, default=15, help="max seconds to wait for idle CPUs per run")
    ap.add_argument("--skip-peer-venv", action="store_true",
                    help="do not install pyHanko's CLI: its rows and the token API row are skipped")
    args = ap.parse_args()
    if not BUILT.exists():
        raise SystemExit(f"{BUILT} is missing: run bench/run --sign (it builds sohoa), not sign.py directly")
    started = datetime.datetime.now()
    s = setup(args)
    s["peer_py"] = peer_python(args)
    methods, skipped = [], []
    for m in METHODS:
        if m[4] == "peer" and s["peer_py"] is None:
            skipped.append((m, "pyhanko-cli / python-pkcs11 not installed"))
        else:
            methods.append(m)

    runs = []
    for rnd in range(1, args.rounds + 1):
        for label, method, key, fn, _ in methods:
            r = measured(label, fn, s, args)
            r["round"] = rnd
            runs.append(r)
            log(f"round {rnd} {label}: {r['wall_s']:.2f} s, {r['ms_per_doc']:.1f} ms/document, "
                f"{r['signed']}/{r['documents']} signed" + (f" PROBLEMS: {r['problems']}" if r["problems"] else "")
                + (" (contended)" if r["contended"] else ""))

    rows = []
    for m in methods:
        mine = [r for r in runs if r["label"] == m[0]]
        med = lambda k: statistics.median(r[k] for r in mine)
        rows.append((m, {"documents": mine[0]["documents"], "wall_s": med("wall_s"), "ms_per_doc": med("ms_per_doc"),
                         "cpu_ms_per_doc": med("cpu_ms_per_doc"), "peak_rss_mib": med("peak_rss_mib"),
                         "all_ok": all(r["ok"] for r in mine)}))
    f = facts(s)
    table = render(rows, skipped, f, args, runs)
    path = WORK / "sign.json"
    path.write_text(json.dumps({"started": started.isoformat(timespec="seconds"), "machine": f,
                                "options": vars(args), "runs": runs, "table": table},
                               ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    s["tsa"].kill()
    print(table)
    print(f"\nAll runs: {path.relative_to(ROOT)}")
    return 0 if all(m["all_ok"] for _, m in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
