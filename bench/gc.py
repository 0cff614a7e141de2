#!/usr/bin/env python3
"""Time an online garbage collection over many small blobs and manifests while pulls go on.

Usage:
    bench/gc.py                             # builds berth (cargo build --release -p berth), runs
    BERTH_BIN=/path/to/berth bench/gc.py
    bench/gc.py --blobs 2000 --manifests 200                  # a small smoke run
    bench/gc.py --database postgres://USER:PW@127.0.0.1:5432/DB  # metadata on PostgreSQL

Starts the release binary on 127.0.0.1 with a fresh data dir (filesystem storage; embedded
SQLite unless --database is given; BERTH_GC_REVIEW_DELAY=0 so that whatever is unreferenced is
collectable at once; admin password from BERTH_ADMIN_PASSWORD, default Bench-Admin-1), then:

 1. uploads BLOBS distinct small blobs (64–512 bytes) to REPOS repositories of the public
    project `library` (library/gc00 …), one monolithic `POST /v2/<repo>/blobs/uploads/?digest=`
    per blob, from THREADS threads, each with its own keep-alive connection;
 2. pushes MANIFESTS OCI image manifests, tagged m00000 …, each naming BLOBS/MANIFESTS of those
    blobs (by default a config and 9 layers, so every blob is referenced exactly once);
 3. deletes GARBAGE-PERCENT of the manifests, chosen at random (seeded), with
    `DELETE /v2/<repo>/manifests/<digest>`, so that the blobs only they named are garbage;
 4. measures anonymous pulls of the surviving manifests for BASELINE seconds (manifest GET by
    tag or by digest, alternately, then a GET of one of its blobs; bodies checked against their
    digests) from PROBERS threads, one pull every PROBE-INTERVAL seconds each;
 5. runs a dry-run GC, then a real one (`POST /api/v2.0/system/gc/schedule`, type Manual,
    delete_untagged, WORKERS workers), each timed from the POST until GET /system/gc/{id}
    shows it no longer Running (polled every 50 ms), with the same pulls going on, and
    samples the server's VmRSS every 50 ms (its VmHWM is reset through /proc/PID/clear_refs
    before each run where the kernel allows it);
 6. checks the figures: the dry run and the real run both report exactly the unreferenced
    blobs' count and bytes (and no manifests); every surviving manifest then pulls with all its blobs
    (digests checked), a sample of deleted blobs gives 404, and the blob files left under
    <data>/storage/blobs are exactly the referenced set.

Prints a Markdown table and a `RESULT {json}` line on stdout, progress on stderr. Any
unexpected response stops the run with the exact request and response and the tail of the
server log. Python standard library only.
"""

import argparse
import base64
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime

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
TARGET_S = 60.0


def log(msg):
    print(f"gc-bench: {msg}", file=sys.stderr, flush=True)


def rfc3339(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_blob(rng, i, config):
    """Blob i: 64–512 bytes, distinct (its number is in it); a config blob is image-config JSON."""
    size = rng.randint(64, 512)
    if config:
        head = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                           "rootfs": {"type": "layers", "diff_ids": []}, "n": i, "pad": ""},
                          separators=(",", ":"))
        pad = max(0, size - len(head))
        return head.replace('"pad":""', '"pad":"' + "x" * pad + '"').encode()
    head = f"berth gc benchmark blob {i}\n".encode()
    return head + rng.randbytes(max(0, size - len(head)))


def manifest_body(config_desc, layer_descs, j):
    return json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc,
         "layers": layer_descs, "annotations": {"n": str(j)}},
        separators=(",", ":"),
    ).encode()


def parallel(n_items, threads, make_client, work, what):
    """Runs work(client, i) for i in range(n_items) from `threads` threads, each with its own
    client; stops at the first error and raises it. Returns (seconds, latencies in ms)."""
    counter = itertools.count()
    lock = threading.Lock()
    failed = threading.Event()
    errors, lats = [], []
    started = [0]

    def run():
        cl = make_client()
        lat = []
        try:
            while not failed.is_set():
                with lock:
                    i = next(counter)
                    started[0] = min(i + 1, n_items)
                if i >= n_items:
                    break
                t0 = time.perf_counter()
                work(cl, i)
                lat.append((time.perf_counter() - t0) * 1000)
        except Exception as e:  # noqa: BLE001 - re-raised by the caller's thread
            errors.append(e)
            failed.set()
        finally:
            cl.close()
            with lock:
                lats.extend(lat)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=run, name=f"{what}-{k}") for k in range(threads)]
    for t in ts:
        t.start()
    last = time.perf_counter()
    for t in ts:
        while t.is_alive():
            t.join(5)
            if time.perf_counter() - last >= 15:
                last = time.perf_counter()
                log(f"  {what}: {started[0]} of {n_items} started after {last - t0:.0f} s")
    if errors:
        raise errors[0]
    return time.perf_counter() - t0, lats


class Prober(threading.Thread):
    """Anonymous pulls of surviving manifests until stopped: a manifest GET (by tag and by
    digest, alternately) and a GET of one of its blobs, each checked against its digest; then
    `interval` seconds of rest. Records (ms) latencies per kind."""

    def __init__(self, host, port, images, seed, interval):
        super().__init__(daemon=True)
        self.client = Client(host, port)
        self.images, self.interval = images, interval
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.manifest_lat, self.blob_lat, self.pull_lat, self.errors = [], [], [], []

    def get(self, path, accept, want):
        t0 = time.perf_counter()
        st, rh, data = self.client.request("GET", path, headers={"Accept": accept} if accept else None)
        dt = (time.perf_counter() - t0) * 1000
        if st != 200 or sha(data) != want:
            self.errors.append(f"digest {sha(data)}, wanted {want}\n" + describe("GET", path, None, st, rh, data))
            return None
        return dt

    def run(self):
        n = 0
        while not self.stop.is_set():
            repo, tag, digest, blobs = self.images[self.rng.randrange(len(self.images))]
            ref = tag if n % 2 == 0 else digest
            n += 1
            try:
                m = self.get(f"/v2/{repo}/manifests/{ref}", OCI_MANIFEST, digest)
                bd = blobs[self.rng.randrange(len(blobs))]
                b = self.get(f"/v2/{repo}/blobs/{bd}", None, bd)
                if m is not None:
                    self.manifest_lat.append(m)
                if b is not None:
                    self.blob_lat.append(b)
                if m is not None and b is not None:
                    self.pull_lat.append(m + b)
            except Exception as e:  # noqa: BLE001 - reported at the end
                self.errors.append(f"GET /v2/{repo}/...: {e!r}")
                self.client.close()
            if len(self.errors) >= 100:
                break  # the server is failing: enough evidence, and no busy loop
            if self.interval:
                self.stop.wait(self.interval)
        self.client.close()


class Probes:
    def __init__(self, host, port, images, n, interval, seed):
        self.threads = [Prober(host, port, images, seed + k, interval) for k in range(n)]

    def __enter__(self):
        self.t0 = time.perf_counter()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        for t in self.threads:
            t.stop.set()
        for t in self.threads:
            t.join(30)
        self.seconds = time.perf_counter() - self.t0
        return False

    def figures(self, what):
        errs = [e for t in self.threads for e in t.errors]
        if errs:
            raise BenchError(f"{len(errs)} pulls failed {what}; first:\n{errs[0]}")
        out = {"seconds": round(self.seconds, 2)}
        for kind in ("manifest", "blob", "pull"):
            lat = [x for t in self.threads for x in getattr(t, kind + "_lat")]
            out[kind] = {"count": len(lat), "p50_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
                         "max_ms": round(max(lat or [0]), 2)}
        return out


def reset_hwm(pid):
    """Resets the peak RSS (VmHWM) of `pid` (Linux ≥ 4.0, same user); False if not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def loadavg():
    """The 1-minute load average: other work on the machine shows in it."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def run_gc(client, server_pid, dry_run, workers, bound):
    """POSTs a manual GC and waits until it is no longer Running. Returns a dict of figures."""
    load0 = loadavg()
    hwm_reset = reset_hwm(server_pid)
    rss_max = proc_status_kib(server_pid, "VmRSS")
    c0 = proc_cpu_s(server_pid)
    t0 = time.perf_counter()
    body = {"schedule": {"type": "Manual"},
            "parameters": {"delete_untagged": True, "dry_run": dry_run, "workers": workers}}
    _, rh, _ = client.expect("POST", "/api/v2.0/system/gc/schedule", 201, body=body)
    loc = rh.get("location", "")
    m = re.search(r"/api/v2\.0/system/gc/(\d+)$", loc)
    if not m:
        raise BenchError(f"POST /api/v2.0/system/gc/schedule: unexpected Location {loc!r}")
    gid = int(m.group(1))
    polls = 0
    while True:
        _, _, data = client.expect("GET", f"/api/v2.0/system/gc/{gid}", 200)
        polls += 1
        rec = json.loads(data)
        rss_max = max(rss_max, proc_status_kib(server_pid, "VmRSS"))
        if rec.get("job_status") != "Running":
            wall = time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > bound:
            raise BenchError(f"GC {gid} still running after {bound:.0f} s; last seen: {json.dumps(rec)}")
        time.sleep(0.05)
    cpu = proc_cpu_s(server_pid) - c0
    hwm = proc_status_kib(server_pid, "VmHWM")
    if rec["job_status"] != "Success":
        _, _, text = client.expect("GET", f"/api/v2.0/system/gc/{gid}/log", 200)
        raise BenchError(f"GC {gid} ended {rec['job_status']}: {json.dumps(rec)}\nlog:\n{text.decode()[-3000:]}")
    if bool(rec.get("dry_run")) != dry_run:
        raise BenchError(f"GC {gid} has dry_run={rec.get('dry_run')}, asked {dry_run}")
    _, _, text = client.expect("GET", f"/api/v2.0/system/gc/{gid}/log", 200)
    server_s = (rfc3339(rec["update_time"]) - rfc3339(rec["creation_time"])).total_seconds()
    return {"id": gid, "wall_s": wall, "server_s": server_s, "polls": polls, "cpu_s": cpu,
            "rss_max_mib": rss_max / 1024, "vmhwm_mib": hwm / 1024 if hwm_reset else None,
            "loadavg": [load0, loadavg()], "record": rec, "log": text.decode()}


def stored_blobs(data_dir):
    base = os.path.join(data_dir, "storage", "blobs", "sha256")
    out = set()
    if os.path.isdir(base):
        for p in os.listdir(base):
            for f in os.listdir(os.path.join(base, p)):
                out.add("sha256:" + f)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--blobs", type=int, default=100_000)
    ap.add_argument("--manifests", type=int, default=10_000)
    ap.add_argument("--garbage-percent", type=float, default=90.0)
    ap.add_argument("--workers", type=int, default=4, help="GC workers (1–10)")
    ap.add_argument("--repos", type=int, default=10)
    ap.add_argument("--threads", type=int, default=8, help="threads for the setup's pushes and deletes")
    ap.add_argument("--probers", type=int, default=2, help="pulling threads during the runs")
    ap.add_argument("--probe-interval", type=float, default=0.005, help="rest between a prober's pulls (s)")
    ap.add_argument("--baseline", type=float, default=5.0, help="seconds of pulls measured before GC")
    ap.add_argument("--database", help="metadata database URL (default: SQLite in the data dir)")
    ap.add_argument("--gc-timeout", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keep-tmp", action="store_true", default=bool(os.environ.get("KEEP_TMP")))
    args = ap.parse_args()
    per = args.blobs // args.manifests if args.manifests else 0
    if per < 2:
        sys.exit("--blobs must be at least twice --manifests (a config and a layer per manifest)")
    if not 0 <= args.garbage_percent < 100:
        sys.exit("--garbage-percent must be from 0 to below 100")

    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("BERTH_BIN") or build_binary(repo_root)
    if not os.access(binary, os.X_OK):
        sys.exit(f"berth binary {binary} not found")
    password = os.environ.get("BERTH_ADMIN_PASSWORD", "Bench-Admin-1")
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

    work = tempfile.mkdtemp(prefix="berth-gc.")
    data_dir = os.path.join(work, "data")
    port = free_port()
    host = "127.0.0.1"
    logf = os.path.join(work, "server.log")
    server = None
    db_kind = "PostgreSQL" if args.database else "SQLite"

    def tail_log(lines=40):
        try:
            with open(logf, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        env = dict(os.environ, BERTH_ADMIN_PASSWORD=password, BERTH_GC_REVIEW_DELAY="0",
                   BERTH_LOG=os.environ.get("BERTH_LOG", "warn"))
        cmd = [binary, "serve", "--listen", f"{host}:{port}", "--data-dir", data_dir]
        if args.database:
            cmd += ["--database", args.database]
        log(f"starting {binary} on {host}:{port}, data dir {data_dir}, {db_kind}")
        with open(logf, "wb") as lf:
            server = subprocess.Popen(cmd, env=env, stdout=lf, stderr=subprocess.STDOUT)
        anon = Client(host, port)
        for _ in range(400):
            if server.poll() is not None:
                raise BenchError(f"server exited at start (code {server.returncode})")
            try:
                if anon.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                anon.close()
            time.sleep(0.05)
        else:
            raise BenchError("GET /healthz did not give 200 within 20 s")
        anon.close()
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
        c = Client(host, port, auth)
        rss_idle = proc_status_kib(server.pid, "VmRSS") / 1024

        # The plan: blob i belongs to manifest i // per (config first), the rest to none.
        rng = random.Random(args.seed)
        repos = [f"{PROJECT}/gc{r:02d}" for r in range(args.repos)]
        n_m = args.manifests
        blobs, descs = [], []
        for i in range(args.blobs):
            owner = i // per
            data = make_blob(rng, i, owner < n_m and i % per == 0)
            blobs.append(data)
            descs.append(descriptor(OCI_CONFIG if owner < n_m and i % per == 0 else OCI_LAYER, data))
        if len({d["digest"] for d in descs}) != len(descs):
            raise BenchError("generated blobs are not distinct")

        def repo_of_blob(i):
            owner = i // per
            return repos[(owner if owner < n_m else i) % len(repos)]

        # 1. Blobs.
        def push_blob(cl, i):
            d = descs[i]["digest"]
            cl.expect("POST", f"/v2/{repo_of_blob(i)}/blobs/uploads/?digest={d}", 201, body=blobs[i],
                      headers={"Content-Type": "application/octet-stream"})

        log(f"uploading {args.blobs} blobs ({sum(map(len, blobs)):,} bytes) to {len(repos)} repositories "
            f"with {args.threads} threads")
        c0 = proc_cpu_s(server.pid)
        blob_s, blob_lat = parallel(args.blobs, args.threads, lambda: Client(host, port, auth), push_blob, "blobs")
        blob_cpu = proc_cpu_s(server.pid) - c0
        log(f"uploaded {args.blobs} blobs in {blob_s:.1f} s ({args.blobs / blob_s:.0f}/s; "
            f"p50 {pct(blob_lat, 50):.2f} ms, p99 {pct(blob_lat, 99):.2f} ms)")

        # 2. Manifests.
        images = []  # (repo, tag, digest, blob digests, body)
        for j in range(n_m):
            ds = descs[j * per:(j + 1) * per]
            body = manifest_body(ds[0], ds[1:], j)
            images.append((repos[j % len(repos)], f"m{j:05d}", sha(body), [d["digest"] for d in ds], body))

        def push_manifest(cl, j):
            repo, tag, digest, _, body = images[j]
            _, rh, _ = cl.expect("PUT", f"/v2/{repo}/manifests/{tag}", 201, body=body,
                                 headers={"Content-Type": OCI_MANIFEST})
            if rh.get("docker-content-digest") != digest:
                raise BenchError(f"PUT {repo}:{tag}: Docker-Content-Digest {rh.get('docker-content-digest')} != {digest}")

        log(f"pushing {n_m} manifests ({per} blobs each)")
        c0 = proc_cpu_s(server.pid)
        man_s, man_lat = parallel(n_m, args.threads, lambda: Client(host, port, auth), push_manifest, "manifests")
        man_cpu = proc_cpu_s(server.pid) - c0
        log(f"pushed {n_m} manifests in {man_s:.1f} s ({n_m / man_s:.0f}/s; "
            f"p50 {pct(man_lat, 50):.2f} ms, p99 {pct(man_lat, 99):.2f} ms)")

        # 3. Deletes.
        n_garbage = round(n_m * args.garbage_percent / 100)
        doomed = sorted(random.Random(args.seed + 1).sample(range(n_m), n_garbage))
        doomed_set = set(doomed)
        survivors = [images[j][:4] for j in range(n_m) if j not in doomed_set]

        def delete_manifest(cl, k):
            repo, _, digest, _, _ = images[doomed[k]]
            cl.expect("DELETE", f"/v2/{repo}/manifests/{digest}", 202)

        log(f"deleting {n_garbage} manifests")
        del_s, del_lat = parallel(n_garbage, args.threads, lambda: Client(host, port, auth), delete_manifest, "deletes")
        log(f"deleted {n_garbage} manifests in {del_s:.1f} s ({n_garbage / max(del_s, 1e-9):.0f}/s)")
        setup_s = blob_s + man_s + del_s

        referenced = {d for _, _, _, bl in survivors for d in bl}
        garbage = [d for d in descs if d["digest"] not in referenced]
        garbage_bytes = sum(d["size"] for d in garbage)
        files_before = stored_blobs(data_dir)
        if files_before != {d["digest"] for d in descs}:
            raise BenchError(f"{len(files_before)} blob files in storage before GC, {len(descs)} blobs uploaded")
        log(f"setup {setup_s:.1f} s; {len(survivors)} manifests survive naming {len(referenced)} blobs; "
            f"{len(garbage)} blobs ({garbage_bytes:,} bytes) are garbage")
        if not survivors:
            raise BenchError("no manifest survives: nothing to pull during GC")

        # 4. Baseline pulls.
        log(f"baseline: {args.probers} threads pulling for {args.baseline:.0f} s")
        with Probes(host, port, survivors, args.probers, args.probe_interval, args.seed + 10) as base:
            time.sleep(args.baseline)
        baseline = base.figures("before GC")

        # 5. Dry run, then the real run.
        def expect_counts(res, what):
            rec = res["record"]
            if rec["deleted_blobs"] != len(garbage) or rec["deleted_manifests"] != 0 \
                    or rec["freed_bytes"] != garbage_bytes:
                raise BenchError(f"{what}: record says {rec['deleted_manifests']} manifests, {rec['deleted_blobs']} "
                                 f"blobs, {rec['freed_bytes']} bytes; expected 0, {len(garbage)}, {garbage_bytes}: "
                                 f"{json.dumps(rec)}")

        rss_before_gc = proc_status_kib(server.pid, "VmRSS") / 1024
        log(f"dry run, workers={args.workers}")
        with Probes(host, port, survivors, args.probers, args.probe_interval, args.seed + 20) as pd:
            dry = run_gc(c, server.pid, True, args.workers, args.gc_timeout)
        dry_pulls = pd.figures("during the dry run")
        expect_counts(dry, "dry run")
        if stored_blobs(data_dir) != files_before:
            raise BenchError("the dry run changed the blob files in storage")
        log(f"dry run: {dry['wall_s']:.2f} s wall, {dry['server_s']:.2f} s by the record; "
            f"{dry['record']['deleted_blobs']} blobs would go")

        log(f"real run, workers={args.workers}")
        with Probes(host, port, survivors, args.probers, args.probe_interval, args.seed + 30) as pr:
            real = run_gc(c, server.pid, False, args.workers, args.gc_timeout)
        real_pulls = pr.figures("during the real run")
        expect_counts(real, "real run")
        log(f"real run: {real['wall_s']:.2f} s wall, {real['server_s']:.2f} s by the record; "
            f"{real['record']['deleted_blobs']} blobs, {real['record']['freed_bytes']:,} bytes; "
            f"pull p99 {real_pulls['pull']['p99_ms']} ms over {real_pulls['pull']['count']} pulls")

        # 6. After: every survivor pulls fully, garbage is gone, storage holds the referenced set.
        def pull_full(cl, k):
            repo, tag, digest, bl = survivors[k]
            _, _, data = cl.expect("GET", f"/v2/{repo}/manifests/{tag}", 200, headers={"Accept": OCI_MANIFEST})
            if sha(data) != digest:
                raise BenchError(f"{repo}:{tag} pulled as {sha(data)}, pushed {digest}")
            for d in bl:
                _, _, data = cl.expect("GET", f"/v2/{repo}/blobs/{d}", 200)
                if sha(data) != d:
                    raise BenchError(f"blob {d} of {repo}:{tag} has digest {sha(data)}")

        verify_s, _ = parallel(len(survivors), args.threads, lambda: Client(host, port), pull_full, "verify")
        sample = random.Random(args.seed + 2).sample(garbage, min(200, len(garbage)))
        index = {d["digest"]: i for i, d in enumerate(descs)}
        for d in sample:
            c.expect("GET", f"/v2/{repo_of_blob(index[d['digest']])}/blobs/{d['digest']}", 404)
        for j in doomed[:50]:
            repo, tag, digest, _, _ = images[j]
            c.expect("GET", f"/v2/{repo}/manifests/{digest}", 404, headers={"Accept": OCI_MANIFEST})
        files_after = stored_blobs(data_dir)
        if files_after != referenced:
            raise BenchError(f"{len(files_after)} blob files left in storage, {len(referenced)} referenced; "
                             f"{len(files_after - referenced)} unreferenced left, "
                             f"{len(referenced - files_after)} referenced missing")
        log(f"verified: {len(survivors)} manifests pull with all their blobs ({verify_s:.1f} s), "
            f"{len(sample)} garbage blobs give 404, {len(files_after)} blob files = referenced set")
        # A run over the collected state finds nothing.
        again = run_gc(c, server.pid, False, args.workers, args.gc_timeout)
        if again["record"]["deleted_blobs"] or again["record"]["deleted_manifests"]:
            raise BenchError(f"a second run still deleted things: {json.dumps(again['record'])}")
        c.close()
        rss_end = proc_status_kib(server.pid, "VmRSS") / 1024
        bad = [ln for ln in tail_log(100_000).splitlines() if re.search(r"error|warn|panic", ln, re.I)]
    except BaseException:
        args.keep_tmp = True
        log(f"server log tail ({logf}):\n{tail_log()}")
        log(f"kept {work}")
        raise
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    if args.keep_tmp:
        log(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if bad:
        log("server log has errors or warnings (first 20 lines):\n" + "\n".join(bad[:20]))

    def run_json(r):
        rec = r["record"]
        return {"id": r["id"], "wall_s": round(r["wall_s"], 3), "record_s": round(r["server_s"], 3),
                "server_cpu_s": round(r["cpu_s"], 2), "rss_max_mib": round(r["rss_max_mib"], 1),
                "vmhwm_mib": None if r["vmhwm_mib"] is None else round(r["vmhwm_mib"], 1),
                "loadavg_1m_start_end": r["loadavg"], "deleted_blobs": rec["deleted_blobs"], "deleted_manifests": rec["deleted_manifests"],
                "freed_bytes": rec["freed_bytes"]}

    result = {
        "database": db_kind,
        "blobs": args.blobs, "manifests": n_m, "blobs_per_manifest": per, "repositories": len(repos),
        "garbage_percent": args.garbage_percent, "manifests_deleted_by_api": n_garbage,
        "surviving_manifests": len(survivors), "referenced_blobs": len(referenced),
        "garbage_blobs": len(garbage), "garbage_bytes": garbage_bytes,
        "gc_workers": args.workers, "setup_threads": args.threads,
        "setup_s": round(setup_s, 2),
        "blob_upload": {"s": round(blob_s, 2), "per_s": round(args.blobs / blob_s, 1),
                        "p50_ms": round(pct(blob_lat, 50), 2), "p99_ms": round(pct(blob_lat, 99), 2),
                        "server_cpu_s": round(blob_cpu, 2)},
        "manifest_push": {"s": round(man_s, 2), "per_s": round(n_m / man_s, 1),
                          "p50_ms": round(pct(man_lat, 50), 2), "p99_ms": round(pct(man_lat, 99), 2),
                          "server_cpu_s": round(man_cpu, 2)},
        "manifest_delete": {"s": round(del_s, 2), "p50_ms": round(pct(del_lat, 50), 2),
                            "p99_ms": round(pct(del_lat, 99), 2)},
        "dry_run": run_json(dry), "real_run": run_json(real), "second_run_wall_s": round(again["wall_s"], 3),
        "pulls_baseline": baseline, "pulls_dry_run": dry_pulls, "pulls_real_run": real_pulls,
        "probers": args.probers, "probe_interval_s": args.probe_interval,
        "blob_files_after": len(files_after), "verify_s": round(verify_s, 2),
        "rss_idle_mib": round(rss_idle, 1), "rss_before_gc_mib": round(rss_before_gc, 1),
        "rss_end_mib": round(rss_end, 1),
        "target_under_s": TARGET_S, "target_met": real["wall_s"] < TARGET_S,
        "berth": version,
    }

    def lat(p, kind):
        f = p[kind]
        return f"{f['p50_ms']:.2f} / {f['p99_ms']:.2f} / {f['max_ms']:.2f} ({f['count']:,})"

    def hwm(r):
        return "n/a" if r["vmhwm_mib"] is None else f"{r['vmhwm_mib']:.1f}"

    rows = [
        ("Metadata database", db_kind),
        ("Blobs / manifests (blobs per manifest) / repositories", f"{args.blobs:,} / {n_m:,} ({per}) / {len(repos)}"),
        (f"Blob upload, {args.threads} threads (blobs/s)", f"{args.blobs / blob_s:,.0f} ({blob_s:.1f} s)"),
        (f"Manifest push, {args.threads} threads (manifests/s)", f"{n_m / man_s:,.0f} ({man_s:.1f} s)"),
        ("Manifests deleted through the API", f"{n_garbage:,} ({del_s:.1f} s)"),
        ("Setup total (s)", f"{setup_s:.1f}"),
        ("Garbage: blobs / bytes", f"{len(garbage):,} / {garbage_bytes:,}"),
        ("Surviving manifests / referenced blobs", f"{len(survivors):,} / {len(referenced):,}"),
        ("Dry run, POST to final status seen (s)", f"{dry['wall_s']:.2f}"),
        ("Dry run, record update_time − creation_time (s)", f"{dry['server_s']:.2f}"),
        (f"Real run (workers={args.workers}), POST to final status seen (s)", f"{real['wall_s']:.2f}"),
        ("Real run, record update_time − creation_time (s)", f"{real['server_s']:.2f}"),
        ("Real run, server CPU (s)", f"{real['cpu_s']:.2f}"),
        (f"Machine load average (1 min) at start / end of real run ({os.cpu_count()} CPUs)",
         f"{real['loadavg'][0]:.2f} / {real['loadavg'][1]:.2f}"),
        ("Real run deleted blobs / manifests / bytes freed",
         f"{real['record']['deleted_blobs']:,} / {real['record']['deleted_manifests']} / {real['record']['freed_bytes']:,}"),
        ("Server RSS idle / before the dry run / max sampled during real run / VmHWM during real run (MiB)",
         f"{rss_idle:.1f} / {rss_before_gc:.1f} / {real['rss_max_mib']:.1f} / {hwm(real)}"),
        ("Pull (manifest + blob GET) before GC, p50 / p99 / max ms (pulls)", lat(baseline, "pull")),
        ("Pull during dry run, p50 / p99 / max ms (pulls)", lat(dry_pulls, "pull")),
        ("Pull during real run, p50 / p99 / max ms (pulls)", lat(real_pulls, "pull")),
        ("Manifest GET before GC / during real run, p99 ms",
         f"{baseline['manifest']['p99_ms']:.2f} / {real_pulls['manifest']['p99_ms']:.2f}"),
        ("Blob GET before GC / during real run, p99 ms",
         f"{baseline['blob']['p99_ms']:.2f} / {real_pulls['blob']['p99_ms']:.2f}"),
        ("Blob files left = referenced blobs", f"{len(files_after):,} = {len(referenced):,}"),
        ("Second real run right after (s, deletes nothing)", f"{again['wall_s']:.2f}"),
        (f"Target: real run under {TARGET_S:.0f} s", "met" if result["target_met"] else "**not met**"),
    ]
    print("| metric | value |")
    print("|---|---:|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print("RESULT " + json.dumps(result, separators=(",", ":")))


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        print(f"gc-bench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
