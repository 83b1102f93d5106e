using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Server certificate trust against node-opcua servers: untrusted → trust → connects; expired; passwords over None.</summary>
public sealed class NodeTrustTests : IAsyncLifetime
{
    private readonly string _folder = SecureTestKit.TempFolder("trust");
    private readonly List<IDisposable> _peers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        foreach (var p in _peers)
            p.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private async Task<string> StartAsync(DateTimeOffset notBefore, DateTimeOffset notAfter, string name, bool withNone = false)
    {
        using var certificate = UaCertificates.Create(SecureTestKit.NodeServerUri, "node-opcua secure peer", ["127.0.0.1", "localhost"], notBefore, notAfter);
        var folder = Path.Combine(_folder, name);
        Directory.CreateDirectory(folder);
        var (peer, url) = await SecureTestKit.StartNodeServerAsync(certificate, folder, withNone);
        _peers.Add(peer);
        return url;
    }

    [Fact]
    public async Task An_untrusted_server_is_rejected_and_connects_once_trusted()
    {
        var url = await StartAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), "untrusted");
        var store = new UaCertificateStore(Path.Combine(_folder, "client-pki-1"));
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
        var url = await StartAsync(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1), "expired");
        var store = new UaCertificateStore(Path.Combine(_folder, "client-pki-2"), autoAccept: true);
        var own = store.LoadOrCreateOwn("urn:edgecollector:test:client", "test client");
        var ex = await Assert.ThrowsAnyAsync<UaException>(() => UaClient.ConnectAsync(SecureTestKit.ClientOptions(url, store, own, UaSecurityPolicy.Aes256Sha256RsaPss, MessageSecurityMode.Sign)));
        Assert.Equal(StatusCodes.BadCertificateTimeInvalid, ex.Status);
        Assert.Contains("not now", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_a_None_channel_the_password_is_encrypted_as_the_token_policy_asks()
    {
        var url = await StartAsync(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), "none", withNone: true);
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
