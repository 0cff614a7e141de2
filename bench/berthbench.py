"""Helpers shared by berth's Python benchmarks (bench/retention.py, bench/webhooks.py):
a keep-alive HTTP client that reports unexpected answers in full, /proc readings, percentiles,
OCI descriptors and the release build. Standard library only."""

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


class BenchError(Exception):
    """A failed step, with the exact request and response when there was one."""


def describe(method, path, req_body, status, headers, body):
    def show(b):
        if b is None:
            return "(none)"
        text = b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)
        return text if len(text) <= 2000 else text[:2000] + f"… ({len(text)} chars)"

    hdrs = "\n".join(f"  {k}: {v}" for k, v in headers.items())
    return (
        f"request: {method} {path}\n  body: {show(req_body)}\n"
        f"response: HTTP {status}\n{hdrs}\n  body: {show(body)}"
    )


class Client:
    """One keep-alive HTTP/1.1 connection (per thread), reconnecting when the server closes it."""

    def __init__(self, host, port, auth=None, cookie=None):
        self.host, self.port = host, port
        self.auth = auth
        self.cookie = cookie
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if self.auth:
            hdrs["Authorization"] = self.auth
        if self.cookie:
            hdrs["Cookie"] = self.cookie
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
                rh = {k.lower(): v for k, v in resp.getheaders()}
                if rh.get("connection", "").lower() == "close":
                    self.close()
                return resp.status, rh, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed between requests: once more.
                self.close()
                if attempt:
                    raise

    def expect(self, method, path, status, body=None, headers=None):
        """request(), stopping the benchmark unless the status is one of `status`."""
        ok = status if isinstance(status, tuple) else (status,)
        st, rh, data = self.request(method, path, body, headers)
        if st not in ok:
            req = json.dumps(body) if isinstance(body, (dict, list)) else body
            raise BenchError(
                f"expected HTTP {'/'.join(map(str, ok))}\n" + describe(method, path, req, st, rh, data)
            )
        return st, rh, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_hwm(pid):
    """Resets the process's VmHWM (peak RSS) to its current RSS (Linux >= 4.0: writing 5 to
    /proc/PID/clear_refs), so that a later VmHWM reading is the peak of what came between."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(p / 100 * len(v) + 0.5) - 1))]


def descriptor(media_type, data):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}


def build_binary(repo_root):
    print("building berth (cargo build --release -p berth)", file=sys.stderr, flush=True)
    subprocess.run(["cargo", "build", "--release", "-p", "berth"], cwd=repo_root, check=True,
                   stdout=sys.stderr)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(repo_root, "target"))
    return os.path.join(target, "release", "berth")
