#!/usr/bin/env python3
"""Prints bench/run.sh's results (metric <TAB> server <TAB> value lines) as Markdown tables.

A line `metric <TAB> ref <TAB> other-metric` marks a berth-only row (distribution has no
auth): its ratio column compares berth's figure with distribution's figure of other-metric.

    report.py RESULTS.tsv DIST_VERSION
"""
import sys

ANON = "Manifest GET anonymous"
BEARER = "Manifest GET with Bearer token"
BASIC = "Manifest GET with Basic auth"


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.3g}"


def main(path, dist_version):
    rows, refs, order = {}, {}, []
    for line in open(path):
        metric, server, value = line.rstrip("\n").split("\t")
        if server == "ref":
            refs[metric] = value
            continue
        if metric not in rows:
            rows[metric] = {}
            order.append(metric)
        rows[metric][server] = float(value)

    footnote = False
    print(f"| metric | berth | distribution {dist_version} | ratio (berth/distribution) |")
    print("|---|---:|---:|---:|")
    for m in order:
        b, d = rows[m].get("berth"), rows[m].get("distribution")
        dcell = fmt(d)
        if b is not None and d:
            ratio = f"{b / d:.2f}"
        elif b is not None and m in refs and rows.get(refs[m], {}).get("distribution"):
            ratio = f"{b / rows[refs[m]]['distribution']:.2f} ¹"
            dcell = "n/a (no auth)"
            footnote = True
        else:
            ratio = "n/a"
        print(f"| {m} | {fmt(b)} | {dcell} | {ratio} |")
    if footnote:
        print()
        print("¹ distribution runs without auth, so this berth figure is compared with "
              "distribution's anonymous one.")

    def rps(prefix, server):
        for m in order:
            if m.startswith(prefix):
                return rows[m].get(server)
        return None

    anon_b, anon_d = rps(ANON, "berth"), rps(ANON, "distribution")
    bearer_b, basic_b = rps(BEARER, "berth"), rps(BASIC, "berth")

    def line(label, num, den, target):
        if num is None or not den:
            print(f"| {label} | n/a | {target or '—'} |")
            return
        r = num / den
        verdict = ""
        if target:
            verdict = f"{target}: {'met' if r >= float(target.lstrip('≥ ')) else 'NOT met'}"
        print(f"| {label} | {r:.2f} | {verdict or '—'} |")

    print()
    print("Manifest GET with and without authentication (req/s ratios):")
    print()
    print("| ratio | value | target |")
    print("|---|---:|---|")
    line("Bearer / anonymous (berth)", bearer_b, anon_b, "≥ 0.80")
    line("Basic / anonymous (berth)", basic_b, anon_b, None)
    line("anonymous (berth) / anonymous (distribution)", anon_b, anon_d, "≥ 3")
    line("Bearer (berth) / anonymous (distribution)", bearer_b, anon_d, "≥ 3")
    line("Basic (berth) / anonymous (distribution)", basic_b, anon_d, None)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
