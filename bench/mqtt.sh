#!/usr/bin/env bash
# QoS 1 publish rate to one mosquitto on loopback, in one run: our client (direct, window 64),
# our client through the durable outbox, mqtt.js (v5 and v3.1.1, window 64: bench/mqtt/mqttjs-publish.js; needs
# `npm install` in tests/peers) and mosquitto_pub (v3.1.1 and v5) as the peer.
# mosquitto announces Receive Maximum 20 in its v5 CONNACK: our client (v5) and mosquitto_pub -V 5 keep at most 20
# in flight; mqtt.js does not apply it, so it really keeps 64, and mosquitto_pub -V 311 keeps its own 20.
# Usage: bash bench/mqtt.sh [messages=100000] [payload-bytes=100]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}; size=${2:-100}
work=$(mktemp -d); trap 'kill $broker 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nmax_queued_messages 0\n' "$port" > "$work/m.conf"
/usr/sbin/mosquitto -c "$work/m.conf" >/dev/null 2>&1 & broker=$!
sleep 0.5
dotnet build tests/EdgeCollector.Mqtt.Tests -c Release -v q -nologo >/dev/null
dll=tests/EdgeCollector.Mqtt.Tests/bin/Release/net10.0/EdgeCollector.Mqtt.Tests.dll
python3 -c "import sys; sys.stdout.write(('x' * $size + '\\n') * $count)" > "$work/lines"
rate() { python3 -c "import sys; print(f'{int(sys.argv[1])/float(sys.argv[2]):,.0f} msg/s ({float(sys.argv[2]):.2f} s)')" "$1" "$2"; }
timeit() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print($e-$s)"; }
echo "QoS 1, $count messages of $size bytes, mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$port"
ours() { local s e out; s=$(date +%s.%N); out=$(dotnet "$dll" bench "$port" "$@"); e=$(date +%s.%N); echo "$out; wall clock incl. process start $(rate "$1" "$(python3 -c "print($e-$s)")")"; }
echo "ours, direct, window 64:      $(ours "$count" "$size" 64)"
[ -d tests/peers/node_modules/mqtt ] || { echo "mqtt.js missing: cd tests/peers && npm install" >&2; exit 1; }
mqttjs() { rate "$count" "$(node bench/mqtt/mqttjs-publish.js "$port" "$count" "$size" 64 "$1")"; }
echo "mqtt.js $(node -p "require('./tests/peers/node_modules/mqtt/package.json').version") v5, window 64:    $(mqttjs 5)"
echo "mqtt.js v3.1.1, window 64:    $(mqttjs 4)"
echo "mosquitto_pub -V 311 -l:      $(rate "$count" "$(timeit sh -c "mosquitto_pub -V mqttv311 -p $port -t bench/pub -q 1 -l < $work/lines")")"
echo "mosquitto_pub -V 5 -l:        $(rate "$count" "$(timeit sh -c "mosquitto_pub -V mqttv5 -p $port -t bench/pub -q 1 -l < $work/lines")")"
small=$((count / 20))
echo "ours, through the outbox:     $(ours "$small" "$size" 64 "$work/outbox") (one fsync'd transaction per enqueue)"
