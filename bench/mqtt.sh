#!/usr/bin/env bash
# QoS 1 publish rate to one mosquitto on loopback, in one run: our client (direct, window 64, v5 and v3.1.1), mqtt.js (v5 and
# v3.1.1, window 64: bench/mqtt/mqttjs-publish.js; needs `npm install` in tests/peers), mosquitto_pub (v3.1.1 and
# v5) as the peer, and our client through the durable SQLite outbox (concurrent single enqueues and 500-message
# batches, as the collector hands them over).
#
# Every row is checked against the broker's own count ($SYS/broker/publish/messages/received, sys_interval 1): a
# publisher that claims N messages but delivered fewer is flagged, not reported as fast.
# mosquitto_pub 2.0.11 -l publishes only N - 65,515 of N > 65,535 input lines (then DISCONNECTs; seen here with 70k,
# 80k and 100k lines), so it is fed in chunks of at most 50,000 lines, one process each, and the chunks' wall clocks
# (process start and connect included) are added up.
# Our client and mqtt.js first publish 10,000 untimed messages on the same connection, the same way as the timed ones
# (JIT / V8 warm-up; the figure is the steady rate a long-running service sees; 1,000 for the one-at-a-time outbox
# row); ours is also shown by wall clock including process start, connect and the warm-up. mosquitto_pub (C) is timed whole, process start and connect included.
# mosquitto announces Receive Maximum 20 in its v5 CONNACK: our client (v5) and mosquitto_pub -V 5 keep at most 20
# in flight; mqtt.js does not apply it, so it really keeps 64; in v3.1.1 our client and mqtt.js keep 64 and
# mosquitto_pub -V 311 keeps its own 20.
# Usage: bash bench/mqtt.sh [messages=100000] [payload-bytes=100]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}; size=${2:-100}; warmup=10000
work=$(mktemp -d); trap 'kill $broker 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nmax_queued_messages 0\nsys_interval 1\n' "$port" > "$work/m.conf"
/usr/sbin/mosquitto -c "$work/m.conf" >/dev/null 2>&1 & broker=$!
sleep 0.5
dotnet build tests/EdgeCollector.Mqtt.Tests -c Release -v q -nologo >/dev/null
dll=tests/EdgeCollector.Mqtt.Tests/bin/Release/net10.0/EdgeCollector.Mqtt.Tests.dll
python3 -c "import sys; sys.stdout.write(('x' * $size + '\\n') * $count)" > "$work/lines"
chunk=50000
split -l "$chunk" "$work/lines" "$work/chunk."
rate() { python3 -c "import sys; print(f'{int(sys.argv[1])/float(sys.argv[2]):,.0f} msg/s ({float(sys.argv[2]):.2f} s)')" "$1" "$2"; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print($e-$s)"; }
# The broker's CPU time so far (user + system, ms), to show what each row costs the broker.
brokercpu() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$broker/stat"; }
# The broker's count of PUBLISH packets received ($SYS, refreshed every second, later when the broker is busy).
received() { mosquitto_sub -p "$port" -t '$SYS/broker/publish/messages/received' -C 1 -W 5; }
sleep 1.5; last=$(received); cpu0=$(brokercpu)
# The broker's verdict on the row just run, in $verdict: waits (up to 8 s) until the broker's count has grown by what
# the row claims; a row that delivered fewer is flagged.
check() {
  local now n deadline=$((SECONDS + 8))
  while :; do now=$(received); n=$((now - last)); [ "$n" -ge "$1" ] || [ "$SECONDS" -ge "$deadline" ] && break; sleep 0.5; done
  last=$now
  if [ "$n" -eq "$1" ]; then verdict="broker counted $n"; else verdict="BROKER COUNTED $n OF $1 CLAIMED: row invalid"; fi
  # Broker CPU per message in this row (warm-up included), and the rate that would keep one core fully busy.
  local cpu1; cpu1=$(brokercpu)
  verdict="$verdict, broker CPU $(python3 -c "c=$cpu1-$cpu0; n=max($n,1); print(f'{c} ms = {c*1000/n:.1f} us/msg (one core: {n/c*1000 if c else 0:,.0f} msg/s at most)')")"
  cpu0=$cpu1
}
echo "QoS 1, $count messages of $size bytes, mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$port; $(uptime | sed 's/.*load/load/')"
# ours [--v311] <count> <warm-up> [outbox-dir mode n]
ours() { local v=""; [ "$1" = --v311 ] && { v=--v311; shift; }; local n=$1 w=$2 s e out; shift 2; s=$(date +%s.%N); out=$(dotnet "$dll" bench $v "$port" "$n" "$size" 64 "$w" "$@"); e=$(date +%s.%N); echo "$out; wall clock incl. process start, connect and warm-up $(rate $((n + w)) "$(python3 -c "print($e-$s)")")"; }
r=$(ours "$count" "$warmup"); check $((count + warmup)); echo "ours v5, direct, window 64 (20 after the broker's Receive Maximum): $r; $verdict"
r=$(ours --v311 "$count" "$warmup"); check $((count + warmup)); echo "ours v3.1.1, direct, window 64: $r; $verdict"
[ -d tests/peers/node_modules/mqtt ] || { echo "mqtt.js missing: cd tests/peers && npm install" >&2; exit 1; }
mqttjs() { rate "$count" "$(node bench/mqtt/mqttjs-publish.js "$port" "$count" "$size" 64 "$1" "$warmup")"; }
r=$(mqttjs 5); check $((count + warmup)); echo "mqtt.js $(node -p "require('./tests/peers/node_modules/mqtt/package.json').version") v5, window 64:      $r; $verdict"
r=$(mqttjs 4); check $((count + warmup)); echo "mqtt.js v3.1.1, window 64:      $r; $verdict"
mospub() { local total=0 t f; for f in "$work"/chunk.*; do t=$(timeit sh -c "mosquitto_pub -V $1 -p $port -t bench/pub -q 1 -l < $f"); total=$(python3 -c "print($total+$t)"); done; rate "$count" "$total"; }
r=$(mospub mqttv311); check "$count"; echo "mosquitto_pub -V 311 -l:        $r; $verdict"
r=$(mospub mqttv5); check "$count"; echo "mosquitto_pub -V 5 -l:          $r; $verdict"
small=$((count / 5))
r=$(ours "$small" "$warmup" "$work/outbox1" concurrent 500); check $((small + warmup)); echo "ours, outbox, 500 producers:    $r; $verdict"
r=$(ours "$small" "$warmup" "$work/outbox2" batch 500); check $((small + warmup)); echo "ours, outbox, batches of 500:   $r; $verdict"
r=$(ours 5000 1000 "$work/outbox3" sequential 1); check 6000; echo "ours, outbox, one enqueue at a time (5,000): $r; $verdict"
