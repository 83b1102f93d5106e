using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Security;

/// <summary>Application instance certificates (OPC 10000-6 §6.2.2, OPC 10000-4 §6.1): creation and inspection.</summary>
public static class UaCertificates
{
    private const string SubjectAltNameOid = "2.5.29.17";

    /// <summary>
    /// Creates a self-signed application instance certificate (OPC 10000-6 §6.2.2: CN and O in the subject): RSA 2048, SHA-256, the ApplicationUri as a URI in the
    /// subjectAltName together with the host names / addresses, key usage digitalSignature, nonRepudiation,
    /// keyEncipherment, dataEncipherment and keyCertSign (self-signed), extended key usage serverAuth and clientAuth.
    /// </summary>
    public static X509Certificate2 Create(string applicationUri, string applicationName, IEnumerable<string> hostNames, DateTimeOffset notBefore, DateTimeOffset notAfter, int keySize = 2048, string organization = "EdgeCollector")
    {
        ArgumentException.ThrowIfNullOrEmpty(applicationUri);
        ArgumentNullException.ThrowIfNull(hostNames);
        using var rsa = RSA.Create(keySize);
        var hosts = hostNames.Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(applicationName);
        subject.AddOrganizationName(organization);
        if (hosts.Length > 0)
            subject.Add("0.9.2342.19200300.100.1.25", hosts[0].Replace(".", "_", StringComparison.Ordinal)); // DC
        var request = new CertificateRequest(subject.Build(), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(applicationUri));
        foreach (var host in hosts)
        {
            if (IPAddress.TryParse(host, out var ip))
                san.AddIpAddress(ip);
            else
                san.AddDnsName(host);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation | X509KeyUsageFlags.KeyEncipherment
            | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(ski));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var generator = request.Create(request.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1), notBefore, notAfter, serial);
        return generator.CopyWithPrivateKey(rsa);
    }

    /// <summary>The URIs in the subjectAltName (the ApplicationUri of an application instance certificate).</summary>
    public static IReadOnlyList<string> Uris(X509Certificate2 certificate) => AltNames(certificate).Uris;

    /// <summary>The DNS names and IP addresses in the subjectAltName.</summary>
    public static IReadOnlyList<string> HostNames(X509Certificate2 certificate) => AltNames(certificate).Hosts;

    private static (List<string> Uris, List<string> Hosts) AltNames(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var uris = new List<string>();
        var hosts = new List<string>();
        var extension = certificate.Extensions[SubjectAltNameOid];
        if (extension is null)
            return (uris, hosts);
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    names.ReadEncodedValue();
                    continue;
                }

                switch (tag.TagValue)
                {
                    case 2: // dNSName
                        hosts.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 2)));
                        break;
                    case 6: // uniformResourceIdentifier
                        uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, 6)));
                        break;
                    case 7: // iPAddress
                        hosts.Add(new IPAddress(names.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7))).ToString());
                        break;
                    default:
                        names.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed extension names nothing; the URI / host checks then fail with their own codes.
        }

        return (uris, hosts);
    }

    /// <summary>The first DER certificate of a (possibly concatenated) certificate chain (OPC 10000-6 §6.2.3).</summary>
    public static byte[] LeafOf(byte[] chain)
    {
        ArgumentNullException.ThrowIfNull(chain);
        try
        {
            var reader = new AsnReader(chain, AsnEncodingRules.BER);
            var first = reader.ReadEncodedValue();
            return first.Length == chain.Length ? chain : first.ToArray();
        }
        catch (AsnContentException ex)
        {
            throw new UaException(StatusCodes.BadCertificateInvalid, "Certificate is not DER: " + ex.Message, ex);
        }
    }

    /// <summary>Loads a certificate from DER bytes; BadCertificateInvalid when it does not parse.</summary>
    public static X509Certificate2 Load(byte[] der)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(LeafOf(der));
        }
        catch (CryptographicException ex)
        {
            throw new UaException(StatusCodes.BadCertificateInvalid, "Certificate does not parse: " + ex.Message, ex);
        }
    }

    /// <summary>Upper-case hex SHA-1 thumbprint (the form OPC UA tools and <c>certs list</c> show).</summary>
    public static string Thumbprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Thumbprint;
    }
}
