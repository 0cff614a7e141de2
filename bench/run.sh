#!/usr/bin/env bash
# Benchmark berth against CNCF distribution (Debian's docker-registry, 2.8.x) doing the same
# work, on 127.0.0.1 only, and print a Markdown table. See docs/benchmarks.md.
#
#   bench/run.sh                      # builds berth (cargo build --release) and runs
#   BERTH_BIN=/path/to/berth bench/run.sh
#
# Needs: skopeo, wrk, curl, python3, /usr/bin/docker-registry.
# Knobs (env): REPS (3), BLOB_REPS (5), WRK_DURATION (10s), BIG_LAYERS (5), BIG_LAYER_MB (20),
# PAR_IMAGES (8), PAR_LAYER_MB (5), DIST_BIN (/usr/bin/docker-registry), KEEP_TMP (unset),
# ORDER ("berth distribution": which server is measured first), BENCH_ADMIN_PASSWORD.
#
# berth runs with authentication (its admin password set by BERTH_ADMIN_PASSWORD at first
# start); distribution runs without any. Both get the same repositories, in berth's public
# project `library`: pushes and deletes on berth send the admin's credentials, pulls and the
# read-back checks are anonymous on both.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

REPS=${REPS:-3}
BLOB_REPS=${BLOB_REPS:-5}
WRK_DURATION=${WRK_DURATION:-10s}
BIG_LAYERS=${BIG_LAYERS:-5}
BIG_LAYER_MB=${BIG_LAYER_MB:-20}
PAR_IMAGES=${PAR_IMAGES:-8}
PAR_LAYER_MB=${PAR_LAYER_MB:-5}
DIST_BIN=${DIST_BIN:-/usr/bin/docker-registry}
OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
# berth's admin password for the benchmark (a throwaway server on 127.0.0.1; not a secret).
ADMIN_USER=admin
ADMIN_PASSWORD=${BENCH_ADMIN_PASSWORD:-Bench-Admin-12345}
BIG_REPO=library/big
PAR_REPO=library/par   # + 1..PAR_IMAGES

die() { echo "bench: FAILED: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

for tool in skopeo wrk curl python3 getconf; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $DIST_BIN ]] || die "$DIST_BIN not found (apt-get install docker-registry)"

if [[ -z ${BERTH_BIN:-} ]]; then
    log "building berth (cargo build --release -p berth)"
    (cd "$repo" && cargo build --release -p berth >&2)
    BERTH_BIN="${CARGO_TARGET_DIR:-$repo/target}/release/berth"
fi
[[ -x $BERTH_BIN ]] || die "berth binary $BERTH_BIN not found"

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
server_pid=""
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n ${KEEP_TMP:-} ]]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)
results="$work/results.tsv"   # metric <TAB> server <TAB> value
: >"$results"

# ---------------------------------------------------------------------------------------------
# Helpers

median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print(f"{float(sys.argv[2])-float(sys.argv[1]):.3f}")' "$1" "$2"; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# utime+stime of the server process (all threads), in seconds.
cpu_s() {
    python3 - "$1" "$CLK_TCK" <<'EOF'
import sys
stat = open(f"/proc/{sys.argv[1]}/stat").read()
fields = stat[stat.rindex(")") + 2:].split()
# fields[0] is field 3 (state); utime is field 14, stime field 15.
print(f"{(int(fields[11]) + int(fields[12])) / int(sys.argv[2]):.3f}")
EOF
}

# wrk's "812.00us" / "1.20ms" / "1.01s" to milliseconds.
to_ms() {
    python3 -c '
import sys
v = sys.stdin.read().strip()
for suf, f in (("us", 0.001), ("ms", 1), ("s", 1000)):
    if v.endswith(suf):
        print(round(float(v[:-len(suf)]) * f, 3)); break
else:
    sys.exit("cannot parse wrk latency " + repr(v))
'
}

record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }
# A berth-only row (distribution has no auth) whose ratio column compares with another
# row's distribution figure.
note_ref() { printf '%s\t%s\t%s\n' "$1" "ref" "$2" >>"$results"; }

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# Layer digests listed by a manifest (JSON on stdin), one a line.
manifest_layers() { python3 -c 'import json,sys; [print(l["digest"]) for l in json.load(sys.stdin)["layers"]]'; }

# Layer digests of the (single) image in an OCI layout directory.
layout_layers() {
    python3 - "$1" <<'EOF'
import json, sys, os
d = sys.argv[1]
idx = json.load(open(os.path.join(d, "index.json")))
m = idx["manifests"][0]["digest"].split(":", 1)[1]
for l in json.load(open(os.path.join(d, "blobs", "sha256", m)))["layers"]:
    print(l["digest"])
EOF
}

wait_ready() {
    local url=$1 pid=$2 logf=$3
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; die "server exited at start"; }
        # berth answers an anonymous GET /v2/ with a 401 Bearer challenge; either is "up".
        case $(curl -sS -o /dev/null -w '%{http_code}' "$url/v2/" 2>/dev/null) in
            200 | 401) return 0 ;;
        esac
        sleep 0.1
    done
    cat "$logf" >&2
    die "server at $url not ready after 10 s"
}

# Removes an image (manifest, then every blob it references) from a repository, so that the
# next push of the same image uploads every byte again instead of finding the blobs there.
# Credentials (berth only) come from the caller's array `auth` (curl arguments, maybe empty).
delete_image() {
    local base=$1 repo=$2 src=$3
    local mdigest code d
    mdigest=$(curl -fsS "${auth[@]}" -o /dev/null -D - -H "Accept: $OCI_MANIFEST" "$base/v2/$repo/manifests/1" |
        tr -d '\r' | awk 'tolower($1)=="docker-content-digest:" {print $2}')
    [[ -n $mdigest ]] || die "no Docker-Content-Digest for $repo:1 at $base"
    code=$(curl -sS "${auth[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$base/v2/$repo/manifests/$mdigest")
    [[ $code == 202 ]] || die "DELETE manifest $repo@$mdigest at $base: HTTP $code"
    for d in $(layout_layers "$src") $(python3 - "$src" <<'EOF'
import json, sys, os
d = sys.argv[1]
m = json.load(open(os.path.join(d, "index.json")))["manifests"][0]["digest"].split(":", 1)[1]
print(json.load(open(os.path.join(d, "blobs", "sha256", m)))["config"]["digest"])
EOF
    ); do
        code=$(curl -sS "${auth[@]}" -o /dev/null -w '%{http_code}' -X DELETE "$base/v2/$repo/blobs/$d")
        [[ $code == 202 ]] || die "DELETE blob $repo@$d at $base: HTTP $code"
        code=$(curl -sS "${auth[@]}" -o /dev/null -w '%{http_code}' -I "$base/v2/$repo/blobs/$d")
        [[ $code == 404 ]] || die "blob $repo@$d still there after DELETE at $base: HTTP $code"
    done
}

# Checks with curl that a manifest GET (extra curl arguments after the tag, e.g. an
# Authorization header) gives 200 and the OCI manifest, before wrk hammers it.
check_manifest() { # name url tag [curl args...]
    local name=$1 url=$2 tag=$3 code
    shift 3
    code=$(curl -sS "$@" -o "$work/$name/manifest-$tag.json" -w '%{http_code}' -H "Accept: $OCI_MANIFEST" "$url")
    [[ $code == 200 ]] || die "[$name] GET $url ($tag) gave HTTP $code: $(cat "$work/$name/manifest-$tag.json")"
    grep -q "$OCI_MANIFEST" "$work/$name/manifest-$tag.json" ||
        die "[$name] GET $url ($tag) did not return the OCI manifest"
}

# Runs wrk -t2 -c16 -d$WRK_DURATION with the given arguments against server_pid, saves its
# output in OUTFILE and stops the benchmark if wrk saw any non-2xx response or socket error.
# Sets wrk_out, wrk_rps (req/s) and wrk_cpu_per_1k (server CPU ms per 1,000 requests).
wrk_load() { # name server-log outfile [wrk args...] url
    local name=$1 logf=$2 outfile=$3 c0 c1 nreq
    shift 3
    c0=$(cpu_s "$server_pid")
    wrk_out=$(wrk -t2 -c16 -d"$WRK_DURATION" "$@") || die "[$name] wrk failed: wrk $*"
    c1=$(cpu_s "$server_pid")
    echo "$wrk_out" >"$outfile"
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' <<<"$wrk_out"; then
        echo "$wrk_out" >&2; tail -50 "$logf" >&2
        die "[$name] wrk saw errors (see above): wrk $*"
    fi
    wrk_rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$wrk_out")
    nreq=$(awk '/requests in/ {print $1}' <<<"$wrk_out")
    [[ -n $wrk_rps && -n $nreq && $nreq -gt 0 ]] || { echo "$wrk_out" >&2; die "[$name] cannot parse wrk output"; }
    wrk_cpu_per_1k=$(python3 -c "print(round(($c1 - $c0) * 1e6 / $nreq, 2))")
    log "[$name] wrk ${outfile##*/}: $(grep -E 'requests in' <<<"$wrk_out" | sed 's/^ *//'), $wrk_rps req/s"
}

# Credentials (berth only) come from the caller's array `skopeo_dest` (maybe empty).
push() { # src-layout dest-ref logfile
    skopeo copy --quiet --preserve-digests --dest-tls-verify=false "${skopeo_dest[@]}" \
        "oci:$1:img" "docker://$2" >>"$3" 2>&1
}

# ---------------------------------------------------------------------------------------------
# Test images, built once and pushed to both servers

log "building test images in $work"
python3 "$here/mkimage.py" "$work/big" img "$BIG_LAYERS" "$BIG_LAYER_MB" >"$work/big.json"
big_bytes=$(json_field "$work/big.json" total_bytes)
big_layer=$(json_field "$work/big.json" largest_layer)
big_layer_size=$(json_field "$work/big.json" largest_layer_size)
big_mb=$((big_bytes / 1000000))
layout_layers "$work/big" >"$work/big.layers"
par_bytes=0
for i in $(seq "$PAR_IMAGES"); do
    python3 "$here/mkimage.py" "$work/par$i" img 2 "$PAR_LAYER_MB" >"$work/par$i.json"
    par_bytes=$((par_bytes + $(json_field "$work/par$i.json" total_bytes)))
done
log "big image: $BIG_LAYERS layers, $big_bytes bytes; $PAR_IMAGES small images, $par_bytes bytes"

# ---------------------------------------------------------------------------------------------
# One server, all measurements

bench_server() {
    local name=$1 kind=$2
    local dir="$work/$name" port base logf
    mkdir -p "$dir/data"
    port=$(free_port)
    base="http://127.0.0.1:$port"
    logf="$dir/server.log"
    local skolog="$dir/skopeo.log"
    # Credentials for writes (and the authenticated reads of section 3): berth only.
    # `auth` is read by delete_image, `skopeo_dest` by push.
    local auth=() skopeo_dest=()

    log "[$name] starting on 127.0.0.1:$port"
    if [[ $kind == berth ]]; then
        auth=(-u "$ADMIN_USER:$ADMIN_PASSWORD")
        skopeo_dest=(--dest-creds "$ADMIN_USER:$ADMIN_PASSWORD")
        # A fresh data dir, so this is the first start: it creates `admin` with this password
        # and the public project `library`.
        BERTH_LOG=warn BERTH_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
            "$BERTH_BIN" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" \
            >"$logf" 2>&1 &
    else
        # As Debian's packaged /etc/docker/registry/config.yml (in-memory blob descriptor
        # cache, deletes on), without its htpasswd auth, logging only warnings.
        cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
EOF
        "$DIST_BIN" serve "$dir/config.yml" >"$logf" 2>&1 &
    fi
    server_pid=$!
    wait_ready "$base" "$server_pid" "$logf"
    local cpu_start
    cpu_start=$(cpu_s "$server_pid")
    sleep 2
    record "RSS idle, 2 s after start (MiB)" "$name" "$(python3 -c "print(round($(rss_kib "$server_pid")/1024,1))")"

    # 1. Big image push and pull, REPS times each.
    local push_times=() pull_times=() push_cpu=0 pull_cpu=0 t0 t1 c0 c1 i
    for i in $(seq "$REPS"); do
        if [[ $i -gt 1 ]]; then delete_image "$base" "$BIG_REPO" "$work/big"; fi
        c0=$(cpu_s "$server_pid"); t0=$(now)
        push "$work/big" "127.0.0.1:$port/$BIG_REPO:1" "$skolog" ||
            { tail -20 "$skolog" >&2; tail -50 "$logf" >&2; die "[$name] push of $BIG_REPO:1 (rep $i)"; }
        t1=$(now); c1=$(cpu_s "$server_pid")
        push_times+=("$(elapsed "$t0" "$t1")")
        push_cpu=$(python3 -c "print($push_cpu + $c1 - $c0)")
        curl -fsS -H "Accept: $OCI_MANIFEST" "$base/v2/$BIG_REPO/manifests/1" | manifest_layers >"$dir/pushed.layers" ||
            die "[$name] cannot read back $BIG_REPO:1"
        cmp -s "$work/big.layers" "$dir/pushed.layers" ||
            die "[$name] pushed layer digests differ from the source (skopeo recompressed?)"
    done
    log "[$name] push times: ${push_times[*]}"
    record "Push ${big_mb} MB image, median of $REPS (s, lower is better)" "$name" "$(median "${push_times[@]}")"
    record "Server CPU per GB pushed (s/GB, lower is better)" "$name" \
        "$(python3 -c "print(round($push_cpu / ($REPS * $big_bytes / 1e9), 2))")"

    for i in $(seq "$REPS"); do
        rm -rf "$dir/pull"
        c0=$(cpu_s "$server_pid"); t0=$(now)
        skopeo copy --quiet --preserve-digests --dest-oci-accept-uncompressed-layers \
            --src-tls-verify=false "docker://127.0.0.1:$port/$BIG_REPO:1" "oci:$dir/pull:x" >>"$skolog" 2>&1 ||
            { tail -20 "$skolog" >&2; tail -50 "$logf" >&2; die "[$name] pull of $BIG_REPO:1 (rep $i)"; }
        t1=$(now); c1=$(cpu_s "$server_pid")
        pull_times+=("$(elapsed "$t0" "$t1")")
        pull_cpu=$(python3 -c "print($pull_cpu + $c1 - $c0)")
        layout_layers "$dir/pull" >"$dir/pulled.layers"
        cmp -s "$work/big.layers" "$dir/pulled.layers" || die "[$name] pulled layer digests differ"
    done
    rm -rf "$dir/pull"
    log "[$name] pull times: ${pull_times[*]}"
    record "Pull ${big_mb} MB image, median of $REPS (s, lower is better)" "$name" "$(median "${pull_times[@]}")"
    record "Server CPU per GB pulled (s/GB, lower is better)" "$name" \
        "$(python3 -c "print(round($pull_cpu / ($REPS * $big_bytes / 1e9), 2))")"

    # 2. PAR_IMAGES concurrent pushes to different repositories, REPS times.
    local par_times=() pids=() j rc
    for i in $(seq "$REPS"); do
        if [[ $i -gt 1 ]]; then
            for j in $(seq "$PAR_IMAGES"); do delete_image "$base" "$PAR_REPO$j" "$work/par$j"; done
        fi
        pids=()
        t0=$(now)
        for j in $(seq "$PAR_IMAGES"); do
            push "$work/par$j" "127.0.0.1:$port/$PAR_REPO$j:1" "$dir/par$j.log" &
            pids+=($!)
        done
        rc=0
        for j in "${!pids[@]}"; do wait "${pids[$j]}" || rc=$((j + 1)); done
        t1=$(now)
        if [[ $rc -ne 0 ]]; then
            tail -20 "$dir/par$rc.log" >&2; tail -50 "$logf" >&2
            die "[$name] concurrent push of $PAR_REPO$rc:1 failed (rep $i)"
        fi
        par_times+=("$(elapsed "$t0" "$t1")")
        for j in $(seq "$PAR_IMAGES"); do
            curl -fsS -H "Accept: $OCI_MANIFEST" "$base/v2/$PAR_REPO$j/manifests/1" | manifest_layers >"$dir/par.layers"
            layout_layers "$work/par$j" | cmp -s - "$dir/par.layers" ||
                die "[$name] $PAR_REPO$j:1 layer digests differ from the source"
        done
    done
    log "[$name] $PAR_IMAGES-way concurrent push times: ${par_times[*]}"
    record "$PAR_IMAGES concurrent pushes, 2×${PAR_LAYER_MB} MB each, median of $REPS (s, lower is better)" "$name" "$(median "${par_times[@]}")"

    # 3. Manifest GET requests per second: anonymously on both servers (berth's `library` is
    # public), and on berth also with a registry token (Bearer) and with Basic credentials.
    local url="$base/v2/$BIG_REPO/manifests/1" code out
    local basic_hdr="Authorization: Basic $(printf '%s:%s' "$ADMIN_USER" "$ADMIN_PASSWORD" | base64 -w0)"
    check_manifest "$name" "$url" anon
    wrk_load "$name" "$logf" "$dir/wrk-manifest-anon.txt" --latency -H "Accept: $OCI_MANIFEST" "$url"
    out=$wrk_out
    record "Manifest GET anonymous (wrk -t2 -c16 -d$WRK_DURATION, req/s, higher is better)" "$name" "$wrk_rps"
    record "Server CPU per 1,000 manifest GETs, anonymous (ms, lower is better)" "$name" "$wrk_cpu_per_1k"
    local pct
    for pct in 50 99; do
        record "Manifest GET anonymous, p$pct latency under that load (ms)" "$name" \
            "$(awk -v p="$pct%" '$1==p {print $2}' <<<"$out" | to_ms)"
    done
    if [[ $kind == berth ]]; then
        # A pull token for the repository, fetched as the admin (valid 30 minutes).
        local token
        token=$(curl -fsS "${auth[@]}" \
            "$base/service/token?service=harbor-registry&scope=repository:$BIG_REPO:pull" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') ||
            die "[$name] could not get a registry token from $base/service/token"
        [[ -n $token ]] || die "[$name] empty registry token"
        check_manifest "$name" "$url" bearer -H "Authorization: Bearer $token"
        wrk_load "$name" "$logf" "$dir/wrk-manifest-bearer.txt" --latency -H "Accept: $OCI_MANIFEST" \
            -H "Authorization: Bearer $token" "$url"
        record "Manifest GET with Bearer token (same load, req/s, higher is better)" "$name" "$wrk_rps"
        note_ref "Manifest GET with Bearer token (same load, req/s, higher is better)" \
            "Manifest GET anonymous (wrk -t2 -c16 -d$WRK_DURATION, req/s, higher is better)"
        record "Server CPU per 1,000 manifest GETs, Bearer (ms, lower is better)" "$name" "$wrk_cpu_per_1k"
        note_ref "Server CPU per 1,000 manifest GETs, Bearer (ms, lower is better)" \
            "Server CPU per 1,000 manifest GETs, anonymous (ms, lower is better)"

        check_manifest "$name" "$url" basic -H "$basic_hdr"
        wrk_load "$name" "$logf" "$dir/wrk-manifest-basic.txt" --latency -H "Accept: $OCI_MANIFEST" \
            -H "$basic_hdr" "$url"
        record "Manifest GET with Basic auth (same load, req/s, higher is better)" "$name" "$wrk_rps"
        note_ref "Manifest GET with Basic auth (same load, req/s, higher is better)" \
            "Manifest GET anonymous (wrk -t2 -c16 -d$WRK_DURATION, req/s, higher is better)"
        record "Server CPU per 1,000 manifest GETs, Basic (ms, lower is better)" "$name" "$wrk_cpu_per_1k"
        note_ref "Server CPU per 1,000 manifest GETs, Basic (ms, lower is better)" \
            "Server CPU per 1,000 manifest GETs, anonymous (ms, lower is better)"
    fi

    # Same load on the trivial version-check endpoint: the cost of the HTTP stack alone, to
    # tell it apart from the cost of looking the manifest up. berth answers an anonymous
    # GET /v2/ with a 401 challenge (as Harbor and Docker Hub do), so it gets Basic credentials.
    local base_hdr=()
    [[ $kind == berth ]] && base_hdr=(-H "$basic_hdr")
    code=$(curl -sS "${base_hdr[@]}" -o /dev/null -w '%{http_code}' "$base/v2/")
    [[ $code == 200 ]] || die "[$name] GET $base/v2/ gave HTTP $code"
    wrk_load "$name" "$logf" "$dir/wrk-base.txt" "${base_hdr[@]}" "$base/v2/"
    record "GET /v2/ baseline (same wrk load, req/s, higher is better; berth with Basic auth)" "$name" "$wrk_rps"

    # 4. Blob GET throughput.
    local blob_times=() w
    for i in $(seq "$BLOB_REPS"); do
        w=$(curl -sS -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
            "$base/v2/$BIG_REPO/blobs/$big_layer")
        read -r code size t <<<"$w"
        [[ $code == 200 ]] || die "[$name] blob GET gave HTTP $code"
        [[ $size == "$big_layer_size" ]] || die "[$name] blob GET returned $size bytes, not $big_layer_size"
        blob_times+=("$t")
    done
    log "[$name] blob GET times: ${blob_times[*]}"
    record "Blob GET of the ${big_layer_size}-byte layer, median of $BLOB_REPS (MB/s, higher is better)" "$name" \
        "$(python3 -c "print(round($big_layer_size / 1e6 / $(median "${blob_times[@]}"), 1))")"

    # 5. Resources after all the load.
    record "RSS after the load (MiB)" "$name" "$(python3 -c "print(round($(rss_kib "$server_pid")/1024,1))")"
    record "Peak RSS, VmHWM (MiB)" "$name" "$(python3 -c "print(round($(hwm_kib "$server_pid")/1024,1))")"
    record "Server CPU over the whole run (s; includes the wrk phase, whose request count differs)" "$name" \
        "$(python3 -c "print(round($(cpu_s "$server_pid") - $cpu_start, 2))")"

    # distribution logs every 4xx (e.g. skopeo's HEAD probes for blobs not yet pushed) at
    # level=error; those are expected and left out here.
    local bad
    bad=$(grep -iE 'error|warn|panic|fatal' "$logf" | grep -v 'http.response.status=404' || true)
    if [[ -n $bad ]]; then
        log "[$name] server log has errors or warnings (first 20 lines):"
        head -20 <<<"$bad" >&2
    fi
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    du -sb "$dir/data" | awk -v n="$name" '{printf "bench: [%s] data dir holds %d bytes\n", n, $1}' >&2
}

for server in ${ORDER:-berth distribution}; do
    bench_server "$server" "$server"
done

# ---------------------------------------------------------------------------------------------
# Report

dist_version=$("$DIST_BIN" --version 2>/dev/null | awk '{print $NF}')
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
echo
echo "## Machine"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- CPUs (nproc): $(nproc), model: ${cpu_model:-unknown}"
echo "- kernel: $(uname -sr)"
echo "- memory: $(awk '/^MemTotal:/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "- berth: $("$BERTH_BIN" --version 2>/dev/null) ($BERTH_BIN, embedded SQLite)"
echo "- distribution: $dist_version ($DIST_BIN, filesystem storage)"
echo "- skopeo: $(skopeo --version | awk '{print $3}'), wrk, curl $(curl --version | awk 'NR==1 {print $2}')"
echo
echo "## Results"
echo
python3 "$here/report.py" "$results" "${dist_version%%+*}"
