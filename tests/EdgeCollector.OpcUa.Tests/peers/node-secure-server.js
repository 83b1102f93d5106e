// A node-opcua server with Basic256Sha256, Aes128_Sha256_RsaOaep and Aes256_Sha256_RsaPss endpoints (Sign and
// SignAndEncrypt; None for discovery only) and user name authentication, for EdgeCollector security tests.
// Usage: node node-secure-server.js <port> <certificate.pem> <privateKey.pem> <pkiRoot> <applicationUri> [with-none]
// "with-none" adds a None endpoint (its user name token policy still asks for an encrypted password).
// The accepted user is "collector" with the password in the environment variable PEER_PASSWORD.
// Client certificates are accepted automatically (this peer tests OUR trust checks, not its own).
// Prints "READY <endpointUrl>" once listening; exits when stdin closes.
"use strict";
const { OPCUAServer, OPCUACertificateManager, SecurityPolicy, MessageSecurityMode, Variant, DataType } = require("node-opcua");

const [portText, certificateFile, privateKeyFile, pkiRoot, applicationUri, extra] = process.argv.slice(2);
const withNone = extra === "with-none";
const port = parseInt(portText, 10);
const password = process.env.PEER_PASSWORD;

(async () => {
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: pkiRoot, automaticallyAcceptUnknownCertificate: true });
    await serverCertificateManager.initialize();
    const server = new OPCUAServer({
        port,
        hostname: "127.0.0.1",
        resourcePath: "/UA/Secure",
        certificateFile,
        privateKeyFile,
        serverCertificateManager,
        serverInfo: { applicationUri, productUri: "urn:edgecollector:test:node-secure-server", applicationName: { text: "node-opcua secure peer" } },
        securityPolicies: [...(withNone ? [SecurityPolicy.None] : []), SecurityPolicy.Basic256Sha256, SecurityPolicy.Aes128_Sha256_RsaOaep, SecurityPolicy.Aes256_Sha256_RsaPss],
        securityModes: [...(withNone ? [MessageSecurityMode.None] : []), MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
        allowAnonymous: false,
        userManager: { isValidUser: (userName, pwd) => userName === "collector" && pwd === password },
        defaultSecureTokenLifetime: 600000,
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    const ns = addressSpace.registerNamespace("http://edgecollector.test/plant");
    const plant = ns.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: "Plant", nodeId: "s=Plant" });
    let gasTotal = 1000.0;
    setInterval(() => { gasTotal += 0.25; }, 100);
    ns.addVariable({ minimumSamplingInterval: 50, componentOf: plant, nodeId: "s=F1.GasTotal", browseName: "GasTotal", dataType: "Double",
        value: { get: () => new Variant({ dataType: DataType.Double, value: gasTotal }) } });
    await server.start();
    process.stdout.write(`READY opc.tcp://127.0.0.1:${port}/UA/Secure ns=${ns.index}\n`);
    process.stdin.on("end", () => process.exit(0));
    process.stdin.on("close", () => process.exit(0));
    process.stdin.resume();
})().catch((err) => { console.error("FAILED", err); process.exit(2); });
