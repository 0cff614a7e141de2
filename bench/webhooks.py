#!/usr/bin/env python3
"""Pushes and pulls on berth with no webhook, a good, a dead and a black-hole webhook receiver.

Usage:
    bench/webhooks.py                       # builds berth (cargo build --release -p berth), runs
    BERTH_BIN=/path/to/berth bench/webhooks.py
    bench/webhooks.py --pushes 300 --pulls 2000 --workers 4 --scenarios A,B,C,D --keep-tmp
    (also env PUSHES, PULLS, WORKERS, SCENARIOS, PRELOAD_PUSHES, PRELOAD_PULLS, SETTLE, BOUND,
    DRAIN_BOUND, KEEP_TMP)

Four scenarios, each on a fresh berth (release binary, temp data dir, 127.0.0.1, admin password
Bench-Admin-1, BERTH_OUTBOUND_ALLOW=127.0.0.1/32, BERTH_WEBHOOK_RETRY_MAX=5) doing the same work:

  A  no webhook policy;
  B  a policy for PUSH_ARTIFACT and PULL_ARTIFACT in project `library` whose target is a receiver
     that answers 200 at once;
  C  the same policy, but nothing listens on the target's port (connection refused);
  D  the same policy, but the target accepts connections and never answers (berth gives up on an
     attempt after 10 s).

The receivers run in a separate Python process (this script with --receiver), so their work does
not hold this process's GIL while it times requests. In each scenario the script:

 1. uploads one config blob to library/bench and creates the policy (B, C, D; HTTP 201);
 2. preload, the same in every scenario and not measured: PRELOAD_PUSHES pushes (100) and
    PRELOAD_PULLS manifest GETs (200), then waits until SETTLE seconds (12) after the first push,
    so that the measured load meets a backlog of deliveries and a receiver that has been bad for
    a while (D: the first attempts have hit berth's 10 s timeout);
 3. measured: pushes PUSHES images (300) from WORKERS threads (4), each on its own keep-alive
    connection: one small distinct layer (monolithic POST …/blobs/uploads/?digest=) and a
    manifest PUT by tag. It times the manifest PUT and the whole push (layer + manifest), and
    checks Docker-Content-Digest. Then GETs the new manifests PULLS times (2000) from WORKERS
    threads, timing each;
 4. records the server's RSS (VmRSS) at the start of step 2, before and after step 3 and at the
    end, its peak (VmHWM), the highest RSS sampled every 0.25 s, and its CPU time during step 3;
 5. lists the policy's deliveries (GET …/webhook/policies/<id>/executions, all pages; the total
    from X-Total-Count) and counts them by status;
 6. C and D: starts a good receiver on the same port (D: after killing the black hole, which
    closes the connections it held) and measures the time until the receiver has seen a
    PUSH_ARTIFACT event for every pushed digest, preload included (bounded by BOUND, 120 s).
    B: the same wait, from the end of step 3. Then waits (up to DRAIN_BOUND, 300 s, from the
    same moment) until no delivery is Pending or Running, and counts the deliveries again.

Prints a Markdown table and a `RESULT {json}` line on stdout, progress on stderr. An unexpected
response to a push or pull stops the run with the exact request and response and the tail of
the server log. Python standard library only.
"""

import argparse
import base64
import hashlib
import http.client
import http.server
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

from berthbench import (  # noqa: E402  (bench/ is on sys.path: the script's own directory)
    OCI_CONFIG,
    OCI_LAYER,
    OCI_MANIFEST,
    BenchError,
    Client,
    build_binary,
    describe,
    descriptor,
    free_port,
    pct,
    proc_cpu_s,
    proc_status_kib,
)

PROJECT = "library"
REPO = "library/bench"
SCENARIOS = {
    "A": "no webhook policy",
    "B": "receiver answers 200 at once",
    "C": "dead receiver (connection refused)",
    "D": "black hole (accepts, never answers)",
}


def log(msg):
    print(f"webhooks-bench: {msg}", file=sys.stderr, flush=True)



# ---------------------------------------------------------------------------------------------
# Receivers (run as a child process: bench/webhooks.py --receiver good|blackhole --port P)


class Hook(http.server.BaseHTTPRequestHandler):
    """POST /hook: 200 at once, remembering what came; GET /stats: what came, as JSON."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    posts = 0
    by_type = {}
    push_digests = {}  # digest -> times delivered
    bad = []

    def log_message(self, *_):
        pass

    def _reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        cls = type(self)
        try:
            payload = json.loads(data)
            kind = payload.get("type", "?")
            digests = [r.get("digest", "") for r in payload.get("event_data", {}).get("resources", [])]
        except (ValueError, AttributeError) as e:
            kind, digests = "unparsable", []
            with cls.lock:
                if len(cls.bad) < 5:
                    cls.bad.append(f"{e!r}: {data[:300]!r}")
        with cls.lock:
            cls.posts += 1
            cls.by_type[kind] = cls.by_type.get(kind, 0) + 1
            if kind == "PUSH_ARTIFACT":
                for d in digests:
                    cls.push_digests[d] = cls.push_digests.get(d, 0) + 1
        self._reply(200)

    def do_GET(self):
        cls = type(self)
        with cls.lock:
            body = json.dumps({"posts": cls.posts, "by_type": cls.by_type,
                               "push_digests": cls.push_digests, "bad": cls.bad}).encode()
        self._reply(200, body)


def receiver_main(mode, port):
    if mode == "good":
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        http.server.ThreadingHTTPServer.daemon_threads = True
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
        srv.request_queue_size = 256
        print("ready", flush=True)
        srv.serve_forever()
    elif mode == "blackhole":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port))
        ls.listen(256)
        held = []
        print("ready", flush=True)
        while True:
            conn, _ = ls.accept()
            held.append(conn)  # never read, never answered, never closed (until we are killed)
    else:
        sys.exit(f"unknown receiver mode {mode}")


class Receiver:
    """A receiver child process on 127.0.0.1:port."""

    def __init__(self, mode, port):
        self.mode, self.port = mode, port
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--receiver", mode, "--port", str(port)],
            stdout=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            self.stop()
            raise BenchError(f"{mode} receiver on port {port} did not start (said {line!r})")

    def stats(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", "/stats")
            return json.loads(c.getresponse().read())
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------------------------------------



def make_layer(i):
    """A small uncompressed layer tar, distinct per i."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = f"berth webhook benchmark layer {i}\n".encode() * 30
        info = tarfile.TarInfo(name="bench/hello.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_config():
    return json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}},
        separators=(",", ":"),
    ).encode()



def manifest(config_desc, layer_desc):
    return json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": [layer_desc]},
        separators=(",", ":"),
    ).encode()


class RssSampler(threading.Thread):
    def __init__(self, pid, interval=0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop = threading.Event()
        self.max_kib = 0
        self.series = []  # (seconds since start, KiB)

    def run(self):
        t0 = time.perf_counter()
        while not self.stop.is_set():
            try:
                kib = proc_status_kib(self.pid, "VmRSS")
            except OSError:
                return
            self.max_kib = max(self.max_kib, kib)
            self.series.append((time.perf_counter() - t0, kib))
            self.stop.wait(self.interval)

    def every(self, step=5.0):
        """The series thinned to one sample per `step` seconds, as [s, MiB]."""
        out, next_t = [], 0.0
        for t, kib in self.series:
            if t >= next_t:
                out.append([round(t, 1), round(kib / 1024, 1)])
                next_t = t + step
        return out


def run_threads(workers, fn):
    errors = []
    failed = threading.Event()

    def wrap():
        try:
            fn(failed)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            failed.set()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=wrap) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - t0


def job_counts(client, pol_id):
    """All deliveries of a policy by status, paging through executions (newest first).

    Deliveries the dispatcher adds meanwhile shift the pages, so rows are counted once per id;
    `total` is X-Total-Count of the last page fetched, `listed` the distinct ids seen."""
    status, page, total = {}, 1, None
    while True:
        path = f"/api/v2.0/projects/{PROJECT}/webhook/policies/{pol_id}/executions?page={page}&page_size=100"
        _, rh, data = client.expect("GET", path, 200)
        total = int(rh.get("x-total-count", -1))
        rows = json.loads(data)
        for r in rows:
            status[r["id"]] = r["status"]
        if len(rows) < 100:
            break
        page += 1
    counts = {}
    for st in status.values():
        counts[st] = counts.get(st, 0) + 1
    counts["listed"] = len(status)
    counts["total"] = total
    return counts


def fmt_jobs(c):
    if not c:
        return "—"
    return (f"{c.get('total', 0)}: {c.get('Pending', 0)} / {c.get('Running', 0)} / "
            f"{c.get('Success', 0)} / {c.get('Error', 0)}")


def push_images(host, port, auth, workers, config_desc, layers, first, count):
    """Pushes images first … first+count-1 (layer POST + manifest PUT) from `workers` threads.
    Returns (seconds, whole-push latencies ms, manifest-PUT latencies ms, {tag: digest})."""
    counter = itertools.count(first)
    lock = threading.Lock()
    push_lat, put_lat, digests = [], [], {}

    def pusher(failed):
        cl = Client(host, port, auth)
        lat, plat = [], []
        try:
            while not failed.is_set():
                with lock:
                    i = next(counter)
                if i >= first + count:
                    break
                layer = layers[i]
                layer_desc = descriptor(OCI_LAYER, layer)
                body = manifest(config_desc, layer_desc)
                want = "sha256:" + hashlib.sha256(body).hexdigest()
                tag = f"p{i:05d}"
                t0 = time.perf_counter()
                cl.expect("POST", f"/v2/{REPO}/blobs/uploads/?digest={layer_desc['digest']}", 201,
                          body=layer, headers={"Content-Type": "application/octet-stream"})
                t1 = time.perf_counter()
                _, rh, _ = cl.expect("PUT", f"/v2/{REPO}/manifests/{tag}", 201, body=body,
                                     headers={"Content-Type": OCI_MANIFEST})
                t2 = time.perf_counter()
                lat.append((t2 - t0) * 1000)
                plat.append((t2 - t1) * 1000)
                if rh.get("docker-content-digest") != want:
                    raise BenchError(f"PUT {tag}: Docker-Content-Digest {rh.get('docker-content-digest')} != {want}")
                with lock:
                    digests[tag] = want
        finally:
            cl.close()
            with lock:
                push_lat.extend(lat)
                put_lat.extend(plat)

    secs = run_threads(workers, pusher)
    return secs, push_lat, put_lat, digests


def pull_manifests(host, port, auth, workers, tags, count):
    """GETs the manifests of `tags` in turn, `count` times in all, from `workers` threads.
    Returns (seconds, latencies ms)."""
    counter = itertools.count()
    lock = threading.Lock()
    pull_lat = []

    def puller(failed):
        cl = Client(host, port, auth)
        lat = []
        try:
            while not failed.is_set():
                with lock:
                    i = next(counter)
                if i >= count:
                    break
                path = f"/v2/{REPO}/manifests/{tags[i % len(tags)]}"
                t0 = time.perf_counter()
                cl.expect("GET", path, 200, headers={"Accept": OCI_MANIFEST})
                lat.append((time.perf_counter() - t0) * 1000)
        finally:
            cl.close()
            with lock:
                pull_lat.extend(lat)

    secs = run_threads(workers, puller)
    return secs, pull_lat


def run_scenario(sc, args, binary, password, auth, work):
    host = "127.0.0.1"
    port = free_port()
    data_dir = os.path.join(work, f"data-{sc}")
    logf = os.path.join(work, f"server-{sc}.log")
    hook_port = free_port()
    receivers = []
    server = None
    res = {"scenario": sc, "what": SCENARIOS[sc], "loadavg_start": os.getloadavg()[0]}

    def tail_log(lines=40):
        try:
            with open(logf, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    try:
        env = dict(os.environ, BERTH_ADMIN_PASSWORD=password, BERTH_LOG=os.environ.get("BERTH_LOG", "warn"),
                   BERTH_OUTBOUND_ALLOW="127.0.0.1/32", BERTH_WEBHOOK_RETRY_MAX="5")
        log(f"[{sc}] {SCENARIOS[sc]}: starting berth on {host}:{port}, data dir {data_dir}")
        with open(logf, "wb") as lf:
            server = subprocess.Popen(
                [binary, "serve", "--listen", f"{host}:{port}", "--data-dir", data_dir],
                env=env, stdout=lf, stderr=subprocess.STDOUT,
            )
        anon = Client(host, port)
        for _ in range(200):
            if server.poll() is not None:
                raise BenchError(f"server exited at start (code {server.returncode})")
            try:
                if anon.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                anon.close()
            time.sleep(0.05)
        else:
            raise BenchError("GET /healthz did not give 200 within 10 s")
        anon.close()

        if sc == "B":
            receivers.append(Receiver("good", hook_port))
        elif sc == "D":
            receivers.append(Receiver("blackhole", hook_port))
        # C: nothing listens on hook_port.

        c = Client(host, port, auth)
        # The delivery listings use a portal session (cookie), not Basic: a Basic credential is
        # re-checked with argon2id (19 MiB) every 30 s, which would show in the RSS figures.
        _, rh, _ = c.expect("POST", "/c/login", 200,
                            body=f"principal=admin&password={password}".encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        m = re.match(r"\s*(sid=[^;]+)", rh.get("set-cookie", ""))
        if not m:
            raise BenchError(f"POST /c/login: no sid cookie in {rh}")
        api = Client(host, port, cookie=m.group(1))
        config = make_config()
        config_desc = descriptor(OCI_CONFIG, config)
        c.expect("POST", f"/v2/{REPO}/blobs/uploads/?digest={config_desc['digest']}", 201, body=config,
                 headers={"Content-Type": "application/octet-stream"})
        pol_id = None
        if sc != "A":
            policy = {
                "name": f"bench-{sc}",
                "enabled": True,
                "targets": [{"type": "http", "address": f"http://127.0.0.1:{hook_port}/hook",
                             "payload_format": "Default"}],
                "event_types": ["PUSH_ARTIFACT", "PULL_ARTIFACT"],
            }
            _, rh, _ = c.expect("POST", f"/api/v2.0/projects/{PROJECT}/webhook/policies", 201, body=policy)
            m = re.search(r"/(\d+)$", rh.get("location", ""))
            if not m:
                raise BenchError(f"POST webhook policy: no id at the end of Location {rh.get('location')!r}")
            pol_id = int(m.group(1))
            log(f"[{sc}] webhook policy {pol_id} -> http://127.0.0.1:{hook_port}/hook")

        layers = [make_layer(f"{sc}-{i}") for i in range(args.preload_pushes + args.pushes)]
        sampler = RssSampler(server.pid)
        sampler.start()
        rss_start = proc_status_kib(server.pid, "VmRSS")
        digests = {}

        # Preload (unmeasured, the same in every scenario): a backlog of deliveries, and
        # --settle seconds of the receiver's behaviour, before the measured load.
        t_first = time.perf_counter()
        if args.preload_pushes:
            log(f"[{sc}] preload: {args.preload_pushes} pushes, {args.preload_pulls} pulls")
            _, _, _, pre = push_images(host, port, auth, args.workers, config_desc, layers, 0, args.preload_pushes)
            digests.update(pre)
            pull_manifests(host, port, auth, args.workers, sorted(pre), args.preload_pulls)
        wait = args.settle - (time.perf_counter() - t_first)
        if wait > 0:
            log(f"[{sc}] waiting {wait:.1f} s (until {args.settle:.0f} s after the first push)")
            time.sleep(wait)
        if pol_id is not None:
            res["jobs_before_load"] = job_counts(api, pol_id)
            log(f"[{sc}] deliveries before the measured load: {res['jobs_before_load']}")

        rss_before = proc_status_kib(server.pid, "VmRSS")
        cpu0 = proc_cpu_s(server.pid)
        log(f"[{sc}] measured: pushing {args.pushes} images from {args.workers} threads")
        t_load0 = time.perf_counter()
        push_s, push_lat, put_lat, measured = push_images(host, port, auth, args.workers, config_desc, layers,
                                                          args.preload_pushes, args.pushes)
        digests.update(measured)
        log(f"[{sc}] measured: {args.pulls} manifest GETs from {args.workers} threads")
        pull_s, pull_lat = pull_manifests(host, port, auth, args.workers, sorted(measured), args.pulls)
        t_load1 = time.perf_counter()
        load_cpu = proc_cpu_s(server.pid) - cpu0
        rss_after = proc_status_kib(server.pid, "VmRSS")
        res.update({
            "preload_pushes": args.preload_pushes, "preload_pulls": args.preload_pulls, "settle": args.settle,
            "pushes": args.pushes, "pulls": args.pulls, "workers": args.workers,
            "push_s": round(push_s, 3), "push_per_s": round(args.pushes / push_s, 1),
            "push_p50_ms": round(pct(push_lat, 50), 2), "push_p99_ms": round(pct(push_lat, 99), 2),
            "push_max_ms": round(max(push_lat), 2),
            "put_p50_ms": round(pct(put_lat, 50), 2), "put_p99_ms": round(pct(put_lat, 99), 2),
            "pull_s": round(pull_s, 3), "pull_per_s": round(args.pulls / pull_s, 1),
            "pull_p50_ms": round(pct(pull_lat, 50), 2), "pull_p99_ms": round(pct(pull_lat, 99), 2),
            "pull_max_ms": round(max(pull_lat), 2),
            "load_server_cpu_s": round(load_cpu, 2),
            "rss_start_mib": round(rss_start / 1024, 1),
            "rss_before_mib": round(rss_before / 1024, 1), "rss_after_mib": round(rss_after / 1024, 1),
        })
        log(f"[{sc}] push p50/p99 {res['push_p50_ms']}/{res['push_p99_ms']} ms ({res['push_per_s']}/s), "
            f"pull p50/p99 {res['pull_p50_ms']}/{res['pull_p99_ms']} ms ({res['pull_per_s']}/s), "
            f"RSS {res['rss_before_mib']} -> {res['rss_after_mib']} MiB")

        if pol_id is not None:
            res["jobs_after_load"] = job_counts(api, pol_id)
            log(f"[{sc}] deliveries after the load: {res['jobs_after_load']}")
            want = set(digests.values())
            # Recovery: a good receiver on the same port.
            if sc in ("C", "D"):
                for r in receivers:
                    r.stop()
                receivers.clear()
                t_rec = time.perf_counter()
                receivers.append(Receiver("good", hook_port))
                res["receiver_down_s"] = round(t_rec - t_first, 2)
                log(f"[{sc}] good receiver up on port {hook_port}, {res['receiver_down_s']} s after the first push")
            else:
                t_rec = t_load1
            good = receivers[0]
            deadline = t_rec + args.bound
            got = set()
            caught_up = None
            while True:
                st = good.stats()
                got = set(st["push_digests"]) & want
                if len(got) == len(want):
                    caught_up = time.perf_counter() - t_rec
                    break
                if time.perf_counter() > deadline:
                    break
                time.sleep(0.1)
            res["push_events_delivered"] = len(got)
            res["catch_up_s"] = round(caught_up, 2) if caught_up is not None else None
            log(f"[{sc}] push events delivered: {len(got)}/{len(want)}"
                + (f" after {caught_up:.2f} s" if caught_up is not None else f"; NOT all within {args.bound:.0f} s"))
            res["rss_caught_up_mib"] = round(proc_status_kib(server.pid, "VmRSS") / 1024, 1)
            res["jobs_caught_up"] = job_counts(api, pol_id)
            # Then until nothing is pending or running.
            drain_deadline = t_rec + args.drain_bound
            while True:
                jobs = job_counts(api, pol_id)
                if jobs.get("Pending", 0) + jobs.get("Running", 0) == 0:
                    res["drained_s"] = round(time.perf_counter() - t_rec, 2)
                    break
                if time.perf_counter() > drain_deadline:
                    res["drained_s"] = None
                    break
                time.sleep(1.0)
            res["end_s"] = round(time.perf_counter() - t_rec, 2)
            res["jobs_end"] = jobs
            st = good.stats()
            res["receiver"] = {
                "posts": st["posts"], "by_type": st["by_type"],
                "push_distinct": len(set(st["push_digests"]) & want),
                "push_duplicates": sum(n - 1 for d, n in st["push_digests"].items() if d in want),
                "unknown_push_digests": len(set(st["push_digests"]) - want),
                "bad": st["bad"],
            }
            res["push_missing"] = sorted(want - set(st["push_digests"]))[:10]
            log(f"[{sc}] deliveries at the end ({res['end_s']} s after recovery): {jobs}; receiver {res['receiver']}")

        res["rss_end_mib"] = round(proc_status_kib(server.pid, "VmRSS") / 1024, 1)
        res["vmhwm_mib"] = round(proc_status_kib(server.pid, "VmHWM") / 1024, 1)
        sampler.stop.set()
        sampler.join()
        res["rss_sampled_max_mib"] = round(sampler.max_kib / 1024, 1)
        res["rss_series_mib"] = sampler.every(5.0)
        c.close()
        api.close()
        if server.poll() is not None:
            raise BenchError(f"server exited during the scenario (code {server.returncode})")
        res["log_lines"] = [ln for ln in tail_log(100_000).splitlines() if re.search(r"error|warn|panic", ln, re.I)][:20]
        return res
    except BaseException:
        args.keep_tmp = True
        log(f"[{sc}] server log tail ({logf}):\n{tail_log()}")
        raise
    finally:
        for r in receivers:
            r.stop()
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pushes", type=int, default=int(os.environ.get("PUSHES", 300)))
    ap.add_argument("--pulls", type=int, default=int(os.environ.get("PULLS", 2000)))
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 4)))
    ap.add_argument("--scenarios", default=os.environ.get("SCENARIOS", "A,B,C,D"))
    ap.add_argument("--bound", type=float, default=float(os.environ.get("BOUND", 120)),
                    help="longest wait, from recovery, until every push event has reached the receiver (s)")
    ap.add_argument("--drain-bound", type=float, default=float(os.environ.get("DRAIN_BOUND", 300)),
                    help="longest wait, from recovery, until no delivery is pending (s)")
    ap.add_argument("--preload-pushes", type=int, default=int(os.environ.get("PRELOAD_PUSHES", 100)))
    ap.add_argument("--preload-pulls", type=int, default=int(os.environ.get("PRELOAD_PULLS", 200)))
    ap.add_argument("--settle", type=float, default=float(os.environ.get("SETTLE", 12)),
                    help="the measured load starts this long after the first preload push (s)")
    ap.add_argument("--keep-tmp", action="store_true", default=bool(os.environ.get("KEEP_TMP")))
    ap.add_argument("--receiver", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.receiver:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        receiver_main(args.receiver, args.port)
        return
    scenarios = [s.strip().upper() for s in args.scenarios.split(",") if s.strip()]
    if any(s not in SCENARIOS for s in scenarios):
        sys.exit(f"--scenarios: pick from {','.join(SCENARIOS)}")

    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("BERTH_BIN") or build_binary(repo_root)
    if not os.access(binary, os.X_OK):
        sys.exit(f"berth binary {binary} not found")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    password = os.environ.get("BERTH_ADMIN_PASSWORD", "Bench-Admin-1")
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    work = tempfile.mkdtemp(prefix="berth-webhooks.")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    results = []
    try:
        for sc in scenarios:
            results.append(run_scenario(sc, args, binary, password, auth, work))
    finally:
        if args.keep_tmp:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    def get(r, k, f="{:.2f}"):
        v = r.get(k)
        return "—" if v is None else f.format(v)

    print("| scenario | push p50 / p99 (ms) | manifest PUT p50 / p99 (ms) | pushes/s | pull p50 / p99 (ms) "
          "| pulls/s | server CPU in the load (s) | RSS start → after load → end (MiB) | VmHWM (MiB) "
          "| deliveries after the load, total: pending / running / success / error "
          "| receiver bad for (s) | push events delivered, catch-up (s) | all deliveries done (s) "
          "| deliveries at the end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|")
    for r in results:
        total_pushes = r["preload_pushes"] + r["pushes"]
        if r["scenario"] == "A":
            delivered = done = "—"
        else:
            cu = r.get("catch_up_s")
            delivered = f"{r['push_events_delivered']}/{total_pushes}, " + (
                f"{cu:.2f}" if cu is not None else f"**not all in {args.bound:.0f} s**")
            done = f"{r['drained_s']:.1f}" if r.get("drained_s") is not None else \
                f"**not in {args.drain_bound:.0f} s**"
        print(f"| {r['scenario']}: {r['what']} "
              f"| {r['push_p50_ms']:.2f} / {r['push_p99_ms']:.2f} "
              f"| {r['put_p50_ms']:.2f} / {r['put_p99_ms']:.2f} "
              f"| {r['push_per_s']:.0f} "
              f"| {r['pull_p50_ms']:.2f} / {r['pull_p99_ms']:.2f} "
              f"| {r['pull_per_s']:.0f} "
              f"| {r['load_server_cpu_s']:.2f} "
              f"| {r['rss_start_mib']:.1f} → {r['rss_after_mib']:.1f} → {r['rss_end_mib']:.1f} "
              f"| {r['vmhwm_mib']:.1f} "
              f"| {fmt_jobs(r.get('jobs_after_load'))} "
              f"| {get(r, 'receiver_down_s', '{:.1f}')} "
              f"| {delivered} "
              f"| {done} "
              f"| {fmt_jobs(r.get('jobs_end'))} |")
    for r in results:
        if r.get("log_lines"):
            log(f"[{r['scenario']}] server log has errors or warnings (first lines):\n" + "\n".join(r["log_lines"]))
        if r.get("push_missing"):
            log(f"[{r['scenario']}] push events never delivered, e.g. {r['push_missing']}")
    print("RESULT " + json.dumps({"berth": version, "scenarios": results}, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        print(f"webhooks-bench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
