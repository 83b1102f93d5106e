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
    public async Task A_wrong_password_is_refused_by_our_server()
    {
        var options = SecureTestKit.ClientOptions(fx.Sim.EndpointUrl, fx.ClientStore, fx.ClientCertificate, UaSecurityPolicy.Aes128Sha256RsaOaep, MessageSecurityMode.SignAndEncrypt, "not-the-password");
        var ex = await Assert.ThrowsAnyAsync<UaServiceException>(() => UaClient.ConnectAsync(options));
        Assert.Equal(StatusCodes.BadUserAccessDenied, ex.Status);
    }
}
