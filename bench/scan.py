#!/usr/bin/env python3
"""Benchmark berth's built-in vulnerability scanner.

Usage:
    bench/scan.py                       # builds berth (cargo build --release -p berth), runs
    BERTH_BIN=/path/to/berth bench/scan.py --images 100 --reps 3 --keep-tmp
    BERTH_BIN=/path/to/berth bench/scan.py --images 20 --no-external   # skip step 7

1. Builds a Debian bookworm minbase-like image of one layer: the files this machine's dpkg
   lists (`dpkg -L`) for the 88 packages of the fixture's debootstrap --variant=minbase
   package list (../shared/fixtures/pkgdb/dpkg/debian-bookworm-minbase-debootstrap; this
   machine is Debian 12 and has all of them installed), with the fixture's
   /var/lib/dpkg/status and /etc/os-release, as a gzip-compressed tar in an OCI image layout.
2. Imports every advisory fixture (OSV Go/PyPI/crates/GHSA, Alpine secdb, Debian tracker
   samples and DSA/DLA lists) with `berth vulndb import`.
3. `berth scan <layout> --format json`, REPS times: wall time and peak RSS of the process
   (wait4's ru_maxrss).
4. Starts `berth serve`, pushes the image, scans it through the API (POST …/scan, then polls
   the artifact's scan_overview every 20 ms): time from the POST to Success, and the server's
   VmHWM (peak RSS) before and after.
5. Pushes IMAGES more images (the same layer mounted into IMAGES repositories, each with its
   own config, so every scan reads and catalogs the 50 MB layer), starts scan-all
   (POST /system/scanAll/schedule Manual) and, while it runs, GETs a manifest every 10 ms:
   scan-all wall time, manifest GET p50/p99/max, and the server's peak RSS.
6. (unless --no-sbom) Generates the SBOMs of library/minbase:v1 REPS times
   (POST …/scan {"scan_type":"sbom"}, then polls sbom_overview every 20 ms): time from the
   POST to Success, server CPU per run, the SPDX and CycloneDX documents' sizes (downloaded
   from …/additions/sbom), and the server's VmHWM over these runs (reset before them through
   /proc/PID/clear_refs).
7. (unless --no-external) Starts a second berth serving the scanner adapter API
   (BERTH_SCANNER_ADAPTER_KEY) with the same advisories, registers it on the first
   (POST /scanners, X-ScannerAdapter-API-Key) as the scanner of `library`, scans
   library/minbase:v1 through it REPS times (POST → Success, against step 4's built-in times),
   CPU of both processes per scan, and fails unless the external reports list exactly the
   built-in scanner's vulnerabilities, on the minbase image and on a small Alpine 3.10 image
   with a known vulnerable musl. Both berths get BERTH_OUTBOUND_ALLOW=127.0.0.1.

Prints a Markdown table and a `RESULT {json}` line on stdout, progress on stderr. Standard
library only.
"""

import argparse
import base64
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

from berthbench import (  # noqa: E402  (bench/ is on sys.path: the script's own directory)
    OCI_CONFIG,
    OCI_MANIFEST,
    BenchError,
    Client,
    build_binary,
    descriptor,
    free_port,
    pct,
    proc_cpu_s,
    proc_status_kib,
    reset_hwm,
)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
FIXTURES = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "fixtures"))
MINBASE = os.path.join(FIXTURES, "pkgdb/dpkg/debian-bookworm-minbase-debootstrap")
OCI_LAYER_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
REPORT_MIME = "application/vnd.security.vulnerability.report; version=1.1"
SPDX_MIME = "application/spdx+json"
CYCLONEDX_MIME = "application/vnd.cyclonedx+json"
ADAPTER_KEY = "bench-adapter-key-0123456789"
PASSWORD = os.environ.get("BENCH_ADMIN_PASSWORD", "Bench-Admin-1")


def log(msg):
    print(f"scan-bench: {msg}", file=sys.stderr, flush=True)


def minbase_packages():
    names = []
    with open(os.path.join(MINBASE, "dpkg-query-expected.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            names.append(line.split("\t")[0])
    return names


def build_layer():
    """The minbase-like root filesystem as an uncompressed tar (bytes), and its file count."""
    paths = set()
    for pkg in minbase_packages():
        out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True)
        if out.returncode != 0:
            raise BenchError(f"dpkg -L {pkg} failed: {out.stderr}")
        for p in out.stdout.splitlines():
            p = p.strip()
            if p.startswith("/") and p not in ("/", "/."):
                paths.add(p)
    buf = io.BytesIO()
    files = 0
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for p in sorted(paths):
            if not os.path.lexists(p):
                continue  # conffiles removed, diversions
            st = os.lstat(p)
            info = tar.gettarinfo(p, arcname=p.lstrip("/"))
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isreg():
                try:
                    with open(p, "rb") as f:
                        tar.addfile(info, f)
                    files += 1
                except OSError:
                    continue
            elif info.isdir() or info.issym():
                tar.addfile(info)
            del st
        for src, dst in (
            ("status", "var/lib/dpkg/status"),
            ("os-release", "etc/os-release"),
            ("os-release", "usr/lib/os-release"),
            ("debian_version", "etc/debian_version"),
        ):
            data = open(os.path.join(MINBASE, src), "rb").read()
            info = tarfile.TarInfo(dst)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), files


def config_for(layer_tar, n):
    diff = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    return json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"n": str(n)}},
            "rootfs": {"type": "layers", "diff_ids": [diff]},
        },
        separators=(",", ":"),
    ).encode()


def manifest_for(config, layer_gz):
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, config),
            "layers": [descriptor(OCI_LAYER_GZ, layer_gz)],
        },
        separators=(",", ":"),
    ).encode()


def write_layout(path, config, layer_gz):
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
    manifest = manifest_for(config, layer_gz)
    for blob in (config, layer_gz, manifest):
        with open(os.path.join(path, "blobs", "sha256", hashlib.sha256(blob).hexdigest()), "wb") as f:
            f.write(blob)
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [descriptor(OCI_MANIFEST, manifest)]}, f)


def run_measured(cmd, env):
    """Runs cmd under /usr/bin/time; returns (wall s, peak RSS KiB, stdout). (wait4's
    ru_maxrss of a child forked from this Python process would count the parent's pages the
    child had before exec.)"""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "BENCH_MAXRSS_KIB=%M", *cmd], env=env,
                       capture_output=True)
    wall = time.perf_counter() - t0
    err = p.stderr.decode(errors="replace")
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed ({p.returncode}): {err[-2000:]}")
    rss = int(err.rsplit("BENCH_MAXRSS_KIB=", 1)[1].split()[0])
    return wall, rss, p.stdout


def start_server(binary, data_dir, port, env):
    log_path = os.path.join(data_dir, "..", "server.log")
    logf = open(log_path, "ab")
    p = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
        env=env, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
    )
    for _ in range(300):
        c = Client("127.0.0.1", port)
        try:
            st, _, _ = c.request("GET", "/healthz")
            if st == 200:
                c.close()
                return p, log_path
        except Exception:  # noqa: BLE001 - not up yet
            pass
        c.close()
        if p.poll() is not None:
            raise BenchError(f"berth exited at start; log: {open(log_path).read()[-3000:]}")
        time.sleep(0.05)
    p.kill()
    p.wait()
    raise BenchError("berth did not start")


def push_blob(client, repo, data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    client.expect("POST", f"/v2/{repo}/blobs/uploads/?digest={d}", 201, body=data,
                  headers={"Content-Type": "application/octet-stream"})
    return d


def mount_blob(client, repo, digest, source):
    client.expect("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={source}", 201)


def push_manifest(client, repo, tag, manifest):
    client.expect("PUT", f"/v2/{repo}/manifests/{tag}", 201, body=manifest,
                  headers={"Content-Type": OCI_MANIFEST})


def overview(client, repo, ref):
    name = repo.split("/", 1)[1].replace("/", "%252F")
    _, _, data = client.expect(
        "GET", f"/api/v2.0/projects/library/repositories/{name}/artifacts/{ref}?with_scan_overview=true", 200)
    return json.loads(data).get("scan_overview", {}).get(REPORT_MIME, {})


def artifact_path(repo, ref):
    name = repo.split("/", 1)[1].replace("/", "%252F")
    return f"/api/v2.0/projects/{repo.split('/', 1)[0]}/repositories/{name}/artifacts/{ref}"


def run_scan(client, repo, ref, scan_type=None, timeout=600):
    """POST …/scan (with `scan_type` when given), then polls the artifact every 20 ms until
    that scan (a report id other than the one before the POST) has ended. Returns (seconds
    from the POST to the end seen, overview); stops the benchmark unless it is Success."""
    path = artifact_path(repo, ref)
    sbom = scan_type == "sbom"

    def current():
        flag = "with_sbom_overview" if sbom else "with_scan_overview"
        _, _, data = client.expect("GET", f"{path}?{flag}=true", 200)
        a = json.loads(data)
        return (a.get("sbom_overview") or {}) if sbom else a.get("scan_overview", {}).get(REPORT_MIME, {})

    before = current().get("report_id")
    body = {"scan_type": scan_type} if scan_type else None
    t0 = time.perf_counter()
    client.expect("POST", f"{path}/scan", 202, body=body)
    while True:
        o = current()
        if o.get("report_id") != before and o.get("scan_status") in ("Success", "Error", "Stopped"):
            break
        if time.perf_counter() - t0 > timeout:
            raise BenchError(f"{scan_type or 'vulnerability'} scan of {repo}:{ref} not done after {timeout} s: {o}")
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    if o["scan_status"] != "Success":
        raise BenchError(f"{scan_type or 'vulnerability'} scan of {repo}:{ref} ended {o}")
    return wall, o


def vuln_list(client, repo, ref):
    """The artifact's vulnerability report as sorted (id, package, version, fix_version,
    severity) tuples."""
    _, _, data = client.expect("GET", f"{artifact_path(repo, ref)}/additions/vulnerabilities", 200)
    report = json.loads(data).get(REPORT_MIME)
    if not isinstance(report, dict) or not isinstance(report.get("vulnerabilities"), list):
        raise BenchError(f"no vulnerability report for {repo}:{ref}: {data[:2000]!r}")
    return sorted(tuple(str(v.get(k) or "") for k in ("id", "package", "version", "fix_version", "severity"))
                  for v in report["vulnerabilities"])


def alpine_vulnerable_layer():
    """A small gzip layer: the Alpine 3.10.4 fixture's os-release and apk database with musl
    downgraded to 1.1.22-r2 (below the secdb fix of CVE-2019-14697), so that the external
    scanner's report is compared on a non-empty vulnerability list too."""
    base = os.path.join(FIXTURES, "pkgdb/apk/alpine-3.10.4")
    os_release = open(os.path.join(base, "os-release"), "rb").read()
    installed = open(os.path.join(base, "installed"), "rb").read().replace(b"V:1.1.22-r3", b"V:1.1.22-r2")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("etc/os-release", os_release), ("lib/apk/db/installed", installed)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue(), gzip.compress(buf.getvalue(), mtime=0)


class Prober(threading.Thread):
    """GETs one manifest every `interval` seconds until stopped; records latencies (ms)."""

    def __init__(self, port, auth, path, interval=0.010):
        super().__init__(daemon=True)
        self.client = Client("127.0.0.1", port, auth)
        self.path, self.interval = path, interval
        self.stop = threading.Event()
        self.lat, self.errors = [], []

    def run(self):
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                st, _, _ = self.client.request("GET", self.path, headers={"Accept": OCI_MANIFEST})
                if st == 200:
                    self.lat.append((time.perf_counter() - t0) * 1000)
                else:
                    self.errors.append(st)
            except Exception as e:  # noqa: BLE001 - reported at the end
                self.errors.append(repr(e))
            self.stop.wait(self.interval)


ADAPTER_SERVER = []  # the second berth's Popen, stopped by main's cleanup


def measure_sbom(c, pid, reps):
    """Step 6: SBOM generation through the API on library/minbase:v1, REPS times; the two
    documents' sizes; the server's VmHWM over these runs (reset just before them)."""
    log(f"generating SBOMs of library/minbase:v1, {reps} times")
    rss_before = proc_status_kib(pid, "VmRSS")
    reset_hwm(pid)
    cpu0 = proc_cpu_s(pid)
    walls = []
    for i in range(reps):
        wall, o = run_scan(c, "library/minbase", "v1", "sbom")
        walls.append(wall)
        log(f"SBOM #{i + 1}: {wall:.2f} s, {[s.get('media_type') for s in o.get('sboms', [])]}")
    cpu = proc_cpu_s(pid) - cpu0
    hwm = proc_status_kib(pid, "VmHWM")
    formats = {s.get("media_type") for s in o.get("sboms", [])}
    if formats != {SPDX_MIME, CYCLONEDX_MIME}:
        raise BenchError(f"expected an SPDX and a CycloneDX document, sbom_overview is {o}")
    sizes, docs = {}, {}
    for key, mime in (("spdx", SPDX_MIME), ("cyclonedx", CYCLONEDX_MIME)):
        q = mime.replace("/", "%2F").replace("+", "%2B")
        _, _, data = c.expect("GET", f"{artifact_path('library/minbase', 'v1')}/additions/sbom?media_type={q}", 200)
        sizes[key] = len(data)
        docs[key] = json.loads(data)
    if docs["spdx"].get("spdxVersion") != "SPDX-2.3" or docs["cyclonedx"].get("bomFormat") != "CycloneDX":
        raise BenchError("the SBOM documents are not SPDX 2.3 / CycloneDX")
    return {
        "api_s": [round(w, 3) for w in walls],
        "server_cpu_s_per_run": round(cpu / reps, 2),
        "sizes_bytes": sizes,
        "spdx_packages": len(docs["spdx"].get("packages", [])),
        "cyclonedx_components": len(docs["cyclonedx"].get("components", [])),
        "server_rss_before_mib": round(rss_before / 1024, 1),
        "server_hwm_during_mib": round(hwm / 1024, 1),
    }


def measure_external(binary, c, pid, env, tmp, advisories, reps, builtin_s):
    """Step 7: a second berth serving the scanner adapter API (same advisories) registered
    as the scanner of `library`; library/minbase:v1 scanned through it REPS times; its
    reports must list exactly the built-in scanner's vulnerabilities (also on a small Alpine
    image with a known vulnerability)."""
    # The built-in reports first, while `library` still uses the built-in scanner.
    layer_tar, layer_gz = alpine_vulnerable_layer()
    cfg = config_for(layer_tar, 0)
    push_blob(c, "library/alpine-vuln", layer_gz)
    push_blob(c, "library/alpine-vuln", cfg)
    push_manifest(c, "library/alpine-vuln", "v1", manifest_for(cfg, layer_gz))
    run_scan(c, "library/alpine-vuln", "v1")
    builtin = {repo: vuln_list(c, repo, "v1") for repo in ("library/minbase", "library/alpine-vuln")}
    if not builtin["library/alpine-vuln"]:
        raise BenchError("the built-in scanner found nothing in the Alpine check image; the comparison would be empty")

    b_dir = os.path.join(tmp, "adapter")
    b_data = os.path.join(b_dir, "data")
    os.makedirs(b_dir)
    log("importing the advisory fixtures into the adapter berth")
    subprocess.run([binary, "vulndb", "import", "--data-dir", b_data, *advisories],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    b_port = free_port()
    b_env = dict(env, BERTH_SCANNER_ADAPTER_KEY=ADAPTER_KEY)
    b, _ = start_server(binary, b_data, b_port, b_env)
    ADAPTER_SERVER.append(b)
    time.sleep(1)
    b_idle = proc_status_kib(b.pid, "VmRSS")
    reset_hwm(b.pid)

    _, rh, data = c.expect("POST", "/api/v2.0/scanners", 201, body={
        "name": "bench-external", "url": f"http://127.0.0.1:{b_port}",
        "auth": "X-ScannerAdapter-API-Key", "access_credential": ADAPTER_KEY,
        "description": "a second berth (bench/scan.py)"})
    uuid = rh.get("location", "").rstrip("/").rsplit("/", 1)[-1]
    if not uuid:
        raise BenchError(f"no Location in the scanner registration answer: {rh} {data!r}")
    c.expect("PUT", "/api/v2.0/projects/library/scanner", 200, body={"uuid": uuid})

    log(f"scanning library/minbase:v1 through the second berth, {reps} times")
    a_cpu0, b_cpu0 = proc_cpu_s(pid), proc_cpu_s(b.pid)
    walls = []
    for i in range(reps):
        wall, o = run_scan(c, "library/minbase", "v1")
        walls.append(wall)
        log(f"external scan #{i + 1}: {wall:.2f} s, {o['summary']['total']} vulnerabilities")
    a_cpu, b_cpu = proc_cpu_s(pid) - a_cpu0, proc_cpu_s(b.pid) - b_cpu0
    _, _, scan_log = c.expect("GET", f"{artifact_path('library/minbase', 'v1')}/scan/{o['report_id']}/log", 200)
    if b"bench-external" not in scan_log:
        raise BenchError(f"the scan log does not name the external scanner: {scan_log[:2000]!r}")
    run_scan(c, "library/alpine-vuln", "v1")
    b_hwm = proc_status_kib(b.pid, "VmHWM")
    for repo, want in builtin.items():
        got = vuln_list(c, repo, "v1")
        if got != want:
            missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
            raise BenchError(f"{repo}: the external scanner's report differs from the built-in one; "
                             f"missing {missing[:10]}, extra {extra[:10]} ({len(got)} against {len(want)})")
    log(f"external reports equal the built-in ones ({len(builtin['library/minbase'])} and "
        f"{len(builtin['library/alpine-vuln'])} vulnerabilities)")
    return {
        "api_s": [round(w, 3) for w in walls],
        "builtin_api_s": [round(w, 3) for w in builtin_s],
        "registry_cpu_s_per_scan": round(a_cpu / reps, 2),
        "adapter_cpu_s_per_scan": round(b_cpu / reps, 2),
        "adapter_rss_idle_mib": round(b_idle / 1024, 1),
        "adapter_hwm_mib": round(b_hwm / 1024, 1),
        "minbase_vulnerabilities": len(builtin["library/minbase"]),
        "alpine_vulnerabilities": len(builtin["library/alpine-vuln"]),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--no-sbom", action="store_true", help="skip step 6 (SBOM generation)")
    ap.add_argument("--no-external", action="store_true",
                    help="skip step 7 (scans through a second berth as external scanner)")
    args = ap.parse_args()

    binary = os.environ.get("BERTH_BIN") or build_binary(REPO_ROOT)
    tmp = tempfile.mkdtemp(prefix="berth-scan-bench-")
    env = dict(os.environ, BERTH_ADMIN_PASSWORD=PASSWORD, BERTH_LOG="warn")
    env.pop("BERTH_DATABASE", None)
    if not args.no_external:
        # The two berths talk over loopback: A registers B as a scanner, B pulls from A.
        env["BERTH_OUTBOUND_ALLOW"] = "127.0.0.1"
    data_dir = os.path.join(tmp, "data")
    server = adapter = None
    try:
        log("building the minbase-like layer from dpkg -L of the fixture's 88 packages")
        layer_tar, files = build_layer()
        layer_gz = gzip.compress(layer_tar, compresslevel=6, mtime=0)
        config = config_for(layer_tar, 0)
        layout = os.path.join(tmp, "layout")
        write_layout(layout, config, layer_gz)
        log(f"layer: {files} files, {len(layer_tar) / 1e6:.1f} MB tar, {len(layer_gz) / 1e6:.1f} MB gzip")

        log("importing the advisory fixtures")
        t0 = time.perf_counter()
        advisories = [os.path.join(FIXTURES, "advisories", d) for d in sorted(os.listdir(os.path.join(FIXTURES, "advisories")))]
        subprocess.run([binary, "vulndb", "import", "--data-dir", data_dir, *advisories],
                       env=env, check=True, stdout=subprocess.DEVNULL)
        import_s = time.perf_counter() - t0
        status = subprocess.run([binary, "vulndb", "status", "--data-dir", data_dir], env=env,
                                check=True, capture_output=True, text=True).stdout
        stored = sum(int(line.split(": ")[1].split()[0]) for line in status.splitlines() if ": " in line)
        log(f"imported {stored} advisories in {import_s:.1f} s")

        cli = []
        packages = vulns = None
        for i in range(args.reps):
            wall, rss, out = run_measured([binary, "scan", layout, "--format", "json", "--data-dir", data_dir], env)
            report = json.loads(out)
            packages, vulns = len(report["packages"]), len(report["vulnerabilities"])
            cli.append((wall, rss))
            log(f"berth scan #{i + 1}: {wall:.2f} s, peak RSS {rss / 1024:.0f} MiB, {packages} packages, {vulns} vulnerabilities")

        port = free_port()
        server, log_path = start_server(binary, data_dir, port, env)
        auth = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        c = Client("127.0.0.1", port, auth)
        layer_digest = push_blob(c, "library/minbase", layer_gz)
        push_blob(c, "library/minbase", config)
        push_manifest(c, "library/minbase", "v1", manifest_for(config, layer_gz))
        rss_before = proc_status_kib(server.pid, "VmRSS")
        api = []
        for i in range(args.reps):
            t0 = time.perf_counter()
            c.expect("POST", "/api/v2.0/projects/library/repositories/minbase/artifacts/v1/scan", 202)
            while True:
                o = overview(c, "library/minbase", "v1")
                if o.get("scan_status") in ("Success", "Error", "Stopped"):
                    break
                time.sleep(0.02)
            wall = time.perf_counter() - t0
            if o["scan_status"] != "Success":
                raise BenchError(f"scan ended {o}")
            api.append(wall)
            log(f"API scan #{i + 1}: {wall:.2f} s, {o['summary']['total']} vulnerabilities")
        hwm_after_one = proc_status_kib(server.pid, "VmHWM")

        log(f"pushing {args.images} images (the layer mounted, a config each)")
        for n in range(args.images):
            repo = f"library/img{n:03d}"
            mount_blob(c, repo, layer_digest, "library/minbase")
            cfg = config_for(layer_tar, n + 1)
            push_blob(c, repo, cfg)
            push_manifest(c, repo, "v1", manifest_for(cfg, layer_gz))
        prober = Prober(port, auth, "/v2/library/minbase/manifests/v1")
        baseline = Prober(port, auth, "/v2/library/minbase/manifests/v1")
        baseline.start()
        time.sleep(3)
        baseline.stop.set()
        baseline.join()
        rss_samples = []
        prober.start()
        t0 = time.perf_counter()
        c.expect("POST", "/api/v2.0/system/scanAll/schedule", 201, body={"schedule": {"type": "Manual"}})
        while True:
            rss_samples.append(proc_status_kib(server.pid, "VmRSS"))
            _, _, data = c.expect("GET", "/api/v2.0/scans/all/metrics", 200)
            m = json.loads(data)
            if not m.get("ongoing") and m.get("total"):
                break
            if time.perf_counter() - t0 > 3600:
                raise BenchError(f"scan-all not done after an hour: {m}")
            time.sleep(0.1)
        scan_all_s = time.perf_counter() - t0
        prober.stop.set()
        prober.join()
        if prober.errors:
            raise BenchError(f"manifest GETs failed during scan-all: {prober.errors[:5]}")

        sbom = None
        if not args.no_sbom:
            sbom = measure_sbom(c, server.pid, args.reps)
        external = None
        if not args.no_external:
            external = measure_external(binary, c, server.pid, env, tmp, advisories, args.reps, api)

        result = {
            "layer_files": files,
            "layer_tar_mb": round(len(layer_tar) / 1e6, 1),
            "layer_gz_mb": round(len(layer_gz) / 1e6, 1),
            "advisories": stored,
            "import_s": round(import_s, 2),
            "packages": packages,
            "vulnerabilities": vulns,
            "cli_scan_s": [round(w, 3) for w, _ in cli],
            "cli_peak_rss_mib": [round(r / 1024, 1) for _, r in cli],
            "api_scan_s": [round(w, 3) for w in api],
            "server_rss_before_mib": round(rss_before / 1024, 1),
            "server_hwm_after_scan_mib": round(hwm_after_one / 1024, 1),
            "scan_all_images": m.get("total"),
            "scan_all_success": m.get("metrics", {}).get("Success"),
            "scan_all_s": round(scan_all_s, 2),
            "scan_all_per_image_s": round(scan_all_s / max(1, m.get("total") or 1), 3),
            "server_peak_rss_during_scan_all_mib": round(max(rss_samples) / 1024, 1),
            "manifest_get_idle_ms": {"p50": round(pct(baseline.lat, 50), 2), "p99": round(pct(baseline.lat, 99), 2), "n": len(baseline.lat)},
            "manifest_get_during_scan_all_ms": {
                "p50": round(pct(prober.lat, 50), 2), "p99": round(pct(prober.lat, 99), 2),
                "max": round(max(prober.lat), 2), "n": len(prober.lat)},
        }
        print("| measurement | value |\n|---|---|")
        print(f"| image | {files} files, {result['layer_tar_mb']} MB tar, {result['layer_gz_mb']} MB gzip, one layer |")
        print(f"| advisories stored (import time) | {stored} ({result['import_s']} s) |")
        print(f"| `berth scan` of the OCI layout | {', '.join(f'{w:.2f} s' for w, _ in cli)}; peak RSS {', '.join(f'{r / 1024:.0f} MiB' for _, r in cli)} |")
        print(f"| packages / vulnerabilities found | {packages} / {vulns} |")
        print(f"| API scan (POST → Success) | {', '.join(f'{w:.2f} s' for w in api)} |")
        print(f"| server RSS before / peak after scans | {result['server_rss_before_mib']} / {result['server_hwm_after_scan_mib']} MiB |")
        print(f"| scan-all of {m.get('total')} images | {scan_all_s:.1f} s ({result['scan_all_per_image_s']} s per image), {m.get('metrics')} |")
        print(f"| server peak RSS during scan-all | {result['server_peak_rss_during_scan_all_mib']} MiB |")
        ig, dg = result["manifest_get_idle_ms"], result["manifest_get_during_scan_all_ms"]
        print(f"| manifest GET idle p50 / p99 | {ig['p50']} / {ig['p99']} ms ({ig['n']} GETs) |")
        print(f"| manifest GET during scan-all p50 / p99 / max | {dg['p50']} / {dg['p99']} / {dg['max']} ms ({dg['n']} GETs) |")
        if sbom:
            result["sbom"] = sbom
            sz = sbom["sizes_bytes"]
            print(f"| SBOM generation (POST → Success) | {', '.join(f'{w:.2f} s' for w in sbom['api_s'])}; server CPU {sbom['server_cpu_s_per_run']} s per run |")
            print(f"| SBOM documents | SPDX {sz['spdx'] / 1e3:.1f} kB ({sbom['spdx_packages']} packages), CycloneDX {sz['cyclonedx'] / 1e3:.1f} kB ({sbom['cyclonedx_components']} components) |")
            print(f"| server RSS before SBOMs / VmHWM during them | {sbom['server_rss_before_mib']} / {sbom['server_hwm_during_mib']} MiB |")
        if external:
            result["external"] = external
            e = external
            print(f"| scan through a second berth (POST → Success) | {', '.join(f'{w:.2f} s' for w in e['api_s'])} (built-in, step 4: {', '.join(f'{w:.2f} s' for w in api)}) |")
            print(f"| CPU per external scan: first berth / adapter berth | {e['registry_cpu_s_per_scan']} / {e['adapter_cpu_s_per_scan']} s |")
            print(f"| adapter berth RSS idle / VmHWM over its scans | {e['adapter_rss_idle_mib']} / {e['adapter_hwm_mib']} MiB |")
            print(f"| external report = built-in report | minbase: {e['minbase_vulnerabilities']} = {e['minbase_vulnerabilities']} vulnerabilities; "
                  f"Alpine check image: {e['alpine_vulnerabilities']} = {e['alpine_vulnerabilities']} |")
        print("RESULT " + json.dumps(result))
    finally:
        for p in (server, ADAPTER_SERVER[0] if ADAPTER_SERVER else None):
            if p:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
        if args.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        print(f"scan-bench: FAILED\n{e}", file=sys.stderr)
        sys.exit(1)
