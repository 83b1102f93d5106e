using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>The PKI folder: own certificate, private key mode, and each trust check with its status code.</summary>
public sealed class CertificateStoreTests : IDisposable
{
    private readonly string _folder = SecureTestKit.TempFolder("store");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private UaCertificateStore Store(bool autoAccept = false, List<string>? log = null) =>
        new(Path.Combine(_folder, "pki"), autoAccept, line => log?.Add(line));

    private static X509Certificate2 Cert(string uri = "urn:peer", string[]? hosts = null, DateTimeOffset? notAfter = null) =>
        UaCertificates.Create(uri, "peer", hosts ?? ["127.0.0.1"], DateTimeOffset.UtcNow.AddDays(-10), notAfter ?? DateTimeOffset.UtcNow.AddYears(1));

    [Fact]
    public void The_own_certificate_is_created_once_with_uri_key_usage_and_a_private_key_file_of_mode_0600()
    {
        var store = Store();
        var own = store.LoadOrCreateOwn("urn:edgecollector:test:own", "own");
        Assert.Equal(2048, own.GetRSAPublicKey()!.KeySize);
        Assert.Equal("sha256RSA", own.SignatureAlgorithm.FriendlyName);
        Assert.Contains("urn:edgecollector:test:own", UaCertificates.Uris(own));
        var usage = own.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages;
        Assert.True(usage.HasFlag(X509KeyUsageFlags.DigitalSignature) && usage.HasFlag(X509KeyUsageFlags.NonRepudiation)
            && usage.HasFlag(X509KeyUsageFlags.KeyEncipherment) && usage.HasFlag(X509KeyUsageFlags.DataEncipherment));
        var key = Path.Combine(store.OwnFolder, "key.pem");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(store.OwnFolder));
        }
        var again = Store().LoadOrCreateOwn("urn:edgecollector:test:own", "own");
        Assert.Equal(own.Thumbprint, again.Thumbprint);
        Assert.True(again.HasPrivateKey);
        // Another ApplicationUri gets a new certificate.
        Assert.NotEqual(own.Thumbprint, Store().LoadOrCreateOwn("urn:edgecollector:test:other", "own").Thumbprint);
    }

    [Fact]
    public void Unknown_certificates_are_copied_to_rejected_and_trusted_by_thumbprint()
    {
        var store = Store();
        using var peer = Cert();
        var ex = Assert.Throws<UaException>(() => store.Validate(peer, UaPeerRole.Server, "urn:peer", "127.0.0.1"));
        Assert.Equal(StatusCodes.BadCertificateUntrusted, ex.Status);
        Assert.True(File.Exists(Path.Combine(store.RejectedFolder, peer.Thumbprint + ".der")));
        store.Trust(peer.Thumbprint);
        store.Validate(peer, UaPeerRole.Server, "urn:peer", "127.0.0.1");
        Assert.False(File.Exists(Path.Combine(store.RejectedFolder, peer.Thumbprint + ".der")));
        Assert.Throws<ArgumentException>(() => store.Trust("0123456789ABCDEF"));
        Assert.Throws<ArgumentException>(() => store.Trust("not-a-thumbprint"));
    }

    [Fact]
    public void A_certificate_file_can_be_trusted_directly()
    {
        var store = Store();
        using var peer = Cert();
        var file = Path.Combine(_folder, "peer.pem");
        File.WriteAllText(file, peer.ExportCertificatePem());
        Assert.Equal(peer.Thumbprint, store.Trust(file).Thumbprint);
        store.Validate(peer, UaPeerRole.Client, "urn:peer", null);
    }

    [Fact]
    public void Each_check_reports_its_status_code()
    {
        var store = Store();
        using var expired = Cert(notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var good = Cert();
        using var caSigned = CaSigned(out var ca);
        foreach (var c in new[] { expired, good, ca })
            File.WriteAllBytes(Path.Combine(store.TrustedFolder, c.Thumbprint + ".der"), c.RawData);

        Assert.Equal(StatusCodes.BadCertificateTimeInvalid, Assert.Throws<UaException>(() => store.Validate(expired, UaPeerRole.Server, "urn:peer", "127.0.0.1")).Status);
        Assert.Equal(StatusCodes.BadCertificateHostNameInvalid, Assert.Throws<UaException>(() => store.Validate(good, UaPeerRole.Server, "urn:peer", "plc.example")).Status);
        Assert.Equal(StatusCodes.BadCertificateUriInvalid, Assert.Throws<UaException>(() => store.Validate(good, UaPeerRole.Server, "urn:other", "127.0.0.1")).Status);
        // localhost and 127.0.0.1 are the same host.
        store.Validate(good, UaPeerRole.Server, "urn:peer", "localhost");
        // Signed by a trusted CA: trusted through the chain; its key usage lacks KeyEncipherment.
        var use = Assert.Throws<UaException>(() => store.Validate(caSigned, UaPeerRole.Client, null, null));
        Assert.Equal(StatusCodes.BadCertificateUseNotAllowed, use.Status);
        Assert.Contains("BadCertificateUseNotAllowed", use.Message, StringComparison.Ordinal);
        ca.Dispose();
    }

    private static X509Certificate2 CaSigned(out X509Certificate2 ca)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=signing only", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        return request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(1), [1, 2, 3, 4]);
    }

    [Fact]
    public void Auto_accept_trusts_unknown_certificates_with_a_logged_warning()
    {
        var log = new List<string>();
        var store = Store(autoAccept: true, log);
        using var peer = Cert();
        store.Validate(peer, UaPeerRole.Client, null, null);
        Assert.Contains(log, l => l.Contains("AUTO-ACCEPT", StringComparison.Ordinal) && l.Contains(peer.Thumbprint, StringComparison.Ordinal));
        Assert.Contains(store.List(), c => c.Folder == "trusted" && c.Thumbprint == peer.Thumbprint);
    }
}

/// <summary>Sources sharing one PKI folder get one certificate.</summary>
public sealed class SharedOwnCertificateTests
{
    [Fact]
    public async Task Concurrent_first_starts_create_one_certificate()
    {
        var folder = SecureTestKit.TempFolder("shared");
        try
        {
            var thumbprints = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
                new UaCertificateStore(Path.Combine(folder, "pki")).LoadOrCreateOwn("urn:edgecollector:test:shared", "shared").Thumbprint)));
            Assert.Single(thumbprints.Distinct());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
