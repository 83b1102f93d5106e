using System.Globalization;
using System.Text.Json;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Our simulator server with security: a node-opcua client and our client connect with each policy × mode.</summary>
public sealed class SimSecureServerTests(SimSecureServerFixture fx) : IClassFixture<SimSecureServerFixture>
{
    public static TheoryData<string, MessageSecurityMode> Matrix() => NodeSecureServerTests.Matrix();

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task A_node_opcua_client_connects_reads_and_subscribes(string policyName, MessageSecurityMode mode)
    {
        var nodeId = fx.Sim.TagId("F1", "GasTotal");
        var nodeIdText = $"ns={nodeId.NamespaceIndex.ToString(CultureInfo.InvariantCulture)};s={nodeId.Identifier}";
        using var node = (await NodePeer.StartAsync("node-secure-client.js",
            [fx.Sim.EndpointUrl, policyName, mode.ToString(), fx.NodeClientPem.Certificate, fx.NodeClientPem.Key, Path.Combine(fx.Folder, "node-client-pki"), SimSecureServerFixture.NodeClientUri, nodeIdText],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["PEER_PASSWORD"] = SecureTestKit.Password })).Peer;
        var line = await node.WaitForLineAsync(l => l.StartsWith("RESULT", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.True(line.StartsWith("RESULT", StringComparison.Ordinal), node.Output);
        using var json = JsonDocument.Parse(line["RESULT ".Length..]);
        Assert.Equal("Good", json.RootElement.GetProperty("read").GetProperty("status").GetString());
        var values = json.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.True(values.Length >= 3 && values[^1] > values[0], line);
    }

    [Fact]
    public async Task A_node_opcua_client_renews_its_token_with_our_server_and_keeps_receiving()
    {
        var nodeId = fx.Sim.TagId("F1", "GasTotal");
        var nodeIdText = $"ns={nodeId.NamespaceIndex.ToString(CultureInfo.InvariantCulture)};s={nodeId.Identifier}";
        using var node = (await NodePeer.StartAsync("node-secure-client.js",
            [fx.Sim.EndpointUrl, "Basic256Sha256", "SignAndEncrypt", fx.NodeClientPem.Certificate, fx.NodeClientPem.Key, Path.Combine(fx.Folder, "node-client-pki-renew"), SimSecureServerFixture.NodeClientUri, nodeIdText, "2000", "2"],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["PEER_PASSWORD"] = SecureTestKit.Password })).Peer;
        var line = await node.WaitForLineAsync(l => l.StartsWith("RESULT", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        Assert.True(line.StartsWith("RESULT", StringComparison.Ordinal), node.Output);
        using var json = JsonDocument.Parse(line["RESULT ".Length..]);
        Assert.True(json.RootElement.GetProperty("renewals").GetInt32() >= 2, line);
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Our_client_connects_reads_and_subscribes(string policyName, MessageSecurityMode mode)
    {
        var policy = UaSecurityPolicy.Find(policyName)!;
        await using var client = await UaClient.ConnectAsync(SecureTestKit.ClientOptions(fx.Sim.EndpointUrl, fx.ClientStore, fx.ClientCertificate, policy, mode));
        Assert.Equal(mode, client.Endpoint!.SecurityMode);
        var node = fx.Sim.TagId("F1", "GasTotal");
        Assert.True((await client.ReadValueAsync(node)).Status.IsGood);
        var got = new TaskCompletionSource();
        var count = 0;
        await client.SubscribeAsync(new UaSubscriptionOptions { PublishingInterval = TimeSpan.FromMilliseconds(100) },
            [new UaMonitoredItemRequest { NodeId = node, SamplingInterval = TimeSpan.FromMilliseconds(50) }],
            _ =>
            {
                if (Interlocked.Increment(ref count) >= 3)
                    got.TrySetResult();
            });
        await got.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task None_serves_discovery_only()
    {
        var endpoints = await UaClient.GetEndpointsAsync(fx.Sim.EndpointUrl);
        Assert.Equal(6, endpoints.Length);
        Assert.All(endpoints, e => Assert.NotEqual(MessageSecurityMode.None, e.SecurityMode));
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = fx.Sim.EndpointUrl, AutoReconnect = false }));
        Assert.Equal(StatusCodes.BadSecurityPolicyRejected, ex.Status);
    }

    [Fact]
    public async Task An_unknown_client_certificate_is_refused_and_kept_in_rejected()
    {
        var store = new UaCertificateStore(Path.Combine(fx.Folder, "stranger-pki"));
        var stranger = store.LoadOrCreateOwn("urn:edgecollector:test:stranger", "stranger");
        File.Copy(Path.Combine(fx.ClientStore.TrustedFolder, "sim.der"), Path.Combine(store.TrustedFolder, "sim.der"));
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(SecureTestKit.ClientOptions(fx.Sim.EndpointUrl, store, stranger, UaSecurityPolicy.Basic256Sha256, MessageSecurityMode.Sign)));
        Assert.Equal(StatusCodes.BadCertificateUntrusted, ex.Status);
        Assert.Contains(fx.ServerStore.List(), c => c.Folder == "rejected" && c.Thumbprint == stranger.Thumbprint);
    }

    [Fact]
    public async Task A_reconnect_that_meets_an_untrusted_certificate_waits_instead_of_storming()
    {
        var store = new UaCertificateStore(Path.Combine(fx.Folder, "reconnect-pki"));
        var own = store.LoadOrCreateOwn("urn:edgecollector:test:client", "reconnecting client");
        File.WriteAllBytes(Path.Combine(fx.ServerStore.TrustedFolder, "reconnect.der"), own.RawData);
        var trustedSim = Path.Combine(store.TrustedFolder, "sim.der");
        File.Copy(Path.Combine(fx.ClientStore.TrustedFolder, "sim.der"), trustedSim);
        await using var proxy = new TcpProxy(fx.Sim.Server.Port, chunks: true);
        var options = SecureTestKit.ClientOptions($"opc.tcp://127.0.0.1:{proxy.Port}", store, own, UaSecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt)
            with { AutoReconnect = true, ReconnectDelay = TimeSpan.FromMilliseconds(100), SecurityRetryDelay = TimeSpan.FromSeconds(30) };
        await using var client = await UaClient.ConnectAsync(options);
        var failures = new List<(StatusCode Status, TimeSpan Delay)>();
        client.ReconnectFailed += (_, e, delay) =>
        {
            lock (failures)
                failures.Add(((e as UaException)?.Status ?? default, delay));
        };

        // The operator withdraws trust, then the connection drops: reconnecting meets an untrusted certificate.
        File.Delete(trustedSim);
        proxy.DropAll();
        await Task.Delay(TimeSpan.FromSeconds(3));
        lock (failures)
        {
            var failure = Assert.Single(failures);
            Assert.Equal((StatusCodes.BadCertificateUntrusted, TimeSpan.FromSeconds(30)), failure);
        }

        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_by_our_server()
    {
        var options = SecureTestKit.ClientOptions(fx.Sim.EndpointUrl, fx.ClientStore, fx.ClientCertificate, UaSecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt, "not-the-password");
        var ex = await Assert.ThrowsAnyAsync<UaServiceException>(() => UaClient.ConnectAsync(options));
        Assert.Equal(StatusCodes.BadUserAccessDenied, ex.Status);
    }
}
