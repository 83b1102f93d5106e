using System.Security.Cryptography;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Security;

/// <summary>The cryptographic primitives of the RSA security policies (OPC 10000-6 §6.7.2–§6.7.6), on System.Security.Cryptography.</summary>
public static class UaCrypto
{
    /// <summary>
    /// P_SHA256(secret, seed) as defined for TLS 1.2 (RFC 5246 §5) and used by OPC 10000-6 §6.7.6:
    /// A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) + seed) | HMAC(secret, A(2) + seed) | …
    /// </summary>
    public static byte[] PSha256(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> seed, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var output = new byte[length];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        Span<byte> a = stackalloc byte[32];
        Span<byte> block = stackalloc byte[32];
        hmac.AppendData(seed);
        hmac.GetHashAndReset(a);
        for (var offset = 0; offset < length; offset += 32)
        {
            hmac.AppendData(a);
            hmac.AppendData(seed);
            hmac.GetHashAndReset(block);
            block[..Math.Min(32, length - offset)].CopyTo(output.AsSpan(offset));
            hmac.AppendData(a);
            hmac.GetHashAndReset(a);
        }

        return output;
    }

    /// <summary>HMAC-SHA256 of <paramref name="data"/>.</summary>
    public static byte[] HmacSha256(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data) => HMACSHA256.HashData(key, data);

    /// <summary>Length of an RSA key in bytes (= signature size and ciphertext block size).</summary>
    public static int KeyBytes(RSA rsa)
    {
        ArgumentNullException.ThrowIfNull(rsa);
        return rsa.KeySize / 8;
    }

    /// <summary>Signs with the policy's asymmetric signature algorithm.</summary>
    public static byte[] Sign(UaSecurityPolicy policy, RSA key, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(key);
        return key.SignData(data, HashAlgorithmName.SHA256, SignaturePadding(policy));
    }

    /// <summary>Verifies an asymmetric signature.</summary>
    public static bool Verify(UaSecurityPolicy policy, RSA key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            return key.VerifyData(data, signature, HashAlgorithmName.SHA256, SignaturePadding(policy));
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static RSASignaturePadding SignaturePadding(UaSecurityPolicy policy) =>
        policy.AsymmetricSignature == UaAsymmetricSignature.RsaPssSha256 ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;

    /// <summary>The RSA encryption padding of a policy.</summary>
    public static RSAEncryptionPadding EncryptionPadding(UaAsymmetricEncryption encryption) =>
        encryption == UaAsymmetricEncryption.RsaOaepSha256 ? RSAEncryptionPadding.OaepSHA256 : RSAEncryptionPadding.OaepSHA1;

    /// <summary>How many plaintext bytes fit one RSA block (key bytes minus the OAEP overhead 2·hLen + 2).</summary>
    public static int PlainBlockSize(UaAsymmetricEncryption encryption, int keyBytes) =>
        keyBytes - (encryption == UaAsymmetricEncryption.RsaOaepSha256 ? 66 : 42);

    /// <summary>Encrypts block by block; <paramref name="plain"/> must be a whole number of plaintext blocks unless <paramref name="allowPartial"/>.</summary>
    public static byte[] RsaEncrypt(UaAsymmetricEncryption encryption, RSA publicKey, ReadOnlySpan<byte> plain, bool allowPartial = false)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        var keyBytes = KeyBytes(publicKey);
        var block = PlainBlockSize(encryption, keyBytes);
        if (!allowPartial && plain.Length % block != 0)
            throw new UaException(StatusCodes.BadInternalError, $"RSA plaintext of {plain.Length} bytes is not a multiple of {block}");
        var blocks = (plain.Length + block - 1) / block;
        var output = new byte[blocks * keyBytes];
        var padding = EncryptionPadding(encryption);
        for (var i = 0; i < blocks; i++)
        {
            var part = plain.Slice(i * block, Math.Min(block, plain.Length - i * block));
            if (!publicKey.TryEncrypt(part, output.AsSpan(i * keyBytes, keyBytes), padding, out var written) || written != keyBytes)
                throw new UaException(StatusCodes.BadInternalError, "RSA encryption failed");
        }

        return output;
    }

    /// <summary>Decrypts block by block; throws BadSecurityChecksFailed when a block does not decrypt.</summary>
    public static byte[] RsaDecrypt(UaAsymmetricEncryption encryption, RSA privateKey, ReadOnlySpan<byte> cipher)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        var keyBytes = KeyBytes(privateKey);
        if (cipher.Length == 0 || cipher.Length % keyBytes != 0)
            throw new UaException(StatusCodes.BadSecurityChecksFailed, $"Encrypted part of {cipher.Length} bytes is not a multiple of the {keyBytes}-byte RSA block (OPC 10000-6 §6.7.2.5)");
        var padding = EncryptionPadding(encryption);
        var output = new byte[cipher.Length / keyBytes * PlainBlockSize(encryption, keyBytes)];
        var written = 0;
        for (var i = 0; i < cipher.Length / keyBytes; i++)
        {
            try
            {
                if (!privateKey.TryDecrypt(cipher.Slice(i * keyBytes, keyBytes), output.AsSpan(written), padding, out var n))
                    throw new UaException(StatusCodes.BadSecurityChecksFailed, "RSA block did not decrypt");
                written += n;
            }
            catch (CryptographicException ex)
            {
                throw new UaException(StatusCodes.BadSecurityChecksFailed, "RSA block did not decrypt (OPC 10000-6 §6.7.2.5)", ex);
            }
        }

        return written == output.Length ? output : output[..written];
    }

    /// <summary>AES-CBC without padding (the chunk carries its own padding, OPC 10000-6 §6.7.2.5), in place.</summary>
    public static void AesCbcEncrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data)
    {
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        aes.EncryptCbc(data, iv, data, PaddingMode.None);
    }

    /// <summary>AES-CBC decryption without padding, in place; throws BadSecurityChecksFailed on a length that is not a block multiple.</summary>
    public static void AesCbcDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, Span<byte> data)
    {
        if (data.Length == 0 || data.Length % 16 != 0)
            throw new UaException(StatusCodes.BadSecurityChecksFailed, $"Encrypted part of {data.Length} bytes is not a multiple of the AES block (OPC 10000-6 §6.7.2.5)");
        using var aes = Aes.Create();
        aes.Key = key.ToArray();
        aes.DecryptCbc(data, iv, data, PaddingMode.None);
    }

    /// <summary>
    /// The PaddingSize for a chunk (OPC 10000-6 §6.7.2.5): the encrypted part is the sequence header, body, padding
    /// and signature; padding is PaddingSize (1 byte) + PaddingSize bytes [+ ExtraPaddingSize when the encrypting key is
    /// longer than 2048 bits], so the encrypted part is a whole number of plaintext blocks.
    /// </summary>
    /// <param name="unpaddedLength">Sequence header + body + signature.</param>
    /// <param name="blockSize">The plaintext block size of the encrypting algorithm.</param>
    /// <param name="extraPaddingByte">True when the encrypting key is longer than 2048 bits.</param>
    public static int PaddingSize(int unpaddedLength, int blockSize, bool extraPaddingByte)
    {
        var overhead = extraPaddingByte ? 2 : 1;
        var remainder = (unpaddedLength + overhead) % blockSize;
        return remainder == 0 ? 0 : blockSize - remainder;
    }

    /// <summary>Writes the padding at <paramref name="destination"/>: returns the number of bytes written (PaddingSize + 1 or + 2).</summary>
    public static int WritePadding(Span<byte> destination, int paddingSize, bool extraPaddingByte)
    {
        var low = (byte)(paddingSize & 0xFF);
        destination[..(paddingSize + 1)].Fill(low);
        if (!extraPaddingByte)
            return paddingSize + 1;
        destination[paddingSize + 1] = (byte)(paddingSize >> 8);
        return paddingSize + 2;
    }

    /// <summary>
    /// Reads and checks the padding that ends at <paramref name="end"/> (exclusive, the signature start); returns the end
    /// of the body. Every padding byte must hold PaddingSize; otherwise BadSecurityChecksFailed.
    /// </summary>
    public static int RemovePadding(ReadOnlySpan<byte> chunk, int bodyStart, int end, bool extraPaddingByte)
    {
        int size;
        int sizeBytesEnd;
        if (extraPaddingByte)
        {
            if (end - 2 < bodyStart)
                throw new UaException(StatusCodes.BadSecurityChecksFailed, "Chunk too short for its padding");
            size = (chunk[end - 1] << 8) | chunk[end - 2];
            sizeBytesEnd = end - 1;
        }
        else
        {
            if (end - 1 < bodyStart)
                throw new UaException(StatusCodes.BadSecurityChecksFailed, "Chunk too short for its padding");
            size = chunk[end - 1];
            sizeBytesEnd = end;
        }

        var start = sizeBytesEnd - size - 1;
        if (start < bodyStart)
            throw new UaException(StatusCodes.BadSecurityChecksFailed, $"PaddingSize {size} exceeds the chunk (OPC 10000-6 §6.7.2.5)");
        var low = (byte)(size & 0xFF);
        foreach (var b in chunk[start..sizeBytesEnd])
        {
            if (b != low)
                throw new UaException(StatusCodes.BadSecurityChecksFailed, "Padding bytes do not match PaddingSize (OPC 10000-6 §6.7.2.5)");
        }

        return start;
    }
}
