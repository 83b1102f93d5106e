using System.Security.Cryptography;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Tests.Security;

/// <summary>Known-answer tests for P_SHA256 (OPC 10000-6 §6.7.6) and the chunk padding rules (§6.7.2.5).</summary>
public sealed class CryptoTests
{
    [Fact]
    public void P_SHA256_matches_the_published_TLS_1_2_PRF_test_vector()
    {
        // The widely published TLS 1.2 PRF (SHA-256) vector: PRF(secret, "test label", seed) = P_SHA256(secret, label + seed).
        var secret = Convert.FromHexString("9bbe436ba940f017b17652849a71db35");
        var seed = Convert.FromHexString("a0ba9f936cda311827a6f796ffd5198c");
        var labelAndSeed = "test label"u8.ToArray().Concat(seed).ToArray();
        var expected = Convert.FromHexString(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
            + "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");
        Assert.Equal(expected, UaCrypto.PSha256(secret, labelAndSeed, 100));
    }

    [Fact]
    public void P_SHA256_prefixes_agree_and_the_first_block_is_HMAC_of_A1_and_seed()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var seed = RandomNumberGenerator.GetBytes(32);
        var long80 = UaCrypto.PSha256(secret, seed, 80);
        Assert.Equal(long80[..33], UaCrypto.PSha256(secret, seed, 33));
        var a1 = HMACSHA256.HashData(secret, seed);
        Assert.Equal(HMACSHA256.HashData(secret, a1.Concat(seed).ToArray()), long80[..32]);
    }

    [Theory]
    // AES (16-byte blocks): 8 sequence header + 100 body + 32 signature = 140; 140 + 1 + 3 = 144 = 9 × 16.
    [InlineData(140, 16, false, 3)]
    // Already aligned with the PaddingSize byte alone: 15 + 1 = 16.
    [InlineData(15, 16, false, 0)]
    // RSA-OAEP-SHA1, 2048-bit receiver (214-byte plaintext blocks): 8 + 50 + 256 = 314; 314 + 1 + 113 = 428 = 2 × 214.
    [InlineData(314, 214, false, 113)]
    // RSA-OAEP-SHA256, 4096-bit receiver (446-byte blocks, ExtraPaddingSize byte): 8 + 10 + 512 = 530; 530 + 2 + 360 = 892 = 2 × 446.
    [InlineData(530, 446, true, 360)]
    public void Padding_size_fills_the_last_block(int unpadded, int block, bool extra, int expected)
    {
        Assert.Equal(expected, UaCrypto.PaddingSize(unpadded, block, extra));
    }

    [Fact]
    public void Padding_bytes_hold_the_padding_size_and_the_extra_byte_its_high_byte()
    {
        var buffer = new byte[400];
        Assert.Equal(4, UaCrypto.WritePadding(buffer, 3, false));
        Assert.Equal(new byte[] { 3, 3, 3, 3 }, buffer[..4]);

        Array.Clear(buffer);
        Assert.Equal(362, UaCrypto.WritePadding(buffer, 360, true));
        Assert.All(buffer[..361], b => Assert.Equal(0x68, b));
        Assert.Equal(0x01, buffer[361]);

        // Removing finds the body end again: body 10 bytes, then padding of 360 (+ extra byte).
        var chunk = new byte[10 + 362];
        UaCrypto.WritePadding(chunk.AsSpan(10), 360, true);
        Assert.Equal(10, UaCrypto.RemovePadding(chunk, 0, chunk.Length, true));
    }

    [Fact]
    public void A_wrong_padding_byte_fails_the_security_checks()
    {
        var chunk = new byte[20];
        UaCrypto.WritePadding(chunk.AsSpan(12), 7, false);
        Assert.Equal(12, UaCrypto.RemovePadding(chunk, 0, 20, false));
        chunk[14] ^= 1;
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, Assert.Throws<UaException>(() => UaCrypto.RemovePadding(chunk, 0, 20, false)).Status);
        chunk[19] = 200;
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, Assert.Throws<UaException>(() => UaCrypto.RemovePadding(chunk, 0, 20, false)).Status);
    }

    [Theory]
    [InlineData("Basic256Sha256")]
    [InlineData("Aes128_Sha256_RsaOaep")]
    [InlineData("Aes256_Sha256_RsaPss")]
    public void Asymmetric_primitives_round_trip_per_policy(string name)
    {
        var policy = UaSecurityPolicy.Find(name)!;
        using var rsa = RSA.Create(2048);
        var plain = RandomNumberGenerator.GetBytes(UaCrypto.PlainBlockSize(policy.AsymmetricEncryption, 256) * 3);
        var cipher = UaCrypto.RsaEncrypt(policy.AsymmetricEncryption, rsa, plain);
        Assert.Equal(3 * 256, cipher.Length);
        Assert.Equal(plain, UaCrypto.RsaDecrypt(policy.AsymmetricEncryption, rsa, cipher));
        var signature = UaCrypto.Sign(policy, rsa, plain);
        Assert.True(UaCrypto.Verify(policy, rsa, plain, signature));
        plain[5] ^= 0x10;
        Assert.False(UaCrypto.Verify(policy, rsa, plain, signature));
    }

    [Fact]
    public void Pss_and_pkcs1_signatures_are_not_interchangeable()
    {
        using var rsa = RSA.Create(2048);
        var data = RandomNumberGenerator.GetBytes(64);
        var pkcs1 = UaCrypto.Sign(UaSecurityPolicy.Basic256Sha256, rsa, data);
        Assert.False(UaCrypto.Verify(UaSecurityPolicy.Aes256Sha256RsaPss, rsa, data, pkcs1));
    }

    [Theory]
    [InlineData("Basic128Rsa15")]
    [InlineData("Basic256")]
    [InlineData("http://opcfoundation.org/UA/SecurityPolicy#Basic256")]
    public void Deprecated_policies_are_refused_with_a_clear_message(string name)
    {
        var ex = Assert.Throws<UaException>(() => UaSecurityPolicy.Find(name));
        Assert.Equal(StatusCodes.BadSecurityPolicyRejected, ex.Status);
        Assert.Contains("deprecated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aes_cbc_round_trips_in_place_and_rejects_partial_blocks()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(16);
        var data = RandomNumberGenerator.GetBytes(64);
        var copy = data.ToArray();
        UaCrypto.AesCbcEncrypt(key, iv, data);
        Assert.NotEqual(copy, data);
        UaCrypto.AesCbcDecrypt(key, iv, data);
        Assert.Equal(copy, data);
        Assert.Equal(StatusCodes.BadSecurityChecksFailed, Assert.Throws<UaException>(() => UaCrypto.AesCbcDecrypt(key, iv, new byte[17])).Status);
    }
}
