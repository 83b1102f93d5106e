// A node-opcua client for EdgeCollector security tests: connects to our server with a security policy and mode,
// user name authentication (password in PEER_PASSWORD), reads a node and waits for 3 data changes.
// Usage: node node-secure-client.js <endpointUrl> <policyName> <Sign|SignAndEncrypt> <cert.pem> <key.pem> <pkiRoot> <applicationUri> <nodeId> [tokenLifetimeMs renewals]
// With tokenLifetimeMs the client asks for short security tokens and keeps the subscription until it has renewed
// the token <renewals> times (and still receives data changes after that).
// Prints "READY" at once and "RESULT <json>" or "ERROR <text>" at the end.
"use strict";
const { OPCUAClient, OPCUACertificateManager, MessageSecurityMode, SecurityPolicy, UserTokenType, AttributeIds, TimestampsToReturn, ClientSubscription, ClientMonitoredItem } = require("node-opcua");

const [endpointUrl, policyName, modeName, certificateFile, privateKeyFile, pkiRoot, applicationUri, nodeId, lifetimeText, renewalsText] = process.argv.slice(2);
const tokenLifetime = lifetimeText ? parseInt(lifetimeText, 10) : undefined;
const wantedRenewals = renewalsText ? parseInt(renewalsText, 10) : 0;
process.stdout.write("READY\n");

function withTimeout(promise, ms, what) {
    return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout: " + what)), ms))]);
}

(async () => {
    const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pkiRoot, automaticallyAcceptUnknownCertificate: true });
    await clientCertificateManager.initialize();
    const client = OPCUAClient.create({
        applicationName: "node-opcua secure test client",
        applicationUri,
        certificateFile,
        privateKeyFile,
        clientCertificateManager,
        securityMode: MessageSecurityMode[modeName],
        securityPolicy: SecurityPolicy[policyName],
        endpointMustExist: false,
        connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
        requestedSessionTimeout: 30000,
        keepSessionAlive: false,
        ...(tokenLifetime ? { defaultSecureTokenLifetime: tokenLifetime } : {}),
    });
    let renewals = 0;
    client.on("security_token_renewed", () => { renewals++; });
    const result = { policy: policyName, mode: modeName };
    await withTimeout(client.connect(endpointUrl), 15000, "connect");
    const session = await withTimeout(client.createSession({ type: UserTokenType.UserName, userName: "collector", password: process.env.PEER_PASSWORD }), 15000, "createSession");
    const dv = await session.read({ nodeId, attributeId: AttributeIds.Value });
    result.read = { status: dv.statusCode.name, value: dv.value.value };
    const subscription = ClientSubscription.create(session, {
        requestedPublishingInterval: 100, requestedLifetimeCount: 100, requestedMaxKeepAliveCount: 5,
        maxNotificationsPerPublish: 100, publishingEnabled: true, priority: 1,
    });
    await withTimeout(new Promise((resolve) => subscription.on("started", resolve)), 10000, "subscription start");
    const values = [];
    const item = ClientMonitoredItem.create(subscription, { nodeId, attributeId: AttributeIds.Value },
        { samplingInterval: 100, discardOldest: true, queueSize: 10 }, TimestampsToReturn.Both);
    item.on("changed", (v) => values.push(v.value.value));
    await withTimeout(new Promise((resolve) => {
        const t = setInterval(() => { if (values.length >= 3) { clearInterval(t); resolve(); } }, 50);
    }), 15000, "3 data changes (got " + values.length + ")");
    if (wantedRenewals > 0) {
        await withTimeout(new Promise((resolve) => {
            const t = setInterval(() => { if (renewals >= wantedRenewals) { clearInterval(t); resolve(); } }, 50);
        }), 30000, wantedRenewals + " token renewals (got " + renewals + ")");
        const before = values.length;
        await withTimeout(new Promise((resolve) => {
            const t = setInterval(() => { if (values.length >= before + 3) { clearInterval(t); resolve(); } }, 50);
        }), 15000, "3 data changes after the renewals");
    }
    result.renewals = renewals;
    result.values = values;
    await subscription.terminate();
    await session.close();
    await client.disconnect();
    process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
    process.exit(0);
})().catch((err) => { process.stdout.write("ERROR " + (err && err.message || err) + "\n"); process.exit(3); });
