using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Security;

/// <summary>How a policy signs asymmetrically (OPC 10000-7 security policy profiles).</summary>
public enum UaAsymmetricSignature
{
    /// <summary>RSA PKCS #1 v1.5 with SHA-256 (RSA-PKCS15-SHA2-256).</summary>
    RsaPkcs15Sha256,

    /// <summary>RSA-PSS with SHA-256, MGF1-SHA-256, salt = hash length (RSA-PSS-SHA2-256).</summary>
    RsaPssSha256,
}

/// <summary>How a policy encrypts asymmetrically.</summary>
public enum UaAsymmetricEncryption
{
    /// <summary>RSA-OAEP with SHA-1 (the OAEP hash only; still allowed by the SHA-256 policies).</summary>
    RsaOaepSha1,

    /// <summary>RSA-OAEP with SHA-256.</summary>
    RsaOaepSha256,
}

/// <summary>
/// The parameters of one RSA-based SecurityPolicy (OPC 10000-7 "SecurityPolicy – Basic256Sha256",
/// "– Aes128-Sha256-RsaOaep", "– Aes256-Sha256-RsaPss"; OPC 10000-6 §6.7.6 key lengths).
/// Basic128Rsa15 and Basic256 rely on SHA-1 and are deprecated: <see cref="Find"/> refuses them with a message.
/// </summary>
public sealed record UaSecurityPolicy
{
    private const string Prefix = "http://opcfoundation.org/UA/SecurityPolicy#";

    /// <summary>Short name, e.g. "Basic256Sha256" (as in the configuration).</summary>
    public required string Name { get; init; }

    /// <summary>The SecurityPolicyUri.</summary>
    public required string Uri { get; init; }

    /// <summary>AES key length in bytes (SymmetricEncryptionAlgorithm).</summary>
    public required int EncryptionKeyLength { get; init; }

    /// <summary>DerivedSignatureKeyLength in bytes (HMAC-SHA256 key).</summary>
    public int SigningKeyLength { get; init; } = 32;

    /// <summary>AES block size = IV length.</summary>
    public int BlockSize { get; init; } = 16;

    /// <summary>HMAC-SHA256 signature length.</summary>
    public int SymmetricSignatureLength { get; init; } = 32;

    /// <summary>SecureChannelNonceLength.</summary>
    public int NonceLength { get; init; } = 32;

    /// <summary>Smallest RSA key accepted, in bits.</summary>
    public int MinAsymmetricKeyLength { get; init; } = 2048;

    /// <summary>Largest RSA key accepted, in bits.</summary>
    public int MaxAsymmetricKeyLength { get; init; } = 4096;

    /// <summary>Asymmetric signature algorithm.</summary>
    public required UaAsymmetricSignature AsymmetricSignature { get; init; }

    /// <summary>Asymmetric encryption algorithm.</summary>
    public required UaAsymmetricEncryption AsymmetricEncryption { get; init; }

    /// <summary>The URI of the asymmetric signature algorithm, as sent in SignatureData.Algorithm (OPC 10000-4 §7.37).</summary>
    public string AsymmetricSignatureUri => AsymmetricSignature == UaAsymmetricSignature.RsaPssSha256
        ? "http://opcfoundation.org/UA/security/rsa-pss-sha2-256"
        : "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

    /// <summary>The URI of the asymmetric encryption algorithm, as sent in UserNameIdentityToken.EncryptionAlgorithm (OPC 10000-4 §7.41.4).</summary>
    public string AsymmetricEncryptionUri => AsymmetricEncryption == UaAsymmetricEncryption.RsaOaepSha256
        ? "http://opcfoundation.org/UA/security/rsa-oaep-sha2-256"
        : "http://www.w3.org/2001/04/xmlenc#rsa-oaep";

    /// <summary>Basic256Sha256: AES-256-CBC, HMAC-SHA256, RSA PKCS #1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1).</summary>
    public static readonly UaSecurityPolicy Basic256Sha256 = new()
    {
        Name = "Basic256Sha256", Uri = Prefix + "Basic256Sha256", EncryptionKeyLength = 32,
        AsymmetricSignature = UaAsymmetricSignature.RsaPkcs15Sha256, AsymmetricEncryption = UaAsymmetricEncryption.RsaOaepSha1,
    };

    /// <summary>Aes128_Sha256_RsaOaep: AES-128-CBC, HMAC-SHA256, RSA PKCS #1 v1.5 SHA-256 signatures, RSA-OAEP (SHA-1).</summary>
    public static readonly UaSecurityPolicy Aes128Sha256RsaOaep = new()
    {
        Name = "Aes128_Sha256_RsaOaep", Uri = Prefix + "Aes128_Sha256_RsaOaep", EncryptionKeyLength = 16,
        AsymmetricSignature = UaAsymmetricSignature.RsaPkcs15Sha256, AsymmetricEncryption = UaAsymmetricEncryption.RsaOaepSha1,
    };

    /// <summary>Aes256_Sha256_RsaPss: AES-256-CBC, HMAC-SHA256, RSA-PSS SHA-256 signatures, RSA-OAEP SHA-256.</summary>
    public static readonly UaSecurityPolicy Aes256Sha256RsaPss = new()
    {
        Name = "Aes256_Sha256_RsaPss", Uri = Prefix + "Aes256_Sha256_RsaPss", EncryptionKeyLength = 32,
        AsymmetricSignature = UaAsymmetricSignature.RsaPssSha256, AsymmetricEncryption = UaAsymmetricEncryption.RsaOaepSha256,
    };

    /// <summary>The supported policies, strongest first.</summary>
    public static IReadOnlyList<UaSecurityPolicy> All { get; } = [Aes256Sha256RsaPss, Basic256Sha256, Aes128Sha256RsaOaep];

    /// <summary>The SHA-1 policies we refuse (OPC 10000-7 marks them deprecated).</summary>
    public static IReadOnlyList<string> Deprecated { get; } = ["Basic128Rsa15", "Basic256"];

    /// <summary>True for the None policy URI (or an empty one).</summary>
    public static bool IsNone(string? policyUri) =>
        string.IsNullOrEmpty(policyUri) || string.Equals(policyUri, UaUris.SecurityPolicyNone, StringComparison.Ordinal);

    /// <summary>Finds a policy by short name or URI; null for None. Throws BadSecurityPolicyRejected for deprecated or unknown ones.</summary>
    public static UaSecurityPolicy? Find(string? nameOrUri)
    {
        if (IsNone(nameOrUri) || string.Equals(nameOrUri, "None", StringComparison.OrdinalIgnoreCase))
            return null;
        var name = nameOrUri!.StartsWith(Prefix, StringComparison.Ordinal) ? nameOrUri[Prefix.Length..] : nameOrUri;
        foreach (var p in All)
        {
            if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                return p;
        }

        if (Deprecated.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            throw new UaException(StatusCodes.BadSecurityPolicyRejected,
                $"Security policy {name} is deprecated (SHA-1) and refused; use Basic256Sha256, Aes128_Sha256_RsaOaep or Aes256_Sha256_RsaPss");
        }

        throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{nameOrUri}' is not supported");
    }
}
