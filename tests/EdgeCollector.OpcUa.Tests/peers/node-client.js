// A node-opcua client for EdgeCollector integration tests: browses, reads and subscribes to a server
// (our simulator) and prints one "RESULT <json>" line. Usage: node node-client.js <endpointUrl> <namespaceUri> <identifier>
"use strict";
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, TimestampsToReturn, ClientSubscription, ClientMonitoredItem, resolveNodeId } = require("node-opcua");

const [endpointUrl, namespaceUri, identifier] = process.argv.slice(2);
process.stdout.write("READY\n");

function withTimeout(promise, ms, what) {
    return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout: " + what)), ms))]);
}

(async () => {
    const client = OPCUAClient.create({
        endpointMustExist: false,
        securityMode: MessageSecurityMode.None,
        securityPolicy: SecurityPolicy.None,
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
        requestedSessionTimeout: 30000,
        keepSessionAlive: false,
    });
    const result = {};
    await withTimeout(client.connect(endpointUrl), 10000, "connect");
    const session = await withTimeout(client.createSession(), 10000, "createSession");

    const nsArray = await session.readNamespaceArray();
    result.namespaceArray = nsArray;
    const ns = nsArray.indexOf(namespaceUri);
    result.namespaceIndex = ns;

    const objects = await session.browse("ns=0;i=85");
    result.objects = objects.references.map((r) => r.browseName.toString());

    // Walk down PLC_1 / DataBlocksGlobal / DB_F1 by browsing.
    let path = [];
    let current = "ns=0;i=85";
    for (const name of ["PLC_1", "DataBlocksGlobal", "DB_F1"]) {
        const br = await session.browse(current);
        const ref = br.references.find((r) => r.browseName.name === name);
        if (!ref) throw new Error("browse: " + name + " not found under " + current);
        current = ref.nodeId.toString();
        path.push(current);
    }
    result.path = path;
    const tags = await session.browse(current);
    result.tags = tags.references.filter((r) => r.nodeClass === 2).map((r) => r.browseName.name);

    const nodeId = `ns=${ns};s=${identifier}`;
    const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
    result.read = { status: dv.statusCode.name, value: dv.value.value, dataType: dv.value.dataType, sourceTimestamp: dv.sourceTimestamp };
    const dt = await session.read({ nodeId, attributeId: AttributeIds.DataType });
    result.dataType = dt.value.value.toString();
    const bn = await session.read({ nodeId, attributeId: AttributeIds.BrowseName });
    result.browseName = bn.value.value.toString();

    const subscription = ClientSubscription.create(session, {
        requestedPublishingInterval: 100, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 5,
        maxNotificationsPerPublish: 100, publishingEnabled: true, priority: 1,
    });
    const values = [];
    let keepAlives = 0;
    subscription.on("keepalive", () => { keepAlives++; });
    await withTimeout(new Promise((resolve) => subscription.on("started", resolve)), 10000, "subscription start");
    const item = ClientMonitoredItem.create(subscription, { nodeId, attributeId: AttributeIds.Value },
        { samplingInterval: 100, discardOldest: true, queueSize: 10 }, TimestampsToReturn.Both);
    item.on("changed", (v) => values.push({ value: v.value.value, status: v.statusCode.name, sourceTimestamp: v.sourceTimestamp }));
    await withTimeout(new Promise((resolve) => {
        const t = setInterval(() => { if (values.length >= 3) { clearInterval(t); resolve(); } }, 50);
    }), 15000, "3 data changes (got " + values.length + ")");
    result.values = values;
    result.keepAlives = keepAlives;
    await subscription.terminate();
    await session.close();
    await client.disconnect();
    process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
    process.exit(0);
})().catch((err) => { process.stdout.write("ERROR " + (err && err.stack || err) + "\n"); process.exit(3); });
