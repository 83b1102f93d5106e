// A node-opcua server for EdgeCollector integration tests.
// Usage: node node-server.js <port>
// Prints "READY <endpointUrl>" once listening; exits when stdin closes (so a dying test never leaks it).
"use strict";
const { OPCUAServer, Variant, DataType, StatusCodes } = require("node-opcua");

const port = parseInt(process.argv[2], 10);

(async () => {
    const server = new OPCUAServer({
        port,
        hostname: "127.0.0.1",
        resourcePath: "/UA/EdgeTest",
        buildInfo: { productName: "EdgeCollectorTestPeer", buildNumber: "1", buildDate: new Date(2026, 0, 1) },
        allowAnonymous: true,
        maxConnectionsPerEndpoint: 20,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.registerNamespace("http://edgecollector.test/plant");
    const plant = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Plant", nodeId: "s=Plant" });

    let gasTotal = 1000.0;
    let counter = 0;
    let state = 0;
    let setpoint = 0.0;
    let name = "F1";
    let level = 0.0;
    let siemens = 42.5;
    setInterval(() => { gasTotal += 0.25; counter += 1; }, 100);

    const ro = (dataType, get) => ({ get: () => new Variant({ dataType, value: get() }) });
    const rw = (dataType, get, set) => ({
        get: () => new Variant({ dataType, value: get() }),
        set: (v) => { set(v.value); return StatusCodes.Good; },
    });

    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=F1.GasTotal", browseName: "GasTotal", dataType: "Double", value: ro(DataType.Double, () => gasTotal) });
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "i=1001", browseName: "Counter", dataType: "UInt32", value: ro(DataType.UInt32, () => counter) });
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=F1.State", browseName: "State", dataType: "Int32", accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", value: rw(DataType.Int32, () => state, (v) => { state = v; }) });
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=Setpoint", browseName: "Setpoint", dataType: "Double", accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", value: rw(DataType.Double, () => setpoint, (v) => { setpoint = v; }) });
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=F1.Name", browseName: "Name", dataType: "String", accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite", value: rw(DataType.String, () => name, (v) => { name = v; }) });
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: 's="DB_F1"."GasTotal"', browseName: "DB_F1.GasTotal", dataType: "Double", value: ro(DataType.Double, () => siemens) });
    ns.addAnalogDataItem({
        minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=Level", browseName: "Level", dataType: "Double",
        engineeringUnitsRange: { low: 0, high: 200 },
        accessLevel: "CurrentRead | CurrentWrite", userAccessLevel: "CurrentRead | CurrentWrite",
        value: rw(DataType.Double, () => level, (v) => { level = v; }),
    });

    await server.start();
    const url = `opc.tcp://127.0.0.1:${port}/UA/EdgeTest`;
    process.stdout.write(`READY ${url} ns=${ns.index}\n`);
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("close", () => process.exit(0));
    process.stdin.resume();
})().catch((err) => { console.error("FAILED", err); process.exit(2); });
