// Captures golden wire bytes from node-opcua for GoldenBytesTests (run by hand, output pasted into the test):
//   NODE_PATH=tests/peers/node_modules node capture-golden.js
// Starts a node-opcua server, a recording TCP proxy in front of it and a node-opcua client (SecurityPolicy None)
// that reads one Double; prints the client's Hello and OpenSecureChannel chunks and the server's Read response chunk.
"use strict";
const net = require("net");
const { OPCUAServer, OPCUAClient, MessageSecurityMode, SecurityPolicy, Variant, DataType, AttributeIds, TimestampsToReturn } = require("node-opcua");

function chunks(buffer) {
    const out = [];
    let offset = 0;
    while (offset + 8 <= buffer.length) {
        const size = buffer.readUInt32LE(offset + 4);
        if (offset + size > buffer.length) break;
        out.push(buffer.subarray(offset, offset + size));
        offset += size;
    }
    return out;
}

(async () => {
    const server = new OPCUAServer({ port: 48123, hostname: "127.0.0.1", resourcePath: "/golden" });
    await server.initialize();
    const ns = server.engine.addressSpace.registerNamespace("urn:golden");
    ns.addVariable({
        organizedBy: server.engine.addressSpace.rootFolder.objects, nodeId: "s=Golden", browseName: "Golden", dataType: "Double",
        value: { get: () => new Variant({ dataType: DataType.Double, value: 42.5 }) },
    });
    await server.start();

    const toServer = [];
    const toClient = [];
    const proxy = net.createServer((c) => {
        const s = net.connect(48123, "127.0.0.1");
        c.on("data", (d) => { toServer.push(d); s.write(d); });
        s.on("data", (d) => { toClient.push(d); c.write(d); });
        c.on("close", () => s.destroy());
        s.on("close", () => c.destroy());
    });
    await new Promise((r) => proxy.listen(48124, "127.0.0.1", r));

    const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, connectionStrategy: { maxRetry: 0 } });
    await client.connect("opc.tcp://127.0.0.1:48124/golden");
    const session = await client.createSession();
    await session.read({ nodeId: `ns=${ns.index};s=Golden`, attributeId: AttributeIds.Value }, 0);
    await session.close();
    await client.disconnect();

    const up = chunks(Buffer.concat(toServer));
    const down = chunks(Buffer.concat(toClient));
    const hello = up.find((c) => c.toString("ascii", 0, 3) === "HEL");
    const open = up.find((c) => c.toString("ascii", 0, 3) === "OPN");
    // Read response: MSG whose body starts (after 8 header + 4 channel + 4 token + 8 sequence) with i=634 (01 00 7A 02).
    const read = down.find((c) => c.toString("ascii", 0, 3) === "MSG" && c.readUInt32LE(24) === 0x027a0001);
    console.log("HEL " + hello.toString("hex"));
    console.log("OPN " + open.toString("hex"));
    console.log("READRESPONSE " + read.toString("hex"));
    proxy.close();
    await server.shutdown(0);
    process.exit(0);
})().catch((e) => { console.error(e); process.exit(2); });
