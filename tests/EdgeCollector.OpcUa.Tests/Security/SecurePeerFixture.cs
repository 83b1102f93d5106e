using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Client;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;
using EdgeCollector.OpcUa.Tests.Infrastructure;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Helpers for the security tests: temporary folders, certificates as PEM files, node-opcua secure peers.</summary>
public static class SecureTestKit
{
    /// <summary>The test user's password (a test secret; the log grep test looks for it).</summary>
    public const string Password = "Pw-7f3e9a1c-never-logged";

    /// <summary>The ApplicationUri of the node-opcua secure peer.</summary>
    public const string NodeServerUri = "urn:edgecollector:test:node-secure-server";

    /// <summary>A fresh temporary folder.</summary>
    public static string TempFolder(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "ec-sec-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Writes a certificate and its key as PEM files; returns their paths.</summary>
    public static (string Certificate, string Key) WritePem(X509Certificate2 certificate, string folder, string name)
    {
        var cert = Path.Combine(folder, name + ".pem");
        var key = Path.Combine(folder, name + ".key.pem");
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        using var rsa = certificate.GetRSAPrivateKey()!;
        File.WriteAllText(key, rsa.ExportRSAPrivateKeyPem());
        return (cert, key);
    }

    /// <summary>Starts node-secure-server.js with <paramref name="certificate"/>.</summary>
    public static async Task<(NodePeer Peer, string EndpointUrl)> StartNodeServerAsync(X509Certificate2 certificate, string folder, bool withNone = false)
    {
        var (cert, key) = WritePem(certificate, folder, "node-server");
        var port = NodePeer.FreePort();
        var (peer, ready) = await NodePeer.StartAsync("node-secure-server.js",
            [port.ToString(CultureInfo.InvariantCulture), cert, key, Path.Combine(folder, "node-pki"), NodeServerUri, withNone ? "with-none" : "-"],
            TimeSpan.FromSeconds(90), new Dictionary<string, string> { ["PEER_PASSWORD"] = Password });
        return (peer, ready.Split(' ')[1]);
    }

    /// <summary>Client options for a secured connection with the test user.</summary>
    public static UaClientOptions ClientOptions(string endpointUrl, UaCertificateStore store, X509Certificate2 own, UaSecurityPolicy policy, MessageSecurityMode mode, string? password = Password) => new()
    {
        EndpointUrl = endpointUrl,
        ApplicationUri = "urn:edgecollector:test:client",
        Security = new UaClientSecurity { Policy = policy, Mode = mode, Certificate = own, Store = store },
        User = password is null ? null : new UaUserIdentity("collector", password),
        AutoReconnect = false,
    };
}

/// <summary>One node-opcua secure server (its certificate trusted by the client store) shared by a test class.</summary>
public sealed class NodeSecureServerFixture : IAsyncLifetime
{
    private NodePeer? _peer;

    public string Folder { get; } = SecureTestKit.TempFolder("node");

    public string EndpointUrl { get; private set; } = "";

    public X509Certificate2 ServerCertificate { get; private set; } = null!;

    public UaCertificateStore ClientStore { get; private set; } = null!;

    public X509Certificate2 ClientCertificate { get; private set; } = null!;

    public List<string> ClientLog { get; } = [];

    public NodePeer Peer => _peer!;

    public async Task InitializeAsync()
    {
        ServerCertificate = UaCertificates.Create(SecureTestKit.NodeServerUri, "node-opcua secure peer", ["127.0.0.1", "localhost"], DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        (_peer, EndpointUrl) = await SecureTestKit.StartNodeServerAsync(ServerCertificate, Folder);
        ClientStore = new UaCertificateStore(Path.Combine(Folder, "client-pki"), log: line => { lock (ClientLog) ClientLog.Add(line); });
        ClientCertificate = ClientStore.LoadOrCreateOwn("urn:edgecollector:test:client", "EdgeCollector test client");
        File.WriteAllBytes(Path.Combine(ClientStore.TrustedFolder, "node-server.der"), ServerCertificate.RawData);
    }

    public Task DisposeAsync()
    {
        _peer?.Dispose();
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
