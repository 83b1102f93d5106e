#!/usr/bin/env bash
# Modbus TCP benchmark (issue 3), in one run on 127.0.0.1:
#  1. request rate, FC03 reads of 10 holding registers, unit 1, one connection, <seconds> per row, against two servers:
#     the pymodbus 3.0.0rc1 TCP server (the peer) and our slave (a separate process); clients, one after the other:
#     the pymodbus sync client, our master with 1 in flight and with each N of <in-flight> (pipelined on one socket).
#     Prints req/s, client CPU per request, the server's CPU while that client ran (warm-up included) and the ratio
#     ours / pymodbus client against the same server.
#  2. CPU per 10,000 registers polled per second: our ModbusPoller (5,000 Float32 tags = 81 blocks of <=124 registers,
#     one cycle a second; one block at a time as the collector polls, and with 8 blocks pipelined) and a pymodbus client reading and decoding the same blocks on the same schedule, each from
#     our slave for <poll-seconds>; prints the collector-side CPU (user+sys of the polling process / wall time).
# Usage: bash bench/modbus.sh [seconds=5] [in-flight=8,32] [poll-seconds=30]
# Needs /usr/bin/python3 with Debian's python3-pymodbus (3.0.0rc1), as the Modbus tests do.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}; inflight=${2:-8,32}; poll_seconds=${3:-30}
registers=10; poll_registers=10000
python=/usr/bin/python3
peers=tests/EdgeCollector.Modbus.Tests/peers
work=$(mktemp -d)
pyserver=""; ourslave=""
cleanup() {
    exec 3>&- 2>/dev/null || true
    for pid in $pyserver $ourslave; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

dotnet build bench/modbus -c Release -v q -nologo >/dev/null
dll=bench/modbus/bin/Release/net10.0/EdgeCollector.Bench.Modbus.dll

wait_port() {  # wait_port <log>: the port printed as "LISTENING <port>"
    for _ in $(seq 1 300); do grep -q '^LISTENING ' "$1" && break; sleep 0.1; done
    grep -q '^LISTENING ' "$1" || { cat "$1" >&2; exit 1; }
    awk '/^LISTENING / {print $2; exit}' "$1"
}

# The peer server: registers 0..9 of unit 1 hold 0..9 (the clients check register 9).
$python - "$poll_registers" > "$work/pymodbus.json" <<'PY'
import json, sys
points = [{"area": "hr", "address": i, "type": "uint16", "order": "ABCD", "value": i} for i in range(10)]
print(json.dumps({"mode": "tcp", "port": 0, "units": {"1": {"size": int(sys.argv[1]), "points": points, "bits": []}}}))
PY
$python "$peers/pymodbus_server.py" "$work/pymodbus.json" > "$work/pyserver.log" 2>&1 & pyserver=$!
pyport=$(wait_port "$work/pyserver.log")

# Our slave, in its own process; it serves until its stdin closes. Register i holds i.
mkfifo "$work/slave.stdin"
dotnet "$dll" slave "$poll_registers" < "$work/slave.stdin" > "$work/slave.log" 2>&1 & ourslave=$!
exec 3> "$work/slave.stdin"
ourport=$(wait_port "$work/slave.log")

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
served() {  # served <name> <server pid> <command…>: the server's CPU (% of one core) while the client ran, from its warm-up on
    local name=$1 spid=$2; shift 2
    local t0 w0; t0=$(ticks "$spid"); w0=$(date +%s.%N)
    "$@"
    echo "$(( $(ticks "$spid") - t0 )) $(date +%s.%N) $w0 $(getconf CLK_TCK)" > "$work/$name.server"
}
field() { sed -n "s/.*[ ]$1=\\([^ ]*\\).*/\\1/p" "$2"; }
run() {  # run <name> <command…>: one client; its RESULT line is kept in $work/<name>.out
    local name=$1; shift
    "$@" > "$work/$name.out" 2> "$work/$name.err" || { echo "$name failed:" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
    grep -q '^RESULT' "$work/$name.out" || { echo "$name printed no RESULT:" >&2; cat "$work/$name.out" "$work/$name.err" >&2; exit 1; }
}

echo "Modbus TCP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, .NET $(dotnet --version), $($python -c 'import pymodbus; print("pymodbus", pymodbus.__version__)'), Python $($python -c 'import platform; print(platform.python_version())')"
echo "request rate: FC03 x$registers registers, unit 1, 127.0.0.1, one connection, $seconds s per row (after a warm-up)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
IFS=',' read -r -a windows <<< "$inflight"
rows=()
for server in pymodbus ours; do
    if [ "$server" = pymodbus ]; then port=$pyport; else port=$ourport; fi
    if [ "$server" = pymodbus ]; then spid=$pyserver; else spid=$ourslave; fi
    served "$server-py" "$spid" run "$server-py" $python bench/modbus/pymodbus_client.py rate "$port" "$seconds" "$registers"
    rows+=("$server py pymodbus-sync-client")
    for n in 1 "${windows[@]}"; do
        served "$server-ours$n" "$spid" run "$server-ours$n" dotnet "$dll" master "$port" "$seconds" "$n" "$registers"
        rows+=("$server ours$n master-$n")
    done
done
echo "load average after the request-rate rows: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| server | client | req/s | client CPU µs per request | server CPU, % of one core | ours / pymodbus client |"
echo "|---|---|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
    read -r server key label <<< "$row"
    out="$work/$server-$key.out"; ref="$work/$server-py.out"
    $python - "$server" "$label" "$(field requests "$out")" "$(field seconds "$out")" "$(field cpu "$out")" \
        "$(field requests "$ref")" "$(field seconds "$ref")" $(cat "$work/$server-$key.server") <<'PY'
import sys
server, label, n, s, cpu, rn, rs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
sticks, w1, w0, hz = int(sys.argv[8]), float(sys.argv[9]), float(sys.argv[10]), int(sys.argv[11])
server_cpu = 100 * sticks / hz / (w1 - w0)
servers = {"pymodbus": "pymodbus 3.0.0rc1 server", "ours": "our slave (ModbusTcpSlave)"}
if label.startswith("master-"):
    k = label.split("-", 1)[1]
    client = f"our master, {k} in flight"
else:
    client = "pymodbus sync client"
rate, ref = n / s, rn / rs
ratio = "" if client.startswith("pymodbus") else f"{rate / ref:.2f}×"
print(f"| {servers[server]} | {client} | {rate:,.0f} | {1e6 * cpu / n:.1f} | {server_cpu:.0f} % | {ratio} |")
PY
done

echo
echo "polling: $poll_registers holding registers ($((poll_registers / 2)) Float32 tags, blocks of <=124 registers: 125 would split a pair) once a second from our slave, $poll_seconds s each"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run poll-ours dotnet "$dll" poll "$ourport" "$poll_registers" "$poll_seconds" 1000 1
run poll-ours8 dotnet "$dll" poll "$ourport" "$poll_registers" "$poll_seconds" 1000 8
run poll-py $python bench/modbus/pymodbus_client.py poll "$ourport" "$poll_registers" "$poll_seconds"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| poller | blocks per cycle | cycles | registers/s | values decoded | CPU s in window | CPU % of one core | CPU % of one core per 10,000 registers/s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for name in poll-ours poll-ours8 poll-py; do
    out="$work/$name.out"
    $python - "$name" "$poll_registers" "$(field blocks "$out")" "$(field cycles "$out")" "$(field samples "$out")" "$(field seconds "$out")" "$(field cpu "$out")" <<'PY'
import sys
name, regs, blocks, cycles, samples, s, cpu = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
label = {"poll-ours": "ours (ModbusPoller, 5,000 Float32 tags, 1 in flight: the collector's default)",
         "poll-ours8": "ours, MaxInFlight 8 (blocks pipelined)",
         "poll-py": "pymodbus sync client + struct.unpack"}[name]
rate = cycles * regs / s
pct = 100 * cpu / s
print(f"| {label} | {blocks} | {cycles} | {rate:,.0f} | {samples:,} | {cpu:.2f} | {pct:.2f} % | {pct * 10000 / rate:.2f} % |")
PY
done
