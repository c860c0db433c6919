#!/usr/bin/env python3
"""A fault-injecting TCP proxy: a weak, breaking link between a station and its server.

    faulty_link.py --target HOST:PORT [--listen 127.0.0.1:0] [--rate BYTES_PER_S] [--cut-every S]
                   [--stall-at S --stall-for S] [--drop-replies N] [--loss P] [--seed S] [--stats FILE]

Prints `listening HOST:PORT` as its first stdout line once it accepts, then forwards each connection to
--target in chunks of at most --chunk bytes (4 KiB), so a cut loses little:

  --rate         each direction gets that many bytes/s, shared by all connections (a token bucket
                 with a burst of one chunk; waiting connections are served in turn);
  --cut-every S  every S seconds since the proxy started (one clock for all, like a flaky radio link)
                 every open connection is reset, both sides (RST);
  --stall-at T --stall-for D
                 at T seconds nothing is forwarded either way for D seconds; connections stay open;
  --drop-replies N
                 the first N times a reply starts to come back on a connection that carried more
                 than 64 KiB upstream since its last reply, the connection is reset instead: the server
                 has the whole request, the client never hears back;
  --loss P       each chunk forwarded cuts its connection instead with probability P (packet loss as
                 cuts), drawn from --seed.

Counters: up_bytes (client → server), down_bytes, connections, cuts (connections reset by the proxy,
loss_cuts of them by --loss), dropped_replies, stalls, upstream_errors. With --stats FILE they are
written as JSON (temp file + rename) about once a second and at exit; SIGTERM or SIGINT writes them and
exits 0. Python 3 standard library only; bench/link.d/check_proxy.py checks it (bench/link --check-proxy).
"""
import argparse
import asyncio
import json
import os
import random
import signal
import socket
import struct
import sys
import time

DROP_AFTER = 64 * 1024  # bytes upstream since the last reply that make a request "large"


class Bucket:
    """A token bucket on a virtual clock: each take(n) books the next n/rate seconds of the link."""

    def __init__(self, rate, chunk):
        self.rate = float(rate)
        self.burst = chunk / self.rate
        self.next = 0.0

    async def take(self, n):
        now = time.monotonic()
        start = max(self.next, now - self.burst)
        self.next = start + n / self.rate
        if self.next > now:
            await asyncio.sleep(self.next - now)


class Conn:
    def __init__(self, cw, sw):
        self.writers = (cw, sw)
        self.closed = False
        self.up_since_reply = 0

    def close(self, reset):
        """Closes both sides; with reset, as an RST (SO_LINGER 0), so both peers see the link break."""
        if self.closed:
            return
        self.closed = True
        for w in self.writers:
            try:
                if reset:
                    sock = w.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    w.transport.abort()
                else:
                    w.close()
            except Exception:
                pass


class Proxy:
    def __init__(self, a):
        self.a = a
        self.host, self.port = split_addr(a.target)
        self.rng = random.Random(a.seed)
        self.up = Bucket(a.rate, a.chunk) if a.rate else None
        self.down = Bucket(a.rate, a.chunk) if a.rate else None
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.conns = set()
        self.tasks = set()  # the handlers of open connections
        self.drops_left = a.drop_replies
        self.t0 = time.monotonic()
        self.stats = dict(up_bytes=0, down_bytes=0, connections=0, open_connections=0, cuts=0,
                          loss_cuts=0, dropped_replies=0, stalls=0, upstream_errors=0)

    def snapshot(self):
        s = dict(self.stats, open_connections=len(self.conns),
                 elapsed_s=round(time.monotonic() - self.t0, 3))
        s["options"] = {k: getattr(self.a, k) for k in
                        ("target", "rate", "cut_every", "stall_at", "stall_for", "drop_replies", "loss",
                         "seed", "chunk")}
        return s

    def write_stats(self):
        if not self.a.stats:
            return
        tmp = f"{self.a.stats}.{os.getpid()}.tmp"
        try:
            with open(tmp, "w") as f:
                json.dump(self.snapshot(), f, indent=1)
            os.replace(tmp, self.a.stats)
        except OSError as e:
            print(f"faulty_link: cannot write {self.a.stats}: {e}", file=sys.stderr)

    def cut(self, conn, loss=False):
        if not conn.closed:
            self.stats["cuts"] += 1
            self.stats["loss_cuts"] += loss
            conn.close(reset=True)

    async def pipe(self, conn, reader, writer, up):
        bucket = self.up if up else self.down
        try:
            while not conn.closed:
                data = await reader.read(self.a.chunk)
                if conn.closed:
                    return
                if not data:  # a half-close goes on to the other side
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                await self.flowing.wait()
                if bucket:
                    await bucket.take(len(data))
                await self.flowing.wait()  # a stall that began while the link was busy
                if conn.closed:
                    return
                if self.a.loss and self.rng.random() < self.a.loss:
                    self.cut(conn, loss=True)
                    return
                if up:
                    conn.up_since_reply += len(data)
                else:
                    if conn.up_since_reply > DROP_AFTER and self.drops_left > 0:
                        self.drops_left -= 1
                        self.stats["dropped_replies"] += 1
                        self.cut(conn)
                        return
                    conn.up_since_reply = 0
                writer.write(data)
                await writer.drain()
                self.stats["up_bytes" if up else "down_bytes"] += len(data)
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            conn.close(reset=True)  # one peer broke off: the other sees it too

    async def handle(self, cr, cw):
        self.stats["connections"] += 1
        try:
            sr, sw = await asyncio.wait_for(asyncio.open_connection(self.host, self.port, limit=self.a.chunk), 10)
        except (OSError, asyncio.TimeoutError):
            self.stats["upstream_errors"] += 1
            cw.close()
            return
        conn = Conn(cw, sw)
        self.conns.add(conn)
        self.tasks.add(asyncio.current_task())
        try:
            await asyncio.gather(self.pipe(conn, cr, sw, True), self.pipe(conn, sr, cw, False))
        finally:
            conn.close(reset=False)
            self.conns.discard(conn)
            self.tasks.discard(asyncio.current_task())

    async def at(self, seconds):
        """Sleeps until `seconds` after the proxy started."""
        await asyncio.sleep(max(0.0, self.t0 + seconds - time.monotonic()))

    async def cutter(self):
        k = 1
        while True:
            await self.at(k * self.a.cut_every)
            k += 1
            for conn in list(self.conns):
                self.cut(conn)

    async def staller(self):
        await self.at(self.a.stall_at)
        self.flowing.clear()
        self.stats["stalls"] += 1
        await asyncio.sleep(self.a.stall_for)
        self.flowing.set()

    async def stats_writer(self):
        while True:
            await asyncio.sleep(1)
            self.write_stats()

    async def run(self):
        lhost, lport = split_addr(self.a.listen)
        sock = socket.socket(socket.AF_INET6 if ":" in lhost else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive window: a throttled link does not swallow megabytes of the client's data.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.bind((lhost, lport))
        # limit: each stream buffers at most ~2 chunks ahead of the link, so a cut loses little.
        server = await asyncio.start_server(self.handle, sock=sock, backlog=128, limit=self.a.chunk)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        self.t0 = time.monotonic()
        tasks = [asyncio.ensure_future(self.stats_writer())]
        if self.a.cut_every:
            tasks.append(asyncio.ensure_future(self.cutter()))
        if self.a.stall_for:
            tasks.append(asyncio.ensure_future(self.staller()))
        host, port = sock.getsockname()[:2]
        print(f"listening {host}:{port}", flush=True)
        await stop.wait()
        server.close()
        for t in tasks:
            t.cancel()
        for conn in list(self.conns):
            conn.close(reset=True)
        if self.tasks:  # let the handlers see their connections end
            await asyncio.wait(list(self.tasks), timeout=2)
        self.write_stats()


def split_addr(s):
    host, sep, port = s.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {s!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", help="HOST:PORT to forward to")
    p.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to listen on (default 127.0.0.1:0)")
    p.add_argument("--rate", type=float, default=0, help="bytes/s per direction, all connections (0 = no limit)")
    p.add_argument("--cut-every", type=float, default=0, metavar="S", help="reset every connection every S s")
    p.add_argument("--stall-at", type=float, default=0, metavar="S", help="seconds after start of the stall")
    p.add_argument("--stall-for", type=float, default=0, metavar="S", help="how long nothing is forwarded")
    p.add_argument("--drop-replies", type=int, default=0, metavar="N", help="replies to large requests dropped")
    p.add_argument("--loss", type=float, default=0, metavar="P", help="probability a chunk cuts its connection")
    p.add_argument("--seed", type=int, default=1, help="seed of --loss (default 1)")
    p.add_argument("--chunk", type=int, default=4096, help="largest chunk forwarded at once (default 4096)")
    p.add_argument("--stats", metavar="FILE", help="JSON counters, rewritten every second and at exit")
    a = p.parse_args(argv)
    if not a.target:
        p.error("--target is required")
    try:
        split_addr(a.target), split_addr(a.listen)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if a.rate < 0 or a.cut_every < 0 or not 0 <= a.loss <= 1 or a.chunk < 1 or a.stall_for < 0:
        p.error("--rate, --cut-every, --stall-for must be ≥ 0, --loss in [0, 1], --chunk ≥ 1")
    return a


def main(argv=None):
    a = parse(sys.argv[1:] if argv is None else argv)
    try:
        asyncio.run(Proxy(a).run())
    except OSError as e:
        print(f"faulty_link: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
