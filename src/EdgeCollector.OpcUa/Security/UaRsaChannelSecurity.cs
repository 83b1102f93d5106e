using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Security;

/// <summary>
/// Secure conversation for the RSA policies (OPC 10000-6 §6.7): OpenSecureChannel chunks are signed with our private
/// key and encrypted with the peer's public key (in both modes); every other chunk is signed with HMAC-SHA256 and, in
/// SignAndEncrypt, padded and AES-CBC encrypted with keys derived from the two nonces by P_SHA256 (§6.7.6). One
/// instance per channel; keys are kept per token so the previous token still works until the peer switches.
/// </summary>
public sealed class UaRsaChannelSecurity : IUaChannelSecurity, IUaModeSelectable
{
    private readonly X509Certificate2 _local;
    private readonly RSA _localKey;
    private readonly byte[] _localThumbprint;
    private readonly Action<X509Certificate2>? _validateRemote;
    private readonly Dictionary<uint, TokenKeys> _keys = [];
    private readonly object _gate = new();
    private X509Certificate2? _remote;
    private RSA? _remoteKey;

    /// <summary>Creates the security of one channel.</summary>
    /// <param name="policy">The security policy.</param>
    /// <param name="mode">Sign or SignAndEncrypt (a server sets it from the OpenSecureChannel request).</param>
    /// <param name="localCertificate">Our application instance certificate with its private key.</param>
    /// <param name="remoteCertificate">The peer's certificate when known up front (client: from the endpoint); null on the server.</param>
    /// <param name="validateRemote">Checks a peer certificate learnt from the OpenSecureChannel header (server side); throws UaException.</param>
    public UaRsaChannelSecurity(UaSecurityPolicy policy, MessageSecurityMode mode, X509Certificate2 localCertificate, X509Certificate2? remoteCertificate, Action<X509Certificate2>? validateRemote = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(localCertificate);
        Policy = policy;
        Mode = mode;
        _local = localCertificate;
        _localKey = localCertificate.GetRSAPrivateKey() ?? throw new ArgumentException("The local certificate has no RSA private key", nameof(localCertificate));
        _localThumbprint = localCertificate.GetCertHash();
        _validateRemote = validateRemote;
        CheckKeySize(_localKey, "own");
        if (remoteCertificate is not null)
            SetRemote(remoteCertificate);
    }

    /// <summary>The policy.</summary>
    public UaSecurityPolicy Policy { get; }

    /// <inheritdoc />
    public string PolicyUri => Policy.Uri;

    /// <inheritdoc />
    public MessageSecurityMode Mode { get; set; }

    /// <inheritdoc />
    public byte[]? LocalCertificate => _local.RawData;

    /// <inheritdoc />
    public byte[]? RemoteCertificateThumbprint => _remote?.GetCertHash();

    /// <summary>The peer's certificate (after the first OpenSecureChannel on a server).</summary>
    public X509Certificate2? RemoteCertificate => _remote;

    /// <summary>Our certificate.</summary>
    public X509Certificate2 LocalCertificateObject => _local;

    /// <inheritdoc />
    public int MaxOverhead => 0;

    /// <inheritdoc />
    public byte[] CreateNonce() => RandomNumberGenerator.GetBytes(Policy.NonceLength);

    private void CheckKeySize(RSA key, string which)
    {
        if (key.KeySize < Policy.MinAsymmetricKeyLength || key.KeySize > Policy.MaxAsymmetricKeyLength)
        {
            throw new UaException(StatusCodes.BadCertificateInvalid,
                $"The {which} certificate has a {key.KeySize}-bit key; {Policy.Name} needs {Policy.MinAsymmetricKeyLength}–{Policy.MaxAsymmetricKeyLength} bits");
        }
    }

    private void SetRemote(X509Certificate2 certificate)
    {
        var key = certificate.GetRSAPublicKey() ?? throw new UaException(StatusCodes.BadCertificateInvalid, "The peer certificate has no RSA key");
        CheckKeySize(key, "peer");
        _remote = certificate;
        _remoteKey = key;
    }

    /// <inheritdoc />
    public void OnAsymmetricHeader(string policyUri, byte[]? senderCertificate, byte[]? receiverThumbprint)
    {
        if (senderCertificate is not { Length: > 0 })
            throw new UaException(StatusCodes.BadCertificateInvalid, "OpenSecureChannel without a sender certificate (OPC 10000-6 §6.7.2.3)");
        if (receiverThumbprint is null || !receiverThumbprint.AsSpan().SequenceEqual(_localThumbprint))
            throw new UaException(StatusCodes.BadCertificateInvalid, "OpenSecureChannel is encrypted for another certificate (ReceiverCertificateThumbprint, OPC 10000-6 §6.7.2.3)");
        if (_remote is not null)
        {
            // The certificate may be sent with its chain; the leaf comes first.
            var leaf = UaCertificates.LeafOf(senderCertificate);
            if (!leaf.AsSpan().SequenceEqual(_remote.RawData))
                throw new UaException(StatusCodes.BadCertificateInvalid, "The peer signed OpenSecureChannel with another certificate than its endpoint names");
            return;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadCertificate(UaCertificates.LeafOf(senderCertificate));
        }
        catch (CryptographicException ex)
        {
            throw new UaException(StatusCodes.BadCertificateInvalid, "The sender certificate does not parse: " + ex.Message, ex);
        }

        _validateRemote?.Invoke(certificate);
        SetRemote(certificate);
    }

    /// <inheritdoc />
    public void OnTokenIssued(uint tokenId, byte[]? clientNonce, byte[]? serverNonce, bool isClient)
    {
        if (clientNonce is null || serverNonce is null || clientNonce.Length != Policy.NonceLength || serverNonce.Length != Policy.NonceLength)
            throw new UaException(StatusCodes.BadNonceInvalid, $"{Policy.Name} needs {Policy.NonceLength}-byte nonces (OPC 10000-6 §6.7.6)");
        var client = Derive(serverNonce, clientNonce);
        var server = Derive(clientNonce, serverNonce);
        lock (_gate)
        {
            _keys[tokenId] = isClient ? new TokenKeys(client, server) : new TokenKeys(server, client);

            // Keep the current and the previous token only.
            while (_keys.Count > 2)
                _keys.Remove(_keys.Keys.Min());
        }
    }

    private DerivedKeys Derive(byte[] secret, byte[] seed)
    {
        var material = UaCrypto.PSha256(secret, seed, Policy.SigningKeyLength + Policy.EncryptionKeyLength + Policy.BlockSize);
        return new DerivedKeys(
            material[..Policy.SigningKeyLength],
            material[Policy.SigningKeyLength..(Policy.SigningKeyLength + Policy.EncryptionKeyLength)],
            material[(Policy.SigningKeyLength + Policy.EncryptionKeyLength)..]);
    }

    private TokenKeys Keys(uint tokenId)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(tokenId, out var keys)
                ? keys
                : throw new UaException(StatusCodes.BadSecureChannelTokenUnknown, $"No keys for token {tokenId} (OPC 10000-6 §6.7.6)");
        }
    }

    private RSA RemoteKey => _remoteKey ?? throw new UaException(StatusCodes.BadSecurityChecksFailed, "The peer certificate is not known yet");

    private bool Encrypts => Mode == MessageSecurityMode.SignAndEncrypt;

    /// <inheritdoc />
    public int MaxBodySize(int chunkSize, int headerSize, bool asymmetric)
    {
        // headerSize = security header end + 8 (sequence header).
        var securityHeaderEnd = headerSize - 8;
        if (asymmetric)
        {
            var remoteBytes = UaCrypto.KeyBytes(RemoteKey);
            var plainBlock = UaCrypto.PlainBlockSize(Policy.AsymmetricEncryption, remoteBytes);
            var blocks = (chunkSize - securityHeaderEnd) / remoteBytes;
            return (blocks * plainBlock) - 8 - UaCrypto.KeyBytes(_localKey) - (remoteBytes > 256 ? 2 : 1);
        }

        if (!Encrypts)
            return chunkSize - headerSize - Policy.SymmetricSignatureLength;
        var available = (chunkSize - securityHeaderEnd) / Policy.BlockSize * Policy.BlockSize;
        return available - 8 - Policy.SymmetricSignatureLength - 1;
    }

    /// <inheritdoc />
    public int ProtectedLength(int securityHeaderEnd, int plainLength, bool asymmetric)
    {
        var part = plainLength - securityHeaderEnd;
        if (asymmetric)
        {
            var remoteBytes = UaCrypto.KeyBytes(RemoteKey);
            var plainBlock = UaCrypto.PlainBlockSize(Policy.AsymmetricEncryption, remoteBytes);
            var extra = remoteBytes > 256;
            var unpadded = part + UaCrypto.KeyBytes(_localKey);
            var padded = unpadded + UaCrypto.PaddingSize(unpadded, plainBlock, extra) + (extra ? 2 : 1);
            return securityHeaderEnd + (padded / plainBlock * remoteBytes);
        }

        if (!Encrypts)
            return plainLength + Policy.SymmetricSignatureLength;
        var length = part + Policy.SymmetricSignatureLength;
        return securityHeaderEnd + length + UaCrypto.PaddingSize(length, Policy.BlockSize, false) + 1;
    }

    /// <inheritdoc />
    public void Protect(byte[] chunk, int securityHeaderEnd, int plainLength, bool asymmetric, uint tokenId)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (asymmetric)
        {
            ProtectAsymmetric(chunk, securityHeaderEnd, plainLength);
            return;
        }

        var keys = Keys(tokenId).Local;
        var end = plainLength;
        if (Encrypts)
        {
            var unpadded = plainLength - securityHeaderEnd + Policy.SymmetricSignatureLength;
            end += UaCrypto.WritePadding(chunk.AsSpan(end), UaCrypto.PaddingSize(unpadded, Policy.BlockSize, false), false);
        }

        UaCrypto.HmacSha256(keys.Signing, chunk.AsSpan(0, end)).CopyTo(chunk.AsSpan(end));
        end += Policy.SymmetricSignatureLength;
        if (Encrypts)
            UaCrypto.AesCbcEncrypt(keys.Encrypting, keys.Iv, chunk.AsSpan(securityHeaderEnd, end - securityHeaderEnd));
    }

    private void ProtectAsymmetric(byte[] chunk, int securityHeaderEnd, int plainLength)
    {
        var remoteBytes = UaCrypto.KeyBytes(RemoteKey);
        var plainBlock = UaCrypto.PlainBlockSize(Policy.AsymmetricEncryption, remoteBytes);
        var extra = remoteBytes > 256;
        var signatureLength = UaCrypto.KeyBytes(_localKey);
        var unpadded = plainLength - securityHeaderEnd + signatureLength;
        var end = plainLength + UaCrypto.WritePadding(chunk.AsSpan(plainLength), UaCrypto.PaddingSize(unpadded, plainBlock, extra), extra);
        var signature = UaCrypto.Sign(Policy, _localKey, chunk.AsSpan(0, end));
        signature.CopyTo(chunk.AsSpan(end));
        end += signature.Length;
        var cipher = UaCrypto.RsaEncrypt(Policy.AsymmetricEncryption, RemoteKey, chunk.AsSpan(securityHeaderEnd, end - securityHeaderEnd));
        cipher.CopyTo(chunk.AsSpan(securityHeaderEnd));
    }

    /// <inheritdoc />
    public Range Unprotect(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        return asymmetric ? UnprotectAsymmetric(chunk, securityHeaderEnd) : UnprotectSymmetric(chunk, securityHeaderEnd, tokenId);
    }

    private Range UnprotectSymmetric(byte[] chunk, int securityHeaderEnd, uint tokenId)
    {
        var keys = Keys(tokenId).Remote;
        var length = chunk.Length;
        if (Encrypts)
            UaCrypto.AesCbcDecrypt(keys.Encrypting, keys.Iv, chunk.AsSpan(securityHeaderEnd, length - securityHeaderEnd));
        var signatureStart = length - Policy.SymmetricSignatureLength;
        if (signatureStart < securityHeaderEnd + 8)
            throw new UaException(StatusCodes.BadSecurityChecksFailed, "Chunk too short for its signature");
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(keys.Signing, chunk.AsSpan(0, signatureStart), expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, chunk.AsSpan(signatureStart, Policy.SymmetricSignatureLength)))
            throw new UaException(StatusCodes.BadSecurityChecksFailed, "Chunk signature does not verify (OPC 10000-6 §6.7.2.5)");
        var bodyEnd = Encrypts ? UaCrypto.RemovePadding(chunk, securityHeaderEnd + 8, signatureStart, false) : signatureStart;
        return securityHeaderEnd..bodyEnd;
    }

    private Range UnprotectAsymmetric(byte[] chunk, int securityHeaderEnd)
    {
        var plain = UaCrypto.RsaDecrypt(Policy.AsymmetricEncryption, _localKey, chunk.AsSpan(securityHeaderEnd));
        var signatureLength = UaCrypto.KeyBytes(RemoteKey);
        if (plain.Length < 8 + signatureLength + 1)
            throw new UaException(StatusCodes.BadSecurityChecksFailed, "OpenSecureChannel chunk too short for its signature");

        // The signature covers the header (with the encrypted MessageSize) and the decrypted part before it.
        plain.AsSpan().CopyTo(chunk.AsSpan(securityHeaderEnd));
        var signatureStart = securityHeaderEnd + plain.Length - signatureLength;
        if (!UaCrypto.Verify(Policy, RemoteKey, chunk.AsSpan(0, signatureStart), chunk.AsSpan(signatureStart, signatureLength)))
            throw new UaException(StatusCodes.BadSecurityChecksFailed, "OpenSecureChannel signature does not verify (OPC 10000-6 §6.7.2.5)");
        var extra = UaCrypto.KeyBytes(_localKey) > 256;
        var bodyEnd = UaCrypto.RemovePadding(chunk, securityHeaderEnd + 8, signatureStart, extra);
        return securityHeaderEnd..bodyEnd;
    }

    /// <summary>Signs <paramref name="data"/> with our private key (CreateSession / ActivateSession signatures, OPC 10000-4 §5.6.2).</summary>
    public SignatureData SignData(ReadOnlySpan<byte> data) =>
        new() { Algorithm = Policy.AsymmetricSignatureUri, Signature = UaCrypto.Sign(Policy, _localKey, data) };

    /// <summary>Verifies a peer's SignatureData over <paramref name="data"/>.</summary>
    public bool VerifyData(SignatureData? signature, ReadOnlySpan<byte> data) =>
        signature?.Signature is { Length: > 0 } bytes
        && string.Equals(signature.Algorithm, Policy.AsymmetricSignatureUri, StringComparison.Ordinal)
        && UaCrypto.Verify(Policy, RemoteKey, data, bytes);

    private sealed record DerivedKeys(byte[] Signing, byte[] Encrypting, byte[] Iv);

    private sealed record TokenKeys(DerivedKeys Local, DerivedKeys Remote);
}
