#!/usr/bin/env bash
# berth's RSS when many requests with the same Basic credentials miss the 30 s login cache at
# once (see docs/benchmarks.md, "Peak RSS in the core benchmark"). Starts BIN on a fresh data
# dir, sends one Basic token request, then twice (31 s apart, so the cached login has expired)
# N concurrent ones, and prints VmRSS / VmHWM (KiB; VmHWM reset before each burst).
#   bench/basic_burst.sh /path/to/berth [N=8]
set -u
BIN=$1; N=${2:-8}
d=$(mktemp -d /tmp/berth-burst.XXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BERTH_LOG=warn BERTH_ADMIN_PASSWORD=Bench-Admin-12345 "$BIN" serve --listen 127.0.0.1:$port --data-dir $d/data >$d/log 2>&1 &
pid=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$port/v2/ && break; sleep 0.1; done
sleep 1
st() { printf '%s: RSS %s HWM %s threads %s\n' "$1" $(awk '/^VmRSS/{print $2}' /proc/$pid/status) $(awk '/^VmHWM/{print $2}' /proc/$pid/status) $(awk '/^Threads/{print $2}' /proc/$pid/status); }
tok() { curl -s -o /dev/null -u admin:Bench-Admin-12345 "http://127.0.0.1:$port/service/token?service=harbor-registry&scope=repository:library/x:pull"; }
st idle; reset() { echo 5 > /proc/$pid/clear_refs; }
tok; st "after 1st Basic token request"
tok; st "after a 2nd (cached)"
sleep 31; reset
pids=(); for i in $(seq $N); do tok & pids+=($!); done; wait "${pids[@]}"
st "after $N concurrent Basic token requests, cache expired"
sleep 31; reset
pids=(); for i in $(seq $N); do tok & pids+=($!); done; wait "${pids[@]}"
st "after $N more, cache expired again"
kill $pid; wait $pid 2>/dev/null; rm -rf $d
