using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Security;

/// <summary>Which side a peer certificate belongs to (its extended key usage must allow that role).</summary>
public enum UaPeerRole
{
    /// <summary>A server certificate (needs serverAuth when the certificate has an extended key usage).</summary>
    Server,

    /// <summary>A client certificate (needs clientAuth when the certificate has an extended key usage).</summary>
    Client,
}

/// <summary>One certificate file of the PKI folder.</summary>
/// <param name="Folder">own, trusted, issuers or rejected.</param>
/// <param name="Path">The file.</param>
/// <param name="Thumbprint">SHA-1 thumbprint (hex).</param>
/// <param name="Subject">Subject name.</param>
/// <param name="ApplicationUri">The URI in the subjectAltName, if any.</param>
/// <param name="NotBefore">Start of validity (UTC).</param>
/// <param name="NotAfter">End of validity (UTC).</param>
public sealed record UaStoredCertificate(string Folder, string Path, string Thumbprint, string Subject, string? ApplicationUri, DateTime NotBefore, DateTime NotAfter);

/// <summary>
/// The PKI folder of an application (OPC 10000-12 §7 layout, simplified): <c>own/</c> (our certificate
/// <c>cert.der</c> and private key <c>key.pem</c>, mode 0600), <c>trusted/</c>, <c>issuers/</c> and <c>rejected/</c>
/// holding DER files named by thumbprint. Peer certificates are checked in the order of OPC 10000-4 §6.1.3
/// (structure, trust list, validity period, host name, URI, key usage); an unknown one is copied to <c>rejected/</c>
/// and refused with BadCertificateUntrusted until an operator trusts it (<c>edgecollector certs trust</c>).
/// </summary>
public sealed class UaCertificateStore
{
    private readonly Action<string> _log;

    /// <summary>Opens (and creates) the PKI folder.</summary>
    /// <param name="root">The PKI root folder.</param>
    /// <param name="autoAccept">Lab only: trust every unknown certificate (logged as a warning each time).</param>
    /// <param name="log">Receives warnings and notices (never key material).</param>
    public UaCertificateStore(string root, bool autoAccept = false, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = System.IO.Path.GetFullPath(root);
        AutoAccept = autoAccept;
        _log = log ?? (static _ => { });
        foreach (var folder in new[] { TrustedFolder, IssuersFolder, RejectedFolder })
            Directory.CreateDirectory(folder);

        // own/ holds the private key: only the service's user may enter it.
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(OwnFolder);
        else if (!Directory.Exists(OwnFolder))
            Directory.CreateDirectory(OwnFolder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>The PKI root.</summary>
    public string Root { get; }

    /// <summary>True when unknown certificates are accepted (labs only).</summary>
    public bool AutoAccept { get; }

    /// <summary>Our certificate and private key.</summary>
    public string OwnFolder => System.IO.Path.Combine(Root, "own");

    /// <summary>Trusted peer and CA certificates.</summary>
    public string TrustedFolder => System.IO.Path.Combine(Root, "trusted");

    /// <summary>CA certificates used to build chains, not trusted by themselves.</summary>
    public string IssuersFolder => System.IO.Path.Combine(Root, "issuers");

    /// <summary>Peer certificates that were refused.</summary>
    public string RejectedFolder => System.IO.Path.Combine(Root, "rejected");

    private string OwnCertificatePath => System.IO.Path.Combine(OwnFolder, "cert.der");

    private string OwnKeyPath => System.IO.Path.Combine(OwnFolder, "key.pem");

    /// <summary>
    /// Loads our application instance certificate, creating it on first start (RSA 2048, SHA-256, the ApplicationUri in
    /// the subjectAltName, valid 5 years). A certificate for another ApplicationUri or past its end is replaced.
    /// </summary>
    public X509Certificate2 LoadOrCreateOwn(string applicationUri, string applicationName, IEnumerable<string>? hostNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);

        // Several sources of one collector share the folder: one creates, the others load.
        lock (OwnLocks.GetOrAdd(Root, static _ => new object()))
            return LoadOrCreateOwnLocked(applicationUri, applicationName, hostNames);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> OwnLocks = new(StringComparer.Ordinal);

    private X509Certificate2 LoadOrCreateOwnLocked(string applicationUri, string applicationName, IEnumerable<string>? hostNames)
    {
        if (File.Exists(OwnCertificatePath) && File.Exists(OwnKeyPath))
        {
            var existing = X509CertificateLoader.LoadCertificateFromFile(OwnCertificatePath);
            using var key = RSA.Create();
            key.ImportFromPem(File.ReadAllText(OwnKeyPath));
            var withKey = existing.CopyWithPrivateKey(key);
            if (UaCertificates.Uris(existing).Contains(applicationUri, StringComparer.Ordinal) && existing.NotAfter.ToUniversalTime() > DateTime.UtcNow)
                return withKey;
            _log($"Application certificate {existing.Thumbprint} does not match ApplicationUri {applicationUri} or has expired; creating a new one");
        }

        var hosts = (hostNames ?? DefaultHostNames()).ToArray();
        var created = UaCertificates.Create(applicationUri, applicationName, hosts, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        SaveOwn(created);
        _log($"Created application certificate {created.Thumbprint} for {applicationUri} in {OwnFolder}");
        return created;
    }

    /// <summary>Stores <paramref name="certificate"/> (with its private key) as our own; the key file gets mode 0600.</summary>
    public void SaveOwn(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var key = certificate.GetRSAPrivateKey() ?? throw new ArgumentException("No RSA private key", nameof(certificate));
        var pem = key.ExportPkcs8PrivateKeyPem();
        WritePrivate(OwnKeyPath, pem);
        File.WriteAllBytes(OwnCertificatePath, certificate.RawData);
    }

    private static void WritePrivate(string path, string text)
    {
        if (File.Exists(path))
            File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    /// <summary>Host names to put into a new certificate: the machine name, its DNS name, localhost and 127.0.0.1.</summary>
    public static IEnumerable<string> DefaultHostNames()
    {
        yield return Dns.GetHostName();
        yield return "localhost";
        yield return "127.0.0.1";
    }

    /// <summary>
    /// Checks a peer certificate; throws <see cref="UaException"/> with the OPC UA status code of the first failed check
    /// (BadCertificateInvalid, BadCertificateUntrusted, BadCertificateTimeInvalid, BadCertificateHostNameInvalid,
    /// BadCertificateUriInvalid, BadCertificateUseNotAllowed).
    /// </summary>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="role">Whether the peer is a server or a client.</param>
    /// <param name="expectedApplicationUri">The ApplicationUri the peer claims (null to skip).</param>
    /// <param name="expectedHost">The host the client connected to (server certificates; null to skip).</param>
    public void Validate(X509Certificate2 certificate, UaPeerRole role, string? expectedApplicationUri, string? expectedHost)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var name = $"{role.ToString().ToLowerInvariant()} certificate {certificate.Thumbprint} ({certificate.Subject})";
        if (certificate.GetRSAPublicKey() is null)
            throw new UaException(StatusCodes.BadCertificateInvalid, $"The {name} has no RSA key");

        if (!IsTrusted(certificate))
        {
            if (AutoAccept)
            {
                Save(TrustedFolder, certificate);
                _log($"AUTO-ACCEPT (lab only): trusted the unknown {name}; never use Security.AutoAcceptUntrusted in a plant");
            }
            else
            {
                var path = Save(RejectedFolder, certificate);
                throw new UaException(StatusCodes.BadCertificateUntrusted,
                    $"The {name} is not trusted; it was copied to {path}. Check it, then run: edgecollector certs trust {certificate.Thumbprint}");
            }
        }

        var now = DateTime.UtcNow;
        if (certificate.NotBefore.ToUniversalTime() > now.AddMinutes(5) || certificate.NotAfter.ToUniversalTime() < now)
        {
            throw new UaException(StatusCodes.BadCertificateTimeInvalid,
                $"The {name} is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now");
        }

        if (expectedHost is not null && role == UaPeerRole.Server)
        {
            var hosts = UaCertificates.HostNames(certificate);
            if (!hosts.Any(h => SameHost(h, expectedHost)))
            {
                throw new UaException(StatusCodes.BadCertificateHostNameInvalid,
                    $"The {name} names hosts [{string.Join(", ", hosts)}], not '{expectedHost}' of the endpoint URL");
            }
        }

        if (expectedApplicationUri is not null)
        {
            var uris = UaCertificates.Uris(certificate);
            if (!uris.Contains(expectedApplicationUri, StringComparer.Ordinal))
            {
                throw new UaException(StatusCodes.BadCertificateUriInvalid,
                    $"The {name} carries ApplicationUri [{string.Join(", ", uris)}], not '{expectedApplicationUri}' (OPC 10000-4 §6.1.3)");
            }
        }

        CheckUsage(certificate, role, name);
    }

    private static bool SameHost(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
            return true;
        static bool Loopback(string h) => string.Equals(h, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip));
        return Loopback(a) && Loopback(b);
    }

    private static void CheckUsage(X509Certificate2 certificate, UaPeerRole role, string name)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509KeyUsageExtension usage)
            {
                var needed = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;
                if ((usage.KeyUsages & needed) != needed)
                {
                    throw new UaException(StatusCodes.BadCertificateUseNotAllowed,
                        $"The {name} key usage is {usage.KeyUsages}; OPC 10000-6 §6.2.2 needs DigitalSignature and KeyEncipherment");
                }
            }
            else if (extension is X509EnhancedKeyUsageExtension enhanced)
            {
                var oid = role == UaPeerRole.Server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2";
                if (!enhanced.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == oid))
                {
                    throw new UaException(StatusCodes.BadCertificateUseNotAllowed,
                        $"The {name} extended key usage does not allow {(role == UaPeerRole.Server ? "serverAuth" : "clientAuth")}");
                }
            }
        }
    }

    private bool IsTrusted(X509Certificate2 certificate)
    {
        var trusted = Load(TrustedFolder);
        if (trusted.Any(t => string.Equals(t.Thumbprint, certificate.Thumbprint, StringComparison.OrdinalIgnoreCase)))
            return true;
        var anchors = trusted.Where(t => t.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority)).ToArray();
        if (anchors.Length == 0)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
        chain.ChainPolicy.ExtraStore.AddRange(Load(IssuersFolder).ToArray());
        return chain.Build(certificate);
    }

    private static List<X509Certificate2> Load(string folder)
    {
        var list = new List<X509Certificate2>();
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                list.Add(X509CertificateLoader.LoadCertificateFromFile(file));
            }
            catch (CryptographicException)
            {
                // Not a certificate (a note, a key); ignored.
            }
        }

        return list;
    }

    private static string Save(string folder, X509Certificate2 certificate)
    {
        var path = System.IO.Path.Combine(folder, certificate.Thumbprint + ".der");
        if (!File.Exists(path))
            File.WriteAllBytes(path, certificate.RawData);
        return path;
    }

    /// <summary>All certificates of the PKI folder (own, trusted, issuers, rejected).</summary>
    public IReadOnlyList<UaStoredCertificate> List()
    {
        var result = new List<UaStoredCertificate>();
        foreach (var (folder, path) in new[] { ("own", OwnFolder), ("trusted", TrustedFolder), ("issuers", IssuersFolder), ("rejected", RejectedFolder) })
        {
            foreach (var file in Directory.EnumerateFiles(path).Order(StringComparer.Ordinal))
            {
                X509Certificate2 c;
                try
                {
                    c = X509CertificateLoader.LoadCertificateFromFile(file);
                }
                catch (CryptographicException)
                {
                    continue;
                }

                result.Add(new UaStoredCertificate(folder, file, c.Thumbprint, c.Subject, UaCertificates.Uris(c).FirstOrDefault(), c.NotBefore.ToUniversalTime(), c.NotAfter.ToUniversalTime()));
            }
        }

        return result;
    }

    /// <summary>
    /// Trusts a certificate: a thumbprint (or a unique prefix of at least 8 hex digits) of one in <c>rejected/</c> moves it
    /// to <c>trusted/</c>; a file path (DER or PEM) is copied to <c>trusted/</c>. Throws <see cref="ArgumentException"/> with
    /// a clear message otherwise.
    /// </summary>
    public UaStoredCertificate Trust(string thumbprintOrFile)
    {
        ArgumentException.ThrowIfNullOrEmpty(thumbprintOrFile);
        X509Certificate2 certificate;
        string? rejectedPath = null;
        if (File.Exists(thumbprintOrFile))
        {
            try
            {
                certificate = X509CertificateLoader.LoadCertificateFromFile(thumbprintOrFile);
            }
            catch (CryptographicException ex)
            {
                throw new ArgumentException($"'{thumbprintOrFile}' is not a DER or PEM certificate: {ex.Message}", nameof(thumbprintOrFile), ex);
            }
        }
        else
        {
            var key = thumbprintOrFile.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
            if (key.Length < 8 || !key.All(Uri.IsHexDigit))
                throw new ArgumentException($"'{thumbprintOrFile}' is neither a file nor a thumbprint (at least 8 hex digits)", nameof(thumbprintOrFile));
            var matches = List().Where(c => c.Folder == "rejected" && c.Thumbprint.StartsWith(key, StringComparison.OrdinalIgnoreCase)).ToArray();
            if (matches.Length == 0)
                throw new ArgumentException($"No rejected certificate has thumbprint {key}; see 'edgecollector certs list'", nameof(thumbprintOrFile));
            if (matches.Length > 1)
                throw new ArgumentException($"Thumbprint prefix {key} matches {matches.Length} rejected certificates; give more digits", nameof(thumbprintOrFile));
            rejectedPath = matches[0].Path;
            certificate = X509CertificateLoader.LoadCertificateFromFile(rejectedPath);
        }

        var path = Save(TrustedFolder, certificate);
        if (rejectedPath is not null)
            File.Delete(rejectedPath);
        _log($"Trusted certificate {certificate.Thumbprint} ({certificate.Subject})");
        return new UaStoredCertificate("trusted", path, certificate.Thumbprint, certificate.Subject, UaCertificates.Uris(certificate).FirstOrDefault(), certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime());
    }
}
