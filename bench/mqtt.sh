#!/usr/bin/env bash
# QoS 1 publish rate to one mosquitto on loopback, in one run: our client (EdgeCollector.Mqtt, v5 and v3.1.1), mqtt.js
# (bench/mqtt/mqttjs-publish.js; needs `npm install` in tests/peers) and mosquitto_pub (v5 and v3.1.1) as the peers,
# our client through the durable SQLite outbox, and the broker's own ceiling.
#
# Two broker configurations, every publisher of a configuration against the same broker and with the same window
# (QoS 1 messages awaiting PUBACK; mqtt.js and mosquitto_pub -M take it as a setting):
#   A. mosquitto's defaults (max_inflight_messages 20, which mosquitto 2.0.11 announces as its v5 Receive Maximum):
#      v5 rows with 20 in flight (ours takes it from CONNACK, the peers are given 20); v3.1.1 rows (no Receive Maximum)
#      with 64 (our default MaxInFlight) and with $big (default 4,000) in flight for every publisher.
#   B. max_inflight_messages $big (Receive Maximum $big): v5 rows with $big in flight for every publisher, and the
#      ceiling: several publishers in parallel (4 mosquitto_pub with their default window; 2 and 4 of our processes,
#      timed parts started together), 200,000 messages over the wall clock from the first timed message to the last
#      PUBACK: what this broker accepts on this machine (which has 2 cores for the broker and all publishers).
#
# Every row is checked against the broker's own count ($SYS/broker/publish/messages/received, sys_interval 1): a
# publisher that claims N messages but delivered fewer is flagged, not reported as fast. Each row also shows the
# broker's CPU per message (from /proc/<broker>/stat) and the publisher's own CPU per message (ours and mqtt.js over
# the timed part; mosquitto_pub over its whole process).
# mosquitto_pub 2.0.11 -l publishes only N - 65,515 of N > 65,535 input lines (then DISCONNECTs; seen here with 70k,
# 80k and 100k lines), so it is fed in chunks of at most 50,000 lines, one process each, and the chunks' wall clocks
# (process start and connect included) are added up.
# Our client and mqtt.js first publish 10,000 untimed messages on the same connection, the same way as the timed ones
# (JIT / V8 warm-up; the figure is the steady rate a long-running service sees; 1,000 for the one-at-a-time outbox
# row); ours is also shown by wall clock including process start, connect and the warm-up. mosquitto_pub (C) is timed
# whole, process start and connect included.
# Usage: bash bench/mqtt.sh [messages=100000] [payload-bytes=100] [large-window=4000]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}; size=${2:-100}; big=${3:-4000}; warmup=10000
work=$(mktemp -d); broker=""
trap '[ -n "$broker" ] && kill "$broker" 2>/dev/null; rm -rf "$work"' EXIT
dotnet build tests/EdgeCollector.Mqtt.Tests -c Release -v q -nologo >/dev/null
dll=tests/EdgeCollector.Mqtt.Tests/bin/Release/net10.0/EdgeCollector.Mqtt.Tests.dll
[ -d tests/peers/node_modules/mqtt ] || { echo "mqtt.js missing: cd tests/peers && npm install" >&2; exit 1; }
python3 -c "import sys; sys.stdout.write(('x' * $size + '\\n') * $count)" > "$work/lines"
split -l 50000 "$work/lines" "$work/chunk."
python3 -c "import sys; sys.stdout.write(('x' * $size + '\\n') * 50000)" > "$work/quarter"
py() { python3 -c "$@"; }
rate() { py "import sys; print(f'{int(sys.argv[1])/float(sys.argv[2]):,.0f} msg/s ({float(sys.argv[2]):.2f} s)')" "$1" "$2"; }
now() { date +%s.%N; }
# The broker's CPU time so far (user + system, ms), to show what each row costs the broker.
brokercpu() { awk -v hz="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / hz)}' "/proc/$broker/stat"; }
# The broker's count of PUBLISH packets received ($SYS, refreshed every second, later when the broker is busy).
received() { mosquitto_sub -p "$port" -t '$SYS/broker/publish/messages/received' -C 1 -W 5; }

# start_broker <label> [extra mosquitto.conf lines]: (re)starts the one broker of this part of the run.
start_broker() {
  if [ -n "$broker" ]; then kill "$broker"; wait "$broker" 2>/dev/null || true; fi
  port=$(py 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nmax_queued_messages 0\nsys_interval 1\n%s\n' "$port" "${2:-}" > "$work/m.conf"
  /usr/sbin/mosquitto -c "$work/m.conf" >/dev/null 2>&1 & broker=$!
  sleep 2; last=$(received); cpu0=$(brokercpu)
  echo "== broker config $1 (mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$port${2:+, $2}); $(uptime | sed 's/.*load/load/')"
}

# The broker's verdict on the row just run, in $verdict: waits (up to 8 s) until the broker's count has grown by what
# the row claims; a row that delivered fewer is flagged.
check() {
  local now n deadline=$((SECONDS + 8))
  while :; do now=$(received); n=$((now - last)); [ "$n" -ge "$1" ] || [ "$SECONDS" -ge "$deadline" ] && break; sleep 0.5; done
  last=$now
  if [ "$n" -eq "$1" ]; then verdict="broker counted $n"; else verdict="BROKER COUNTED $n OF $1 CLAIMED: row invalid"; fi
  # Broker CPU per message in this row (warm-up included), and the rate that would keep one core fully busy.
  local cpu1; cpu1=$(brokercpu)
  verdict="$verdict, broker CPU $(py "c=$cpu1-$cpu0; n=max($n,1); print(f'{c} ms = {c*1000/n:.1f} us/msg (one core: {n/c*1000 if c else 0:,.0f} msg/s at most)')")"
  cpu0=$cpu1
}

# ours [--v311] <window> <count> <warm-up> [outbox-dir mode n]
ours() {
  local v=""; [ "$1" = --v311 ] && { v=--v311; shift; }
  local w=$1 n=$2 u=$3 s e out; shift 3
  s=$(now); out=$(dotnet "$dll" bench $v "$port" "$n" "$size" "$w" "$u" "$@"); e=$(now)
  echo "$out; wall clock incl. process start, connect and warm-up $(rate $((n + u)) "$(py "print($e-$s)")")"
}
# mqttjs <protocol version 5|4> <window>
mqttjs() {
  local t; t=$(node bench/mqtt/mqttjs-publish.js "$port" "$count" "$size" "$2" "$1" "$warmup" 2>"$work/js.err")
  echo "$(rate "$count" "$t"); $(cat "$work/js.err")"
}
# mospub <mqttv311|mqttv5> <window>: the chunks one after the other; wall clock and CPU of the processes added up.
mospub() {
  local wall=0 cpu=0 f
  for f in "$work"/chunk.*; do
    /usr/bin/time -f '%e %U %S' -o "$work/time" sh -c "mosquitto_pub -V $1 -M $2 -p $port -t bench/pub -q 1 -l < $f"
    read -r e u s < "$work/time"; wall=$(py "print($wall+$e)"); cpu=$(py "print($cpu+$u+$s)")
  done
  echo "$(rate "$count" "$wall"); client CPU $(py "print(f'{$cpu*1000:.0f} ms = {$cpu*1e6/$count:.1f} us/msg')")"
}
row() { local label=$1 n=$2; shift 2; local r; r=$("$@"); check "$n"; echo "$label: $r; $verdict"; }

echo "QoS 1, $count messages of $size bytes per row"
start_broker "A: defaults (max_inflight_messages 20 = v5 Receive Maximum 20)"
row "ours v5, MaxInFlight $big (20 after the broker's Receive Maximum)" $((count + warmup)) ours "$big" "$count" "$warmup"
row "mqtt.js $(node -p "require('./tests/peers/node_modules/mqtt/package.json').version") v5, window 20" $((count + warmup)) mqttjs 5 20
row "mosquitto_pub -V 5 -M 20" "$count" mospub mqttv5 20
row "ours v3.1.1, window 64" $((count + warmup)) ours --v311 64 "$count" "$warmup"
row "mqtt.js v3.1.1, window 64" $((count + warmup)) mqttjs 4 64
row "mosquitto_pub -V 311 -M 64" "$count" mospub mqttv311 64
row "ours v3.1.1, window $big" $((count + warmup)) ours --v311 "$big" "$count" "$warmup"
row "mqtt.js v3.1.1, window $big" $((count + warmup)) mqttjs 4 "$big"
row "mosquitto_pub -V 311 -M $big" "$count" mospub mqttv311 "$big"
small=$((count / 5))
row "ours, outbox, 500 producers" $((small + warmup)) ours 64 "$small" "$warmup" "$work/outbox1" concurrent 500
row "ours, outbox, batches of 500" $((small + warmup)) ours 64 "$small" "$warmup" "$work/outbox2" batch 500
row "ours, outbox, one enqueue at a time (5,000)" 6000 ours 64 5000 1000 "$work/outbox3" sequential 1

start_broker "B: max_inflight_messages $big (v5 Receive Maximum $big)" "max_inflight_messages $big"
row "ours v5, window $big" $((count + warmup)) ours "$big" "$count" "$warmup"
row "mqtt.js v5, window $big" $((count + warmup)) mqttjs 5 "$big"
row "mosquitto_pub -V 5 -M $big" "$count" mospub mqttv5 "$big"
# Ceiling: 200,000 messages from several publishers at once. mosquitto_pub gets its default window (-M 20): its rate
# falls with a larger -M (rows above).
ceiling_pub() {
  local s e i pids=()
  for i in 1 2 3 4; do cp "$work/quarter" "$work/q$i"; done
  s=$(now)
  for i in 1 2 3 4; do mosquitto_pub -V mqttv311 -p "$port" -t bench/ceiling -q 1 -l -i "ceiling$i" < "$work/q$i" & pids+=($!); done
  wait "${pids[@]}"; e=$(now)
  echo "$(rate 200000 "$(py "print($e-$s)")") from process start to the last exit"
}
row "ceiling: 4 × mosquitto_pub -V 311 (-M 20) in parallel, 4 × 50,000" 200000 ceiling_pub
# ceiling_ours <processes>: 200,000 / processes each, the timed parts started together after each process's warm-up.
ceiling_ours() {
  local p=$1 n=$((200000 / $1)) at i pids=() ends
  rm -f "$work"/o?
  at=$(py 'import time; print(int(time.time()*1000) + 6000)')
  for i in $(seq "$p"); do BENCH_START_AT=$at dotnet "$dll" bench --v311 "$port" "$n" "$size" "$big" "$warmup" > "$work/o$i" & pids+=($!); done
  wait "${pids[@]}"
  ends=$(sed -n 's/.*ended at \([0-9]*\).*/\1/p' "$work"/o? | sort -n | tail -1)
  grep -h -o 'LATE by [0-9]* ms' "$work"/o? | sed 's/^/ONE PROCESS STARTED /' || true
  echo "$(rate 200000 "$(py "print(($ends-$at)/1000)")") from the common start to the last PUBACK; per process: $(sed 's/ QoS1 messages of [0-9]* B//; s/;.*//' "$work"/o? | paste -sd '|')"
}
row "ceiling: 2 × ours v3.1.1 window $big in parallel, 2 × 100,000" $((200000 + 2 * warmup)) ceiling_ours 2
row "ceiling: 4 × ours v3.1.1 window $big in parallel, 4 × 50,000" $((200000 + 4 * warmup)) ceiling_ours 4
echo "end: $(uptime | sed 's/.*load/load/')"
