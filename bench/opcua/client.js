// node-opcua client for the OPC UA subscription benchmark (issue 5, docs/benchmarks.md): one session,
// one subscription (publishing interval 1000 ms), <count> monitored items nsu=urn:edgecollector:bench;s=v<i>
// (sampling 1000 ms, queue 1, discard oldest, one CreateMonitoredItems call), waits <warmup> seconds after the
// items are created, then counts data change notifications for <seconds>.
// Usage: node bench/opcua/client.js <endpointUrl> <count> <seconds> [warmup=0]
// Prints "SUBSCRIBED <items> <setup ms>" then one "RESULT notifications=<n> seconds=<s> cpu=<s> warmup_cpu=<s> rss_mb=<mb> missed=<n> repeated=<n>"
// line; cpu is process.cpuUsage() (user+sys) over the counting window only, warmup_cpu over the warm-up before it;
// missed counts value changes never seen (from the first value on, warm-up included).
"use strict";
const path = require("path");
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, TimestampsToReturn } =
    require(path.join(__dirname, "../../tests/peers/node_modules/node-opcua"));

const [endpointUrl, countText, secondsText, warmupText] = process.argv.slice(2);
const count = parseInt(countText, 10);
const seconds = parseFloat(secondsText);
const warmup = parseFloat(warmupText || "0");

(async () => {
    const started = Date.now();
    const client = OPCUAClient.create({
        endpointMustExist: false,
        securityMode: MessageSecurityMode.None,
        securityPolicy: SecurityPolicy.None,
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
        requestedSessionTimeout: 60000,
    });
    await client.connect(endpointUrl);
    const session = await client.createSession();
    const nsArray = await session.readNamespaceArray();
    const ns = nsArray.indexOf("urn:edgecollector:bench");
    if (ns < 0) throw new Error("namespace urn:edgecollector:bench not found");

    const subscription = await session.createSubscription2({
        requestedPublishingInterval: 1000, requestedLifetimeCount: 60, requestedMaxKeepAliveCount: 10,
        maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 0,
    });
    let notifications = 0;
    const items = [];
    for (let i = 0; i < count; i++) items.push({ nodeId: `ns=${ns};s=v${i}`, attributeId: AttributeIds.Value });
    const group = await subscription.monitorItems(items, { samplingInterval: 1000, queueSize: 1, discardOldest: true }, TimestampsToReturn.Both);
    // server.js writes v<i> = i + tick / 2 on every tick, so the value tells which tick it is: a tick an item
    // skips is a change this client never saw (not just a late or slow server tick).
    const lastTick = new Int32Array(count).fill(-1);
    let missed = 0, repeated = 0;
    group.on("changed", (item, dataValue, i) => {
        notifications++;
        const tick = Math.round((dataValue.value.value - i) * 2);
        if (lastTick[i] >= 0 && tick > lastTick[i] + 1) missed += tick - lastTick[i] - 1;
        else if (tick === lastTick[i]) repeated++;
        lastTick[i] = tick;
    });
    process.stdout.write(`SUBSCRIBED ${count} ${Date.now() - started}\n`);

    const warm0 = process.cpuUsage();
    if (warmup > 0) await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
    const warmupCpu = process.cpuUsage(warm0);

    // the counting window starts now: initial values that arrived during setup and warm-up are not counted
    notifications = 0;
    const cpu0 = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const received = notifications;
    const cpu = process.cpuUsage(cpu0);
    const rss = process.memoryUsage().rss;
    process.stdout.write(`RESULT notifications=${received} seconds=${seconds} cpu=${((cpu.user + cpu.system) / 1e6).toFixed(3)} warmup_cpu=${((warmupCpu.user + warmupCpu.system) / 1e6).toFixed(3)} rss_mb=${(rss / 1048576).toFixed(1)} missed=${missed} repeated=${repeated}\n`);
    await subscription.terminate();
    await session.close();
    await client.disconnect();
    process.exit(0);
})().catch((err) => { process.stdout.write("ERROR " + (err && err.stack || err) + "\n"); process.exit(3); });
