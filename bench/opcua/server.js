// node-opcua server for the OPC UA subscription benchmark (issue 5, docs/benchmarks.md).
// Usage: node bench/opcua/server.js <port> [count=10000]
// Exposes <count> Double variables nsu=urn:edgecollector:bench;s=v0 … s=v<count-1> under Objects/Bench,
// every one of them changes once a second (one timer writes them all; v<i> = i + tick / 2, so a client can tell
// which tick a value belongs to). SecurityPolicy None, anonymous.
// Prints "READY <endpointUrl> ns=<index>" once listening, then "TICK <n> <ms spent writing>" per tick; exits when stdin closes.
"use strict";
const path = require("path");
const { OPCUAServer, Variant, DataType, DataValue, StatusCodes, SecurityPolicy, MessageSecurityMode } =
    require(path.join(__dirname, "../../tests/peers/node_modules/node-opcua"));

const port = parseInt(process.argv[2], 10);
const count = parseInt(process.argv[3] || "10000", 10);

(async () => {
    const server = new OPCUAServer({
        port,
        hostname: "127.0.0.1",
        resourcePath: "/UA/Bench",
        buildInfo: { productName: "EdgeCollectorBench", buildNumber: "1", buildDate: new Date(2026, 0, 1) },
        allowAnonymous: true,
        securityPolicies: [SecurityPolicy.None],
        securityModes: [MessageSecurityMode.None],
        maxConnectionsPerEndpoint: 10,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.registerNamespace("urn:edgecollector:bench");
    const folder = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Bench", nodeId: "s=Bench" });

    const variables = new Array(count);
    for (let i = 0; i < count; i++) {
        variables[i] = ns.addVariable({
            componentOf: folder,
            nodeId: `s=v${i}`,
            browseName: `v${i}`,
            dataType: "Double",
            minimumSamplingInterval: 0, // exception-based: each write is one change
            value: new Variant({ dataType: DataType.Double, value: i }),
        });
    }

    let tick = 0;
    setInterval(() => {
        tick++;
        const now = new Date();
        for (let i = 0; i < count; i++) {
            variables[i].setValueFromSource(new Variant({ dataType: DataType.Double, value: i + tick * 0.5 }), StatusCodes.Good, now);
        }
        process.stdout.write(`TICK ${tick} ${Date.now() - now.getTime()}\n`);
    }, 1000);

    await server.start();
    process.stdout.write(`READY opc.tcp://127.0.0.1:${port}/UA/Bench ns=${ns.index}\n`);
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("close", () => process.exit(0));
    process.stdin.resume();
})().catch((err) => { console.error("FAILED", err); process.exit(2); });
