using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace EdgeCollector.Mqtt.Client;

/// <summary>Opens the byte stream under an MQTT connection: TCP, optionally wrapped in TLS.</summary>
public static class MqttTransport
{
    /// <summary>Connects TCP (and TLS when <see cref="MqttClientOptions.UseTls"/>), returning the stream to speak MQTT on.</summary>
    public static async Task<Stream> ConnectAsync(MqttClientOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, cancellationToken);
            var network = new NetworkStream(socket, ownsSocket: true);
            if (!options.UseTls) return network;

            var ssl = new SslStream(network, leaveInnerStreamOpen: false);
            try
            {
                await ssl.AuthenticateAsClientAsync(CreateTlsOptions(options), cancellationToken);
            }
            catch
            {
                await ssl.DisposeAsync();
                throw;
            }
            return ssl;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SslClientAuthenticationOptions CreateTlsOptions(MqttClientOptions options)
    {
        X509Certificate2Collection? roots = null;
        if (options.CaFile is { } caFile)
        {
            roots = [];
            roots.ImportFromPemFile(caFile);
            if (roots.Count == 0) throw new AuthenticationException($"CA file '{caFile}' holds no certificate.");
        }

        var tls = new SslClientAuthenticationOptions
        {
            TargetHost = options.ServerName ?? options.Host,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateServerCertificate(certificate, errors, roots),
        };
        if (LoadClientCertificate(options) is { } clientCert)
            tls.ClientCertificates = [clientCert];
        return tls;
    }

    /// <summary>
    /// With a CA file: the chain must build to one of those roots (custom root trust, no system roots) and the
    /// name must match; without one: the system's verdict stands.
    /// </summary>
    private static bool ValidateServerCertificate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2Collection? roots)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        if (roots is null) return errors == SslPolicyErrors.None;

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    private static X509Certificate2? LoadClientCertificate(MqttClientOptions options)
    {
        if (options.ClientCertificateFile is not { } file) return null;
        string ext = Path.GetExtension(file).ToLowerInvariant();
        if (ext is ".pfx" or ".p12")
            return X509CertificateLoader.LoadPkcs12FromFile(file, options.ClientCertificatePassword);
        using var pem = X509Certificate2.CreateFromPemFile(file, options.ClientKeyFile);
        // Round-trip through PKCS#12 so the key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }
}
