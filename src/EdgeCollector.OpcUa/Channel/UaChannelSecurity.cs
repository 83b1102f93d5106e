using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Channel;

/// <summary>
/// The security policy applied to secure-channel chunks (OPC 10000-6 §6.7.2–§6.7.6). The channel builds
/// each chunk as header | security header | sequence header | body and hands it here to be padded,
/// signed and encrypted; received chunks come here to be decrypted and verified. <see cref="UaSecurityNone"/>
/// is the only implementation in part 1; signing and encryption policies plug in here (part 2).
/// </summary>
public interface IUaChannelSecurity
{
    /// <summary>The SecurityPolicyUri sent in the asymmetric security header.</summary>
    string PolicyUri { get; }

    /// <summary>The message security mode.</summary>
    MessageSecurityMode Mode { get; }

    /// <summary>The certificate sent as SenderCertificate in OPN chunks (null for None).</summary>
    byte[]? LocalCertificate { get; }

    /// <summary>The thumbprint of the peer's certificate, sent as ReceiverCertificateThumbprint (null for None).</summary>
    byte[]? RemoteCertificateThumbprint { get; }

    /// <summary>A fresh nonce for OpenSecureChannel (empty for None).</summary>
    byte[] CreateNonce();

    /// <summary>Derives the symmetric keys for a token from the two nonces (no-op for None).</summary>
    void OnTokenIssued(uint tokenId, byte[]? clientNonce, byte[]? serverNonce, bool isClient);

    /// <summary>How many body bytes fit in a chunk of <paramref name="chunkSize"/> after <paramref name="headerSize"/> bytes of headers (sequence header included).</summary>
    int MaxBodySize(int chunkSize, int headerSize, bool asymmetric);

    /// <summary>The length of a chunk whose plain part (headers and body) is <paramref name="plainLength"/> bytes, once padded and signed.</summary>
    int ProtectedLength(int securityHeaderEnd, int plainLength, bool asymmetric);

    /// <summary>
    /// Secures a chunk in place: <paramref name="chunk"/>[0..<paramref name="plainLength"/>) holds the plain chunk whose
    /// header already carries the final size from <see cref="ProtectedLength"/>; the security header ends at
    /// <paramref name="securityHeaderEnd"/>. Adds padding and signature up to that size and encrypts (OPC 10000-6 §6.7.2.5).
    /// </summary>
    void Protect(byte[] chunk, int securityHeaderEnd, int plainLength, bool asymmetric, uint tokenId);

    /// <summary>
    /// Verifies and decrypts a received chunk in place; returns the range [securityHeaderEnd, end) that holds
    /// the sequence header and body, without padding and signature. Throws <see cref="Encoding.UaException"/>
    /// with BadSecurityChecksFailed on failure.
    /// </summary>
    Range Unprotect(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId);

    /// <summary>The most bytes <see cref="Protect"/> may add to a chunk (informational; <see cref="MaxBodySize"/> bounds the chunk).</summary>
    int MaxOverhead { get; }

    /// <summary>
    /// Sees the asymmetric security header of a received OpenSecureChannel chunk before <see cref="Unprotect"/>: the
    /// policy learns (and validates) the sender certificate and checks the receiver thumbprint. Throws
    /// <see cref="Encoding.UaException"/> to refuse the channel.
    /// </summary>
    void OnAsymmetricHeader(string policyUri, byte[]? senderCertificate, byte[]? receiverThumbprint)
    {
    }
}

/// <summary>A policy whose message security mode a server sets from the OpenSecureChannel request (Sign and SignAndEncrypt share the asymmetric handshake).</summary>
public interface IUaModeSelectable
{
    /// <summary>The message security mode.</summary>
    MessageSecurityMode Mode { get; set; }
}

/// <summary>SecurityPolicy None: chunks travel in clear, unsigned (OPC 10000-7 "SecurityPolicy – None").</summary>
public sealed class UaSecurityNone : IUaChannelSecurity
{
    /// <summary>The single instance.</summary>
    public static readonly UaSecurityNone Instance = new();

    private UaSecurityNone()
    {
    }

    /// <inheritdoc />
    public string PolicyUri => UaUris.SecurityPolicyNone;

    /// <inheritdoc />
    public MessageSecurityMode Mode => MessageSecurityMode.None;

    /// <inheritdoc />
    public byte[]? LocalCertificate => null;

    /// <inheritdoc />
    public byte[]? RemoteCertificateThumbprint => null;

    /// <inheritdoc />
    public int MaxOverhead => 0;

    /// <inheritdoc />
    public byte[] CreateNonce() => [];

    /// <inheritdoc />
    public void OnTokenIssued(uint tokenId, byte[]? clientNonce, byte[]? serverNonce, bool isClient)
    {
    }

    /// <inheritdoc />
    public int MaxBodySize(int chunkSize, int headerSize, bool asymmetric) => chunkSize - headerSize;

    /// <inheritdoc />
    public int ProtectedLength(int securityHeaderEnd, int plainLength, bool asymmetric) => plainLength;

    /// <inheritdoc />
    public void Protect(byte[] chunk, int securityHeaderEnd, int plainLength, bool asymmetric, uint tokenId)
    {
    }

    /// <inheritdoc />
    public Range Unprotect(byte[] chunk, int securityHeaderEnd, bool asymmetric, uint tokenId) => securityHeaderEnd..chunk.Length;
}
