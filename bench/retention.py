#!/usr/bin/env python3
"""Time a tag retention run over N tags (default 10 000) in one repository of berth.

Usage:
    bench/retention.py                      # builds berth (cargo build --release -p berth), runs
    BERTH_BIN=/path/to/berth bench/retention.py
    bench/retention.py --tags 2000 --workers 8 --keep-tmp

Starts the release binary on 127.0.0.1 with a fresh data dir (admin password from
BERTH_ADMIN_PASSWORD, default Bench-Admin-1), then:

 1. creates the private project `bench` (Harbor API, Basic auth as admin);
 2. uploads one config blob and one small layer blob to bench/app (monolithic POST);
 3. pushes N distinct OCI image manifests (same config and layer, annotation "n" differs)
    as tags t00000 … from WORKERS threads, each with its own keep-alive connection;
 4. creates a retention policy for the project: retain the 100 most recently pushed
    artifacts (latestPushedK=100) of every repository, untagged ones included;
 5. runs it as a dry run, then for real, timing each from the POST of the execution until
    the executions list shows it finished (polled every 50 ms), and checking the task's
    totals, the tag list, that the kept tags are the ones the dry run said it would keep, that a
    removed tag and its manifest digest give 404, and that the project's used storage dropped;
 6. during the real run, another thread GETs the manifest of a kept tag every 10 ms and
    records the latency.

Prints a Markdown table and a `RESULT {json}` line on stdout, progress on stderr. Any
unexpected response stops the run with the exact request and response and the tail of the
server log. Python standard library only.
"""

import argparse
import base64
import hashlib
import http.client
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit

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

PROJECT = "bench"
REPO = "bench/app"
KEEP = 100
TARGET_S = 10.0


def log(msg):
    print(f"retention-bench: {msg}", file=sys.stderr, flush=True)



def rfc3339(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))



def make_blobs():
    """A small uncompressed layer tar and a config naming it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        data = b"berth retention benchmark\n" * 40
        info = tarfile.TarInfo(name="bench/hello.txt")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, io.BytesIO(data))
    layer = buf.getvalue()
    layer_digest = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        },
        separators=(",", ":"),
    ).encode()
    return config, layer



def manifest(config_desc, layer_desc, i):
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config_desc,
            "layers": [layer_desc],
            "annotations": {"n": str(i)},
        },
        separators=(",", ":"),
    ).encode()


def list_tags(client, path):
    """All tags of a repository, following Link headers. Returns (tags, pages)."""
    tags, pages = [], 0
    while path:
        _, rh, data = client.expect("GET", path, 200)
        pages += 1
        tags.extend(json.loads(data).get("tags") or [])
        m = re.match(r'<([^>]+)>;\s*rel="next"', rh.get("link", ""))
        path = None
        if m:
            u = urlsplit(m.group(1))
            path = u.path + ("?" + u.query if u.query else "")
    return tags, pages


def used_storage(client, pid):
    _, _, data = client.expect("GET", f"/api/v2.0/quotas?reference_id={pid}", 200)
    rows = json.loads(data)
    if len(rows) != 1:
        raise BenchError(f"GET /api/v2.0/quotas?reference_id={pid} gave {len(rows)} rows: {data[:2000]!r}")
    return rows[0]["used"]["storage"]


def id_from_location(rh, what):
    loc = rh.get("location", "")
    m = re.search(r"/(\d+)$", loc)
    if not m:
        raise BenchError(f"{what}: no numeric id at the end of Location {loc!r} (headers {rh})")
    return int(m.group(1)), loc


class Prober(threading.Thread):
    """GETs one manifest every `interval` seconds until stopped; records latencies (ms)."""

    def __init__(self, host, port, auth, path, interval=0.010):
        super().__init__(daemon=True)
        self.client = Client(host, port, auth)
        self.path, self.interval = path, interval
        self.stop = threading.Event()
        self.lat, self.errors = [], []

    def run(self):
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                st, rh, data = self.client.request("GET", self.path, headers={"Accept": OCI_MANIFEST})
                dt = (time.perf_counter() - t0) * 1000
                if st != 200:
                    self.errors.append(describe("GET", self.path, None, st, rh, data))
                else:
                    self.lat.append(dt)
            except Exception as e:  # noqa: BLE001 - reported at the end
                self.errors.append(f"GET {self.path}: {e!r}")
            self.stop.wait(self.interval)
        self.client.close()


def run_execution(client, pol_id, dry_run, server_pid, poll=0.050, bound=120.0, prober=None):
    """POSTs an execution and waits until it is finished. Returns a dict of figures."""
    c0 = proc_cpu_s(server_pid)
    if prober:
        prober.start()
    t0 = time.perf_counter()
    _, rh, _ = client.expect(
        "POST", f"/api/v2.0/retentions/{pol_id}/executions", 201, body={"dry_run": dry_run}
    )
    t_post = time.perf_counter() - t0
    eid, loc = id_from_location(rh, "POST executions")
    if not loc.endswith(f"/api/v2.0/retentions/{pol_id}/executions/{eid}"):
        raise BenchError(f"POST executions: unexpected Location {loc!r}")
    polls, execution = 0, None
    path = f"/api/v2.0/retentions/{pol_id}/executions?page=1&page_size=100"
    while True:
        _, _, data = client.expect("GET", path, 200)
        polls += 1
        execution = next((e for e in json.loads(data) if e.get("id") == eid), None)
        if execution and execution.get("status") in ("Success", "Error", "Stopped"):
            wall = time.perf_counter() - t0
            break
        if time.perf_counter() - t0 > bound:
            raise BenchError(
                f"execution {eid} not finished after {bound:.0f} s; last seen: {json.dumps(execution)}"
            )
        time.sleep(poll)
    if prober:
        prober.stop.set()
        prober.join()
    cpu = proc_cpu_s(server_pid) - c0
    server_s = (rfc3339(execution["end_time"]) - rfc3339(execution["start_time"])).total_seconds()
    if execution["status"] != "Success":
        raise BenchError(f"execution {eid} ended with status {execution['status']}: {json.dumps(execution)}")
    if bool(execution.get("dry_run")) != dry_run:
        raise BenchError(f"execution {eid} has dry_run={execution.get('dry_run')}, asked {dry_run}")
    _, _, data = client.expect("GET", f"/api/v2.0/retentions/{pol_id}/executions/{eid}/tasks", 200)
    tasks = json.loads(data)
    return {
        "eid": eid,
        "wall_s": wall,
        "post_s": t_post,
        "server_s": server_s,
        "polls": polls,
        "cpu_s": cpu,
        "execution": execution,
        "tasks": tasks,
    }


def check_tasks(res, n, what):
    tasks = res["tasks"]
    if len(tasks) != 1:
        raise BenchError(f"{what}: expected 1 task, got {len(tasks)}: {json.dumps(tasks)[:2000]}")
    t = tasks[0]
    if t.get("repository") != REPO or t.get("status") != "Success" or t.get("total") != n or t.get("retained") != KEEP:
        raise BenchError(
            f"{what}: expected task repository={REPO} status=Success total={n} retained={KEEP}, got {json.dumps(t)}"
        )
    return t


def task_log(client, pol_id, eid, tid):
    _, _, data = client.expect("GET", f"/api/v2.0/retentions/{pol_id}/executions/{eid}/tasks/{tid}", 200)
    retained, deleted, digests = [], [], {}
    for line in data.decode().splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].startswith("t"):
            continue
        tag, digest, verdict = parts
        digests[tag] = digest
        if verdict.startswith("RETAIN"):
            retained.append(tag)
        elif "DELETE" in verdict:
            deleted.append(tag)
    return retained, deleted, digests, data.decode()



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tags", type=int, default=int(os.environ.get("TAGS", 10000)))
    ap.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", 8)))
    ap.add_argument("--keep-tmp", action="store_true", default=bool(os.environ.get("KEEP_TMP")))
    args = ap.parse_args()
    n = args.tags
    if n <= KEEP:
        sys.exit(f"--tags must be more than {KEEP}")

    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("BERTH_BIN") or build_binary(repo_root)
    if not os.access(binary, os.X_OK):
        sys.exit(f"berth binary {binary} not found")
    password = os.environ.get("BERTH_ADMIN_PASSWORD", "Bench-Admin-1")
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()

    work = tempfile.mkdtemp(prefix="berth-retention.")
    port = free_port()
    host = "127.0.0.1"
    logf = os.path.join(work, "server.log")
    server = None

    def tail_log(lines=40):
        try:
            with open(logf, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        env = dict(os.environ, BERTH_ADMIN_PASSWORD=password, BERTH_LOG=os.environ.get("BERTH_LOG", "warn"))
        log(f"starting {binary} on {host}:{port}, data dir {work}/data")
        with open(logf, "wb") as lf:
            server = subprocess.Popen(
                [binary, "serve", "--listen", f"{host}:{port}", "--data-dir", os.path.join(work, "data")],
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
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()

        c = Client(host, port, auth)
        # 1. Project.
        c.expect("POST", "/api/v2.0/projects", 201, body={"project_name": PROJECT, "public": False})
        _, _, data = c.expect("GET", f"/api/v2.0/projects/{PROJECT}", 200)
        proj = json.loads(data)
        # Harbor's project model calls it project_id.
        pid = proj.get("project_id", proj.get("id"))
        if not isinstance(pid, int):
            raise BenchError(f"GET /api/v2.0/projects/{PROJECT}: no project_id in {data[:2000]!r}")
        log(f"project {PROJECT} has id {pid}")

        # 2. Blobs.
        config, layer = make_blobs()
        config_desc, layer_desc = descriptor(OCI_CONFIG, config), descriptor(OCI_LAYER, layer)
        for blob, desc in ((config, config_desc), (layer, layer_desc)):
            c.expect("POST", f"/v2/{REPO}/blobs/uploads/?digest={desc['digest']}", 201, body=blob,
                     headers={"Content-Type": "application/octet-stream"})
            c.expect("HEAD", f"/v2/{REPO}/blobs/{desc['digest']}", 200)

        # 3. N manifests from `workers` threads.
        counter = itertools.count()
        lock = threading.Lock()
        failed = threading.Event()
        errors, push_lat = [], []
        digests = {}

        def pusher():
            cl = Client(host, port, auth)
            lat = []
            try:
                while not failed.is_set():
                    with lock:
                        i = next(counter)
                    if i >= n:
                        break
                    tag = f"t{i:05d}"
                    body = manifest(config_desc, layer_desc, i)
                    t0 = time.perf_counter()
                    _, rh, _ = cl.expect("PUT", f"/v2/{REPO}/manifests/{tag}", 201, body=body,
                                         headers={"Content-Type": OCI_MANIFEST})
                    lat.append((time.perf_counter() - t0) * 1000)
                    want = "sha256:" + hashlib.sha256(body).hexdigest()
                    if rh.get("docker-content-digest") != want:
                        raise BenchError(f"PUT {tag}: Docker-Content-Digest {rh.get('docker-content-digest')} != {want}")
                    digests[tag] = want
            except Exception as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)
                failed.set()
            finally:
                cl.close()
                with lock:
                    push_lat.extend(lat)

        log(f"pushing {n} manifests with {args.workers} threads")
        c0 = proc_cpu_s(server.pid)
        t0 = time.perf_counter()
        threads = [threading.Thread(target=pusher) for _ in range(args.workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        push_s = time.perf_counter() - t0
        push_cpu = proc_cpu_s(server.pid) - c0
        if errors:
            raise errors[0]
        push_rate = n / push_s
        log(f"pushed {n} manifests in {push_s:.2f} s ({push_rate:.0f}/s; p50 {pct(push_lat, 50):.2f} ms, "
            f"p99 {pct(push_lat, 99):.2f} ms)")

        tags, pages = list_tags(c, f"/v2/{REPO}/tags/list?n=20000")
        if len(tags) != n or len(set(tags)) != n:
            raise BenchError(f"tag list after the pushes has {len(tags)} tags ({len(set(tags))} distinct), not {n}")
        used_before = used_storage(c, pid)
        log(f"tag list: {len(tags)} tags in {pages} page(s); used storage {used_before} bytes")

        # 4. Policy.
        policy = {
            "algorithm": "or",
            "scope": {"level": "project", "ref": pid},
            "trigger": {"kind": "Schedule", "settings": {"cron": ""}, "references": {}},
            "rules": [{
                "disabled": False,
                "action": "retain",
                "template": "latestPushedK",
                "params": {"latestPushedK": KEEP},
                "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]},
                "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**",
                                   "extras": "{\"untagged\":true}"}],
            }],
        }
        _, rh, _ = c.expect("POST", "/api/v2.0/retentions", 201, body=policy)
        pol_id, loc = id_from_location(rh, "POST /api/v2.0/retentions")
        if loc != f"/api/v2.0/retentions/{pol_id}" and not loc.endswith(f"/api/v2.0/retentions/{pol_id}"):
            raise BenchError(f"POST /api/v2.0/retentions: unexpected Location {loc!r}")
        log(f"retention policy {pol_id}")

        # 5. Dry run.
        dry = run_execution(c, pol_id, True, server.pid)
        dtask = check_tasks(dry, n, "dry run")
        would_keep, would_delete, log_digests, _ = task_log(c, pol_id, dry["eid"], dtask["id"])
        if len(would_keep) != KEEP or len(would_delete) != n - KEEP:
            raise BenchError(f"dry-run task log: {len(would_keep)} RETAIN and {len(would_delete)} DELETE lines, "
                             f"expected {KEEP} and {n - KEEP}")
        tags_after_dry, _ = list_tags(c, f"/v2/{REPO}/tags/list?n=20000")
        if len(tags_after_dry) != n:
            raise BenchError(f"the dry run changed the tag list: {len(tags_after_dry)} tags, not {n}")
        log(f"dry run: {dry['wall_s']:.3f} s wall, {dry['server_s']:.3f} s by the execution's times, "
            f"task total {dtask['total']} retained {dtask['retained']}")

        # 6. Real run, with a manifest GET of a kept tag every 10 ms alongside.
        probe_tag = max(would_keep)
        prober = Prober(host, port, auth, f"/v2/{REPO}/manifests/{probe_tag}")
        real = run_execution(c, pol_id, False, server.pid, prober=prober)
        rtask = check_tasks(real, n, "real run")
        kept, _ = list_tags(c, f"/v2/{REPO}/tags/list?n=20000")
        if len(kept) != KEEP:
            raise BenchError(f"GET /v2/{REPO}/tags/list?n=20000 after the real run lists {len(kept)} tags, not {KEEP}")
        if sorted(kept) != sorted(would_keep):
            raise BenchError(f"the real run kept other tags than the dry run named: "
                             f"{sorted(set(kept) ^ set(would_keep))[:20]}")
        # A removed tag and its manifest digest are gone; a kept tag still resolves.
        gone = min(would_delete)
        c.expect("GET", f"/v2/{REPO}/manifests/{gone}", 404, headers={"Accept": OCI_MANIFEST})
        c.expect("GET", f"/v2/{REPO}/manifests/{digests[gone]}", 404, headers={"Accept": OCI_MANIFEST})
        c.expect("GET", f"/v2/{REPO}/manifests/{min(kept)}", 200, headers={"Accept": OCI_MANIFEST})
        if log_digests.get(gone) != digests[gone]:
            raise BenchError(f"task log names {log_digests.get(gone)} for {gone}, pushed {digests[gone]}")
        used_after = used_storage(c, pid)
        if not used_after < used_before:
            raise BenchError(f"used storage did not drop: {used_before} before, {used_after} after the real run")
        kept_idx = sorted(int(t[1:]) for t in kept)
        log(f"real run: {real['wall_s']:.3f} s wall, {real['server_s']:.3f} s by the execution's times; "
            f"kept t{kept_idx[0]:05d}..t{kept_idx[-1]:05d}; used storage {used_before} -> {used_after}")
        if prober.errors:
            raise BenchError(f"{len(prober.errors)} manifest GETs during the real run failed; first:\n{prober.errors[0]}")

        rss_mib = proc_status_kib(server.pid, "VmRSS") / 1024
        hwm_mib = proc_status_kib(server.pid, "VmHWM") / 1024
        c.close()
        bad = [ln for ln in tail_log(10_000).splitlines() if re.search(r"error|warn|panic", ln, re.I)]
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

    du = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(work, "data")) for f in fs)
    if args.keep_tmp:
        log(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if bad:
        log("server log has errors or warnings (first 20 lines):\n" + "\n".join(bad[:20]))

    result = {
        "tags": n,
        "workers": args.workers,
        "push_s": round(push_s, 3),
        "push_per_s": round(push_rate, 1),
        "push_p50_ms": round(pct(push_lat, 50), 2),
        "push_p99_ms": round(pct(push_lat, 99), 2),
        "push_server_cpu_s": round(push_cpu, 2),
        "dry_run_wall_s": round(dry["wall_s"], 3),
        "dry_run_server_s": round(dry["server_s"], 3),
        "dry_run_server_cpu_s": round(dry["cpu_s"], 2),
        "dry_run_task": {"total": dtask["total"], "retained": dtask["retained"]},
        "real_run_wall_s": round(real["wall_s"], 3),
        "real_run_server_s": round(real["server_s"], 3),
        "real_run_server_cpu_s": round(real["cpu_s"], 2),
        "real_run_task": {"total": rtask["total"], "retained": rtask["retained"]},
        "tags_after": len(kept),
        "kept_range": [f"t{kept_idx[0]:05d}", f"t{kept_idx[-1]:05d}"],
        "used_storage_before": used_before,
        "used_storage_after": used_after,
        "get_during_run": {"count": len(prober.lat), "p50_ms": round(pct(prober.lat, 50), 2),
                           "p99_ms": round(pct(prober.lat, 99), 2), "max_ms": round(max(prober.lat or [0]), 2)},
        "rss_mib_end": round(rss_mib, 1),
        "vmhwm_mib": round(hwm_mib, 1),
        "data_dir_bytes": du,
        "target_real_run_under_s": TARGET_S,
        "target_met": real["wall_s"] < TARGET_S,
        "berth": version,
    }
    rows = [
        ("Tags (distinct manifests) in bench/app", f"{n:,}"),
        (f"Push, {args.workers} threads with keep-alive (manifests/s)", f"{push_rate:,.0f} ({push_s:.2f} s)"),
        ("Manifest PUT latency p50 / p99 (ms)", f"{pct(push_lat, 50):.2f} / {pct(push_lat, 99):.2f}"),
        ("Dry run, POST to finished status seen (s)", f"{dry['wall_s']:.3f}"),
        ("Dry run, execution end_time − start_time (s)", f"{dry['server_s']:.3f}"),
        ("Dry run, server CPU (s)", f"{dry['cpu_s']:.2f}"),
        ("Dry run task total / retained", f"{dtask['total']} / {dtask['retained']}"),
        ("Real run, POST to finished status seen (s)", f"{real['wall_s']:.3f}"),
        ("Real run, execution end_time − start_time (s)", f"{real['server_s']:.3f}"),
        ("Real run, server CPU (s)", f"{real['cpu_s']:.2f}"),
        ("Real run task total / retained", f"{rtask['total']} / {rtask['retained']}"),
        ("Tags listed after the real run", f"{len(kept)} (t{kept_idx[0]:05d}…t{kept_idx[-1]:05d})"),
        ("Project used storage before → after (bytes)", f"{used_before:,} → {used_after:,}"),
        ("Manifest GET of a kept tag during the real run, p50 / p99 / max (ms)",
         f"{pct(prober.lat, 50):.2f} / {pct(prober.lat, 99):.2f} / {max(prober.lat or [0]):.2f} "
         f"({len(prober.lat)} GETs)"),
        ("Server RSS at the end / peak VmHWM (MiB)", f"{rss_mib:.1f} / {hwm_mib:.1f}"),
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
        print(f"retention-bench: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
