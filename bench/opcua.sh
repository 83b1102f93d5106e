#!/usr/bin/env bash
# OPC UA subscription benchmark (issue 5): one node-opcua server with <items> Double variables that all change
# every second; the node-opcua client and then our client (UaClient, bench/EdgeCollector.Benchmarks opcua-subscribe)
# each subscribe to all of them (publishing 1000 ms, sampling 1000 ms, queue 1), wait <warmup> seconds, then count
# for <seconds>, one after the other, against the same server in the same run. Prints notifications, CPU (user+sys)
# of the counting window, of the warm-up before it and of the whole process, and peak RSS of each client.
# Usage: bash bench/opcua.sh [items=10000] [seconds=60] [warmup=90]
# Needs /usr/bin/time (Debian package "time") and node-opcua in tests/peers/node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}; seconds=${2:-60}; warmup=${3:-90}
work=$(mktemp -d)
server=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

dotnet build bench/EdgeCollector.Benchmarks -c Release -v q -nologo >/dev/null
dll=bench/EdgeCollector.Benchmarks/bin/Release/net10.0/EdgeCollector.Benchmarks.dll

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkfifo "$work/server.stdin"
node bench/opcua/server.js "$port" "$items" < "$work/server.stdin" > "$work/server.log" 2>&1 & server=$!
exec 3> "$work/server.stdin"   # the server exits when this closes
for _ in $(seq 1 600); do grep -q '^READY' "$work/server.log" && break; sleep 0.1; done
grep -q '^READY' "$work/server.log" || { cat "$work/server.log" >&2; exit 1; }
url=$(awk '/^READY/ {print $2}' "$work/server.log")
sleep 2   # let the first value cycles run before the first client connects

ticks=$(getconf CLK_TCK)
proc_cpu() { awk -v t="$ticks" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / t }' "/proc/$1/stat"; }
field() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" "$2"; }
timev() { awk -F': ' -v k="$1" '$1 ~ k {print $2}' "$2"; }

run() {  # run <name> <command…>: one client under /usr/bin/time -v, with the server's CPU over the same span
    local name=$1; shift
    local s0 s1 t0
    s0=$(proc_cpu "$server"); t0=$(grep -c '^TICK' "$work/server.log" || true)
    /usr/bin/time -v -o "$work/$name.time" "$@" > "$work/$name.out" 2> "$work/$name.err" || { echo "$name failed:" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
    s1=$(proc_cpu "$server")
    grep -q '^RESULT' "$work/$name.out" || { echo "$name printed no RESULT:" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
    python3 -c "print(f'{float(\"$s1\") - float(\"$s0\"):.2f} $(( $(grep -c '^TICK' "$work/server.log") - t0 ))')" > "$work/$name.server"
}

echo "OPC UA subscription benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, node $(node --version), node-opcua $(node -p "require('./tests/peers/node_modules/node-opcua/package.json').version"), .NET $(dotnet --version)"
echo "server: node-opcua at $url, $items Double variables changing every 1 s; each client: 1 subscription, publishing 1000 ms, $items items sampling 1000 ms, queue 1, $warmup s warm-up, then counted for $seconds s"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run node node bench/opcua/client.js "$url" "$items" "$seconds" "$warmup"
echo "load average after node-opcua client: $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 3
run ours dotnet "$dll" opcua-subscribe "$url" "$items" "$seconds" "--warmup=$warmup"
echo "load average after our client: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work" "$items" "$seconds" "$warmup" <<'PY'
import re, sys
work, items, seconds, warmup = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
def load(name):
    out = open(f"{work}/{name}.out").read()
    res = dict(re.findall(r"(\w+)=(\S+)", out.split("RESULT", 1)[1].splitlines()[0]))
    sub = re.search(r"^SUBSCRIBED (\d+) (\d+)", out, re.M)
    tv = {}
    for line in open(f"{work}/{name}.time"):
        k, _, v = line.strip().partition(": ")
        tv[k] = v
    total = float(tv["User time (seconds)"]) + float(tv["System time (seconds)"])
    return {
        "n": int(res["notifications"]), "cpu": float(res["cpu"]), "warm": float(res["warmup_cpu"]), "total": total,
        "rss": int(tv["Maximum resident set size (kbytes)"]) / 1024, "setup": int(sub.group(2)), "subscribed": int(sub.group(1)),
        "server": float(open(f"{work}/{name}.server").read().split()[0]), "ticks": int(open(f"{work}/{name}.server").read().split()[1]),
        "missed": int(res["missed"]), "repeated": int(res["repeated"]), "extra": {k: v for k, v in res.items() if k in ("unmatched", "rejected", "gaps", "reconnects")},
    }
rows = {"node-opcua client": load("node"), "ours (UaClient)": load("ours")}
expected = int(items * seconds)
print()
print(f"| client | notifications in {seconds:g} s (of {items:,} × {seconds:g} s) | changes missed / repeated | CPU s in window | CPU % of one core | CPU s in {warmup:g} s warm-up | CPU s whole process | peak RSS MB | setup ms | server: ticks, CPU s during the client's process |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for name, r in rows.items():
    print(f"| {name} | {r['n']:,} ({100 * r['n'] / expected:.1f} %) | {r['missed']} / {r['repeated']} | {r['cpu']:.2f} | {100 * r['cpu'] / seconds:.1f} % | {r['warm']:.2f} | {r['total']:.2f} | {r['rss']:.0f} | {r['setup']:,} | {r['ticks']}, {r['server']:.2f} |")
n, o = rows["node-opcua client"], rows["ours (UaClient)"]
ratio = o["cpu"] / n["cpu"]
print()
print(f"ours / node-opcua: CPU in window {ratio:.2f}, CPU warm-up + window {(o['warm'] + o['cpu']) / (n['warm'] + n['cpu']):.2f}, CPU whole process {o['total'] / n['total']:.2f}, peak RSS {o['rss'] / n['rss']:.2f}; per 1,000 notifications in window: ours {1000 * o['cpu'] / max(1, o['n']) * 1000:.1f} ms, node-opcua {1000 * n['cpu'] / max(1, n['n']) * 1000:.1f} ms")
print(f"ours: {o['extra']}")
print(f"goal (ours <= 1/5 of node-opcua's CPU): {'met' if ratio <= 0.2 else 'NOT met'} ({ratio:.2f})")
PY
