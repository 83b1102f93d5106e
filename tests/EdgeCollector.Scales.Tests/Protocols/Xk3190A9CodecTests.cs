using EdgeCollector.Scales.Tests.Support;
using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Protocols;

public sealed class Xk3190A9CodecTests
{
    private static readonly byte[] Golden = Hex("02 2B 30 30 31 35 36 30 30 31 39 03");
    private readonly Xk3190A9Codec _codec = new();

    [Fact]
    public void Golden_example_from_the_spec_is_1560_kg_without_motion_flag()
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Golden);

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(12, consumed);
        Assert.Equal(ScaleFrameKind.Weight, frame.Kind);
        Assert.Equal(1560m, frame.GrossKg);
        Assert.Null(frame.Motion);
        Assert.False(_codec.HasMotionFlag);
    }

    [Fact]
    public void Encoder_reproduces_the_golden_bytes()
    {
        Assert.Equal(Golden, _codec.Encode(ScaleFrame.Gross(1560m)));
    }

    [Theory]
    [InlineData("+001560", '0', "1560")]
    [InlineData("+001560", '1', "156.0")]
    [InlineData("+001560", '4', "0.1560")]
    [InlineData("-000250", '1', "-25.0")]
    [InlineData("+000000", '0', "0")]
    public void Decimal_places_and_sign(string signAndDigits, char places, string expected)
    {
        var frame = Frame(signAndDigits + places);

        var (status, decoded, _, _) = DecodeOnce(_codec, frame);

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(Dec(expected), decoded.GrossKg);
        Assert.Equal(Dec(expected).Scale, decoded.GrossKg!.Value.Scale);
    }

    [Fact]
    public void Hex_letter_check_characters_are_accepted_as_sent_by_some_firmware()
    {
        // +000000 dp 0: XOR of bytes 1-8 is 0x1B, i.e. '1' ';' per spec or '1' 'B' in hex letters.
        var spec = Frame("+0000000");
        Assert.Equal((byte)';', spec[10]);
        var hexLetters = (byte[])spec.Clone();
        hexLetters[10] = (byte)'B';

        Assert.Equal(ScaleDecodeStatus.Frame, DecodeOnce(_codec, spec).Status);
        Assert.Equal(ScaleDecodeStatus.Frame, DecodeOnce(_codec, hexLetters).Status);
        Assert.Equal(0m, DecodeOnce(_codec, hexLetters).Frame.GrossKg);
        hexLetters[10] = (byte)'C';
        Assert.Equal(ScaleDecodeStatus.Rejected, DecodeOnce(_codec, hexLetters).Status);
    }

    [Fact]
    public void Unit_setting_converts_to_kg()
    {
        Assert.Equal(1560000m, DecodeOnce(new Xk3190A9Codec(ScaleUnit.T), Golden).Frame.GrossKg);
        Assert.Equal(1.56m, DecodeOnce(new Xk3190A9Codec(ScaleUnit.G), Golden).Frame.GrossKg);
    }

    [Theory]
    [InlineData(9, 0x32, "check mismatch")]
    [InlineData(5, 0x36, "check mismatch")]
    [InlineData(11, 0x04, "ETX")]
    [InlineData(1, 0x30, "sign")]
    [InlineData(8, 0x35, "decimal-place")]
    [InlineData(3, 0x41, "digit")]
    public void Corrupted_frames_are_rejected_with_a_reason_and_skipped_to_the_next_start_byte(int index, byte value, string reason)
    {
        var bad = (byte[])Golden.Clone();
        bad[index] = (byte)value;

        var (status, _, error, consumed) = DecodeOnce(_codec, bad);

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(bad.Length, error.BytesToSkip); // no other STX in it
        Assert.False(error.IsGarbage);
        Assert.Equal(12, DecodeOnce(_codec, Concat(bad, Golden)).Error.BytesToSkip);
        Assert.Throws<ScaleFrameException>(() =>
        {
            var reader = new System.Buffers.SequenceReader<byte>(Sequence(bad));
            _codec.TryRead(ref reader, out _);
        });
    }

    [Fact]
    public void Every_single_byte_change_is_detected()
    {
        for (int i = 0; i < Golden.Length; i++)
        {
            for (int mask = 1; mask < 256; mask++)
            {
                var bad = (byte[])Golden.Clone();
                bad[i] ^= (byte)mask;
                var frames = DecodeAll(_codec, Concat(bad, Golden), out int rejected, out int garbage);

                // Only the good frame behind it decodes; the damaged one is rejected or skipped as garbage.
                Assert.Equal(1560m, Assert.Single(frames).GrossKg);
                Assert.True(rejected + garbage > 0, $"byte {i} mask {mask:X2} went unnoticed");
            }
        }
    }

    [Fact]
    public void Truncated_frame_followed_by_a_good_one_resyncs_on_the_next_start_byte()
    {
        for (int cut = 1; cut < Golden.Length; cut++)
        {
            var frames = DecodeAll(_codec, Concat(Golden[..cut], Golden, Golden), out int rejected, out _);

            Assert.Equal(2, frames.Count);
            Assert.Equal(1, rejected);
        }
    }

    [Fact]
    public void Garbage_before_a_frame_is_skipped_up_to_the_start_byte()
    {
        var frames = DecodeAll(_codec, Concat(Ascii("noise"), Golden), out int rejected, out int garbage);

        Assert.Single(frames);
        Assert.Equal(0, rejected);
        Assert.Equal(1, garbage);
    }

    private static byte[] Frame(string body)
    {
        var f = new byte[12];
        f[0] = 0x02;
        Ascii(body).CopyTo(f, 1);
        byte x = 0;
        for (int i = 1; i <= 8; i++)
        {
            x ^= f[i];
        }

        f[9] = (byte)(0x30 + (x >> 4));
        f[10] = (byte)(0x30 + (x & 0xF));
        f[11] = 0x03;
        return f;
    }
}
