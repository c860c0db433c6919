"""What the load benchmark starts: a fresh database, the unit tree, stations, and `sohoa serve`.

`Serve` also watches the server process: VmRSS from /proc/PID/status every 100 ms (and VmHWM, reset at
the start of each scenario through /proc/PID/clear_refs), CPU time from /proc/PID/stat, and its log.
serve dies with this process (PR_SET_PDEATHSIG), so a killed benchmark leaves no server behind.
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PR_SET_PDEATHSIG = 1


class SetupError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent(sig):
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)


class Setup:
    """The sohoa binary, the run folder and a fresh database of the throw-away cluster."""

    def __init__(self, root: Path, run: Path, cluster_url: str, log):
        self.root, self.run, self.log = root, run, log
        self.bin = root / "target" / "release" / "sohoa"
        if not os.access(self.bin, os.X_OK):
            raise SetupError(f"{self.bin} is missing: run `cargo build --release` first")
        u = urlsplit(cluster_url)
        self.cluster = u
        self.url = urlunsplit(u._replace(path="/sohoa_load"))
        self.data = run / "data"
        # Only what this run means: no SOHOA_* of the caller's shell, OpenMP limited as main would set it.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SOHOA_") or k == "SOHOA_LOG"}
        self.env["OMP_THREAD_LIMIT"] = "1"

    @staticmethod
    def die_with_parent(sig):
        """This process gets `sig` when its parent (scripts/with-postgres.sh) goes."""
        _die_with_parent(sig)

    def sohoa(self, *args):
        """stdout of `sohoa --database-url URL --data-dir DATA ARGS…`; SetupError when it fails."""
        cmd = [str(self.bin), "--database-url", self.url, "--data-dir", str(self.data), *map(str, args)]
        r = subprocess.run(cmd, cwd=self.run, env=self.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError(f"sohoa {' '.join(map(str, args))} exited {r.returncode}: {r.stderr.strip()}")
        return r.stdout

    def fresh(self):
        """An empty run folder, a new database sohoa_load, the unit tree of config/units.toml."""
        shutil.rmtree(self.run, ignore_errors=True)
        self.data.mkdir(parents=True)
        createdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/createdb"))
        cmd = [str(createdb[-1]) if createdb else "createdb", "-h", self.cluster.hostname,
               "-p", str(self.cluster.port), "-U", self.cluster.username or "sohoa", "sohoa_load"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SetupError(f"createdb sohoa_load: {r.stderr.strip()}")
        self.sohoa("units", "import", self.root / "config" / "units.toml")
        self.log(f"database {self.url}, unit tree imported")

    def station(self, name, unit):
        """The token of a new station (the last line `sohoa station add` prints)."""
        return self.sohoa("station", "add", name, "--unit", unit).strip().splitlines()[-1].strip()

    def commit(self):
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=self.root,
                           capture_output=True, text=True)
        return r.stdout.strip() or "unknown"

    def remove_bulk(self):
        """Removes the server's archive and the PDFs (gigabytes); serve.log stays."""
        shutil.rmtree(self.data, ignore_errors=True)
        for p in self.run.glob("*.pdf"):
            p.unlink()


class Serve:
    """`sohoa serve` on 127.0.0.1:port, started and watched."""

    def __init__(self, setup: Setup, port: int):
        self.port = port
        self.log_path = setup.run / "serve.log"
        self.log_file = open(self.log_path, "wb")
        cmd = [str(setup.bin), "--database-url", setup.url, "--data-dir", str(setup.data),
               "serve", "--listen", f"127.0.0.1:{port}"]
        self.proc = subprocess.Popen(cmd, cwd=setup.run, env=setup.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.log_file,
                                     preexec_fn=lambda: _die_with_parent(signal.SIGKILL))
        self.pid = self.proc.pid
        self.samples = []  # (monotonic, VmRSS kB)
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.exited = threading.Event()  # set when serve ends on its own: the clients stop
        self.log_at_stop = None  # how much serve had logged when it was asked to stop
        self.exit_code = None
        self._wait_ready()
        threading.Thread(target=self._sample, daemon=True).start()

    def _wait_ready(self):
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise SetupError(f"sohoa serve exited {self.proc.returncode}: {self._log_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SetupError(f"sohoa serve did not answer /health within 60 s: {self._log_text()[-2000:]}")
            time.sleep(0.1)

    def _status(self, key):
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    def _sample(self):
        while not self.done.is_set():
            if self.proc.poll() is not None:
                self.exited.set()
                return
            kb = self._status("VmRSS")
            if kb is not None:
                with self.lock:
                    self.samples.append((time.monotonic(), kb))
            self.done.wait(0.1)

    def reset_peak(self):
        """Resets VmHWM (Linux ≥ 4.0); False when the kernel does not allow it."""
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def rss_now(self):
        kb = self._status("VmRSS")
        return round(kb / 1024, 1) if kb is not None else None

    def rss_between(self, t0, t1, hwm_valid):
        """Peak and median (steady) of VmRSS in [t0, t1], MiB; the peak includes VmHWM since its reset."""
        with self.lock:
            kbs = [kb for t, kb in self.samples if t0 <= t <= t1]
        hwm = self._status("VmHWM") if hwm_valid else None
        if not kbs:
            kbs = [self._status("VmRSS") or 0]
        # VmHWM catches a peak shorter than the sampling interval.
        return {"peak": round(max(kbs + [hwm or 0]) / 1024, 1), "sampled_peak": round(max(kbs) / 1024, 1),
                "steady": round(statistics.median(kbs) / 1024, 1), "samples": len(kbs),
                "hwm": round(hwm / 1024, 1) if hwm else None}

    def cpu_seconds(self):
        """User + system CPU seconds of serve so far."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return 0.0

    def check_alive(self):
        if self.proc.poll() is not None:
            first = self.log_summary()["serving"]["first"]
            why = first.get("panic") or first.get("ERROR") or self._log_text()[-500:]
            raise SetupError(f"sohoa serve died during the benchmark (exit {self.proc.returncode}): {why} "
                             f"(whole log: {self.log_path}, kept)")

    def stop(self, graceful=True):
        """SIGTERM (serve shuts down gracefully within 10 s), SIGKILL after 15 s; at once if not graceful.

        The clients stop first (`exited`), so serve has no request left to finish.
        """
        self.exited.set()
        self.done.set()
        self.log_at_stop = len(self._log_text())
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self.log_file.close()

    def _log_text(self):
        if not self.log_file.closed:
            self.log_file.flush()
        return re.sub(r"\x1b\[[0-9;]*m", "", self.log_path.read_text(errors="replace"))

    def log_summary(self):
        """serve's warnings, errors and panics, while it served and once asked to stop.

        Each kind is counted, and the first of each is kept with the line after it (a panic's message
        follows its location).
        """
        text = self._log_text()
        cut = self.log_at_stop if self.log_at_stop is not None else len(text)
        out = {"exit_code": self.exit_code}
        for part, chunk in (("serving", text[:cut]), ("at_stop", text[cut:])):
            lines = chunk.splitlines()
            kinds, first = {}, {}
            for i, l in enumerate(lines):
                k = ("panic" if "panicked" in l else "ERROR" if re.search(r"\bERROR\b", l)
                     else "WARN" if re.search(r"\bWARN\b", l) else None)
                if k is None:
                    continue
                kinds[k] = kinds.get(k, 0) + 1
                if k not in first:
                    first[k] = " ".join(x.strip() for x in lines[i:i + 2])[:400]
            out[part] = {"counts": kinds, "first": first}
        return out
