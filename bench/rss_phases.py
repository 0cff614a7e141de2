#!/usr/bin/env python3
"""Which phase of the core benchmark (bench/run.sh) makes berth's peak RSS.

Usage:
    BERTH_BIN=/path/to/berth bench/rss_phases.py [--runs 3] [--interval 0.02] [--label X]
    MALLOC_ARENA_MAX=2 BERTH_BIN=... bench/rss_phases.py --runs 3 --label arena2

Runs `ORDER=berth bench/run.sh` (berth only; other knobs pass through the environment, e.g.
REPS, BLOB_REPS, WRK_DURATION) RUNS times. While each runs, samples the berth server's
/proc/PID/status (VmRSS, VmHWM, RssAnon, Threads) every INTERVAL seconds and stamps each
progress line run.sh prints on stderr. run.sh logs a phase's line when the phase has ended, so
a sample belongs to the phase whose line comes next. Prints, per run, each phase's time span,
the highest RSS sampled in it and VmHWM at its end, and a `RESULT {json}` line. The
environment (MALLOC_ARENA_MAX, …) reaches berth through run.sh. Standard library only.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# run.sh's progress lines (after "[berth] ") that end a phase, and the phase's name.
PHASES = [
    ("starting on", "start"),
    ("concurrent push times", "8 concurrent pushes x REPS (+ deletes)"),  # before "push times"
    ("push times", "start, 2 s idle, push big image x REPS (+ deletes)"),
    ("pull times", "pull big image x REPS"),
    ("wrk-manifest-anon", "wrk manifest GET anonymous"),
    ("wrk-manifest-bearer", "wrk manifest GET Bearer"),
    ("wrk-manifest-basic", "wrk manifest GET Basic"),
    ("wrk-base", "wrk GET /v2/"),
    ("blob GET times", "blob GETs"),
    ("data dir holds", "end"),
]


def status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                    out[k] = int(v.split()[0])
    except OSError:
        return None
    # An exited process not yet reaped (a zombie) has a status without memory lines.
    return out if "VmRSS" in out else None


def find_server(parent_pid, binary):
    """The berth process that run.sh started (a child of the bash script)."""
    real = os.path.realpath(binary)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            if ppid != parent_pid:
                continue
            if os.path.realpath(f"/proc/{name}/exe") == real:
                return int(name)
        except (OSError, ValueError):
            continue
    return None


def one_run(binary, interval):
    env = dict(os.environ, ORDER="berth", BERTH_BIN=binary)
    p = subprocess.Popen(["bash", os.path.join(HERE, "run.sh")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.perf_counter()
    lines, samples = [], []
    stop = threading.Event()

    def sampler():
        pid = None
        while not stop.is_set():
            if pid is None:
                pid = find_server(p.pid, binary)
            if pid is not None:
                s = status(pid)
                if s is None:
                    if samples:
                        return  # the server has exited
                else:
                    samples.append((time.perf_counter() - t0, s))
            time.sleep(interval)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    for line in p.stderr:
        lines.append((time.perf_counter() - t0, line.rstrip("\n")))
        print(line, end="", file=sys.stderr, flush=True)
    stdout = p.stdout.read()
    rc = p.wait()
    stop.set()
    th.join()
    if rc != 0:
        sys.exit(f"run.sh failed ({rc})")

    marks = []  # (time the phase ended, phase name)
    for t, line in lines:
        if "[berth]" not in line:
            continue
        for key, name in PHASES:
            if key in line:
                marks.append((t, name))
                break
    phases, start = [], 0.0
    for end, name in marks:
        inside = [s for t, s in samples if start <= t < end]
        if inside:
            peak = max(inside, key=lambda s: s["VmRSS"])
            phases.append({
                "phase": name, "from_s": round(start, 2), "to_s": round(end, 2),
                "max_rss_mib": round(peak["VmRSS"] / 1024, 1),
                "max_anon_mib": round(max(s.get("RssAnon", 0) for s in inside) / 1024, 1),
                "hwm_at_end_mib": round(inside[-1]["VmHWM"] / 1024, 1),
                "rss_at_end_mib": round(inside[-1]["VmRSS"] / 1024, 1),
                "max_threads": max(s.get("Threads", 0) for s in inside),
                "samples": len(inside),
            })
        start = end
    final = samples[-1][1] if samples else {}
    peak_line = next((line for line in stdout.splitlines() if line.startswith("| Peak RSS")), "")
    return {"phases": phases, "final_hwm_mib": round(final.get("VmHWM", 0) / 1024, 1),
            "samples": len(samples), "report_peak_row": peak_line,
            "_series": samples, "_lines": lines}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--label", default="")
    ap.add_argument("--dump", help="directory for each run's samples and stamped log lines (TSV)")
    args = ap.parse_args()
    binary = os.environ.get("BERTH_BIN")
    if not binary:
        sys.exit("set BERTH_BIN to a release binary")
    runs = []
    for i in range(args.runs):
        r = one_run(binary, args.interval)
        series, stamped = r.pop("_series"), r.pop("_lines")
        runs.append(r)
        if args.dump:
            os.makedirs(args.dump, exist_ok=True)
            with open(os.path.join(args.dump, f"{args.label or 'run'}-{i + 1}.tsv"), "w") as f:
                f.write("t_s\tVmRSS_kib\tVmHWM_kib\tRssAnon_kib\tThreads\n")
                for t, st in series:
                    f.write(f"{t:.3f}\t{st['VmRSS']}\t{st['VmHWM']}\t{st.get('RssAnon', 0)}\t{st.get('Threads', 0)}\n")
            with open(os.path.join(args.dump, f"{args.label or 'run'}-{i + 1}.log"), "w") as f:
                for t, line in stamped:
                    f.write(f"{t:.3f}\t{line}\n")
        print(f"\n### {args.label} run {i + 1}: final VmHWM {r['final_hwm_mib']} MiB ({r['samples']} samples)\n")
        print("| phase | span (s) | max VmRSS sampled (MiB) | max RssAnon (MiB) | VmHWM at end (MiB) | RSS at end (MiB) | max threads |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for ph in r["phases"]:
            print(f"| {ph['phase']} | {ph['from_s']}–{ph['to_s']} | {ph['max_rss_mib']} | {ph['max_anon_mib']} | "
                  f"{ph['hwm_at_end_mib']} | {ph['rss_at_end_mib']} | {ph['max_threads']} |")
        sys.stdout.flush()
    print("RESULT " + json.dumps({"label": args.label, "env_MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX"),
                                  "runs": runs}))


if __name__ == "__main__":
    main()
