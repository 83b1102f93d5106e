using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Two node-opcua servers started side by side: one valid (with a None endpoint), one with an expired certificate.</summary>
public sealed class NodeTrustFixture : IAsyncLifetime
{
    private readonly List<IDisposable> _peers = [];

    public string Folder { get; } = SecureTestKit.TempFolder("trust");

    public string ValidUrl { get; private set; } = "";

    public string ExpiredUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var valid = StartAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), "valid", withNone: true);
        var expired = StartAsync(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1), "expired", withNone: false);
        (ValidUrl, ExpiredUrl) = (await valid, await expired);
    }

    private async Task<string> StartAsync(DateTimeOffset notBefore, DateTimeOffset notAfter, string name, bool withNone)
    {
        using var certificate = UaCertificates.Create(SecureTestKit.NodeServerUri, "node-opcua secure peer", ["127.0.0.1", "localhost"], notBefore, notAfter);
        var folder = Path.Combine(Folder, name);
        Directory.CreateDirectory(folder);
        var (peer, url) = await SecureTestKit.StartNodeServerAsync(certificate, folder, withNone);
        lock (_peers)
            _peers.Add(peer);
        return url;
    }

    public Task DisposeAsync()
    {
        foreach (var p in _peers)
            p.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}

/// <summary>Server certificate trust against node-opcua servers: untrusted → trust → connects; expired; passwords over None.</summary>
public sealed class NodeTrustTests(NodeTrustFixture fx) : IClassFixture<NodeTrustFixture>
{
    private string NewStoreFolder() => Path.Combine(fx.Folder, "client-pki-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task An_untrusted_server_is_rejected_and_connects_once_trusted()
    {
        var url = fx.ValidUrl;
        var store = new UaCertificateStore(NewStoreFolder());
        var own = store.LoadOrCreateOwn("urn:edgecollector:test:client", "test client");
        var options = SecureTestKit.ClientOptions(url, store, own, UaSecurityPolicy.Basic256Sha256, MessageSecurityMode.SignAndEncrypt);

        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(options));
        Assert.Equal(StatusCodes.BadCertificateUntrusted, ex.Status);
        Assert.Contains("certs trust", ex.Message, StringComparison.Ordinal);
        var rejected = Assert.Single(store.List(), c => c.Folder == "rejected");
        Assert.Equal(SecureTestKit.NodeServerUri, rejected.ApplicationUri);

        store.Trust(rejected.Thumbprint[..12]);
        Assert.DoesNotContain(store.List(), c => c.Folder == "rejected");
        await using var client = await UaClient.ConnectAsync(options);
        Assert.True(client.IsConnected);
    }

    [Fact]
    public async Task An_expired_server_certificate_fails_with_BadCertificateTimeInvalid()
    {
        var url = fx.ExpiredUrl;
        var store = new UaCertificateStore(NewStoreFolder(), autoAccept: true);
        var own = store.LoadOrCreateOwn("urn:edgecollector:test:client", "test client");
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(SecureTestKit.ClientOptions(url, store, own, UaSecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.Sign)));
        Assert.Equal(StatusCodes.BadCertificateTimeInvalid, ex.Status);
        Assert.Contains("not now", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_a_None_channel_the_password_is_encrypted_as_the_token_policy_asks()
    {
        var url = fx.ValidUrl;
        var endpoints = await UaClient.GetEndpointsAsync(url);
        var none = Assert.Single(endpoints, e => e.SecurityMode == MessageSecurityMode.None);
        Assert.Contains(none.UserIdentityTokens!, p => p.TokenType == UserTokenType.UserName && !UaSecurityPolicy.IsNone(p.SecurityPolicyUri));
        await using var client = await UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = url, User = new UaUserIdentity("collector", SecureTestKit.Password), AutoReconnect = false });
        var node = await client.ResolveNodeIdAsync("nsu=http://edgecollector.test/plant;s=F1.GasTotal");
        Assert.True((await client.ReadValueAsync(node)).Status.IsGood);
        var wrong = await Assert.ThrowsAsync<UaServiceException>(() => UaClient.ConnectAsync(new UaClientOptions { EndpointUrl = url, User = new UaUserIdentity("collector", "nope"), AutoReconnect = false }));
        Assert.Equal(StatusCodes.BadUserAccessDenied, wrong.Status);
    }
}
