using System.Globalization;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Server;
using EdgeCollector.OpcUa.Tests.Infrastructure;
using EdgeCollector.Sim.OpcUa;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>
/// A server with a 4096-bit key (asymmetric chunks then carry ExtraPaddingSize, OPC 10000-6 §6.7.2.5) and messages
/// split over many signed / encrypted chunks with small buffers.
/// </summary>
public sealed class LargeKeyAndChunkTests : IAsyncLifetime
{
    private readonly string _folder = SecureTestKit.TempFolder("large");
    private FurnacePlcSimulator _sim = null!;
    private UaCertificateStore _clientStore = null!;
    private System.Security.Cryptography.X509Certificates.X509Certificate2 _client = null!;
    private (string Certificate, string Key) _nodeClient;

    public async Task InitializeAsync()
    {
        var serverStore = new UaCertificateStore(Path.Combine(_folder, "server-pki"));
        var options = new FurnacePlcOptions().Server;
        serverStore.SaveOwn(UaCertificates.Create(options.ApplicationUri, options.ApplicationName, ["127.0.0.1"], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), keySize: 4096));
        options = FurnacePlcSecurity.Secured(options, serverStore, (u, p) => u == "collector" && p == SecureTestKit.Password) with
        {
            Limits = new UaChannelLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 },
        };
        _sim = new FurnacePlcSimulator(new FurnacePlcOptions { Server = options, TickInterval = TimeSpan.FromMilliseconds(50) });
        _sim.SetState("F1", FurnaceState.Melting);
        await _sim.StartAsync();
        _clientStore = new UaCertificateStore(Path.Combine(_folder, "client-pki"));
        _client = _clientStore.LoadOrCreateOwn("urn:edgecollector:test:client", "client");
        File.WriteAllBytes(Path.Combine(_clientStore.TrustedFolder, "sim.der"), options.Certificate!.RawData);
        File.WriteAllBytes(Path.Combine(serverStore.TrustedFolder, "client.der"), _client.RawData);
        using var node = UaCertificates.Create(SimSecureServerFixture.NodeClientUri, "node client", ["127.0.0.1"], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        _nodeClient = SecureTestKit.WritePem(node, _folder, "node-client");
        File.WriteAllBytes(Path.Combine(serverStore.TrustedFolder, "node-client.der"), node.RawData);
    }

    public async Task DisposeAsync()
    {
        await _sim.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("Basic256Sha256", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Aes256_Sha256_RsaPss", MessageSecurityMode.SignAndEncrypt)]
    [InlineData("Aes128_Sha256_RsaOaep", MessageSecurityMode.Sign)]
    public async Task Our_client_reads_a_large_value_over_many_chunks_from_a_4096_bit_server(string policyName, MessageSecurityMode mode)
    {
        var options = SecureTestKit.ClientOptions(_sim.EndpointUrl, _clientStore, _client, UaSecurityPolicy.Find(policyName)!, mode) with
        {
            Channel = new UaClientChannelOptions { Limits = new UaChannelLimits { ReceiveBufferSize = 8192, SendBufferSize = 8192 } },
        };
        await using var client = await UaClient.ConnectAsync(options);
        var text = string.Concat(Enumerable.Range(0, 6000).Select(i => i.ToString("D5", CultureInfo.InvariantCulture)));
        var id = new NodeId(_sim.PlcNamespaceIndex, "Big-" + policyName + mode);
        _sim.AddressSpace.AddVariable(id, new QualifiedName(_sim.PlcNamespaceIndex, "Big"), WellKnownNodes.ObjectsFolder, new Variant(text), WellKnownNodes.StringType);
        Assert.Equal(text, (string)(await client.ReadValueAsync(id)).Value.Value!);
    }

    [Fact]
    public async Task A_node_opcua_client_connects_to_a_4096_bit_server()
    {
        var nodeId = _sim.TagId("F1", "GasTotal");
        using var node = (await NodePeer.StartAsync("node-secure-client.js",
            [_sim.EndpointUrl, "Aes256_Sha256_RsaPss", "SignAndEncrypt", _nodeClient.Certificate, _nodeClient.Key, Path.Combine(_folder, "node-pki"), SimSecureServerFixture.NodeClientUri,
             $"ns={nodeId.NamespaceIndex.ToString(CultureInfo.InvariantCulture)};s={nodeId.Identifier}"],
            TimeSpan.FromSeconds(60), new Dictionary<string, string> { ["PEER_PASSWORD"] = SecureTestKit.Password })).Peer;
        var line = await node.WaitForLineAsync(l => l.StartsWith("RESULT", StringComparison.Ordinal) || l.StartsWith("ERROR", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        Assert.True(line.StartsWith("RESULT", StringComparison.Ordinal), node.Output);
    }
}
