#!/usr/bin/env node
// Peer for bench/mqtt.sh: publishes N QoS 1 messages of B bytes with mqtt.js as fast as it allows and prints
// the elapsed seconds from the first timed publish to the last PUBACK (process start, connect and the warm-up
// excluded, as in our own client's figure; on stderr the client's CPU per message over the same span). mqtt.js itself sets no limit on outgoing QoS 1 messages awaiting PUBACK,
// so a window of W (default 64, our client's default MaxInFlight) keeps the same number in flight as ours and stays
// within anything a broker may announce; every PUBACK callback publishes the next message. The first U messages
// (warm-up, default 0) go out the same way on the same connection before the clock starts, so that V8 has compiled
// the publish path, as our bench gives the .NET JIT the same warm-up.
// Usage: node bench/mqtt/mqttjs-publish.js <port> <count> <payloadBytes> [window=64] [protocolVersion=5|4] [warmup=0]
'use strict';
const path = require('path');
const mqtt = require(path.join(__dirname, '..', '..', 'tests', 'peers', 'node_modules', 'mqtt'));

const [port, count, size, window = 64, version = 5, warmup = 0] = process.argv.slice(2).map(Number);
if (!port || !count || Number.isNaN(size)) {
  console.error('usage: mqttjs-publish.js <port> <count> <payloadBytes> [window=64] [protocolVersion=5|4] [warmup=0]');
  process.exit(2);
}
const payload = Buffer.alloc(size, 'x');
const client = mqtt.connect({ host: '127.0.0.1', port, protocolVersion: version, clientId: 'bench-mqttjs', clean: true, reconnectPeriod: 0 });
client.on('error', (err) => { console.error(err.message); process.exit(1); });

// Publishes n messages on topic, at most `window` awaiting PUBACK, and calls done() after the last PUBACK.
function run(n, topic, done) {
  let sent = 0;
  let acked = 0;
  const onAck = (err) => {
    if (err) { console.error(err.message); process.exit(1); }
    if (++acked === n) done();
    else if (sent < n) {
      sent++;
      client.publish(topic, payload, { qos: 1 }, onAck);
    }
  };
  for (; sent < Math.min(window, n);) {
    sent++;
    client.publish(topic, payload, { qos: 1 }, onAck);
  }
}

client.once('connect', () => {
  const timed = () => {
    const start = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    run(count, 'bench/mqttjs', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      console.log(seconds.toFixed(3));
      console.error(`client CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs * 1000 / count).toFixed(1)} us/msg (${(cpuMs / 1000 / seconds).toFixed(2)} cores)`);
      client.end(false, () => process.exit(0));
    });
  };
  if (warmup > 0) run(warmup, 'bench/warmup', timed);
  else timed();
});
