using EdgeCollector.Scales.Tests.Support;
using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Protocols;

public sealed class ToledoContinuousCodecTests
{
    // Hand-built from the layout: A = 0x2A (bit 5, increment x1, point code 2 = XXXXXX),
    // B = 0x30 (bit 5, kg) or 0x38 (+ motion), C = 0x20, weight 008000, tare 000000, CR, checksum.
    private static readonly byte[] Stable8000 = Hex("02 2A 30 20 30 30 38 30 30 30 30 30 30 30 30 30 0D 2F");
    private static readonly byte[] Moving8000 = Hex("02 2A 38 20 30 30 38 30 30 30 30 30 30 30 30 30 0D 27");
    private readonly ToledoContinuousCodec _codec = new();

    [Fact]
    public void Motion_cleared_is_a_stable_8000_kg()
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Stable8000);

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(18, consumed);
        Assert.Equal(8000m, frame.GrossKg);
        Assert.False(frame.Motion);
        Assert.Null(frame.NetKg);
        Assert.Equal(0m, frame.TareKg);
    }

    [Fact]
    public void Motion_set_is_flagged()
    {
        var (status, frame, _, _) = DecodeOnce(_codec, Moving8000);

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(8000m, frame.GrossKg);
        Assert.True(frame.Motion);
    }

    [Fact]
    public void Encoder_reproduces_the_hand_built_frames()
    {
        Assert.Equal(Stable8000, _codec.Encode(ScaleFrame.Gross(8000m, motion: false)));
        Assert.Equal(Moving8000, _codec.Encode(ScaleFrame.Gross(8000m, motion: true)));
    }

    [Theory]
    [InlineData("02 2C 31 20 30 31 32 33 34 35 30 30 31 30 30 30 0D 24", "133.45", "123.45", "10.00")] // net, 2 decimals
    [InlineData("02 28 30 20 30 30 30 31 32 33 30 30 30 30 30 30 0D 33", "12300", null, "0")] // code 0: two zeros not sent
    [InlineData("02 2A 32 20 30 30 30 30 35 30 30 30 30 30 30 30 0D 30", "-50", null, "0")] // negative
    public void Status_words_decode_point_net_and_sign(string hex, string gross, string? net, string tare)
    {
        var (status, frame, _, _) = DecodeOnce(_codec, Hex(hex));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(Dec(gross), frame.GrossKg);
        Assert.Equal(net is null ? null : Dec(net), frame.NetKg);
        Assert.Equal(Dec(tare), frame.TareKg);
    }

    [Theory]
    [InlineData(0, "12300")]
    [InlineData(1, "1230")]
    [InlineData(2, "123")]
    [InlineData(3, "12.3")]
    [InlineData(4, "1.23")]
    [InlineData(5, "0.123")]
    [InlineData(6, "0.0123")]
    [InlineData(7, "0.00123")]
    public void Decimal_point_codes_follow_the_status_word_A_table(int code, string kg)
    {
        var frame = Wire.Hex("02 20 30 20 30 30 30 31 32 33 30 30 30 30 30 30 0D 00");
        frame[1] = (byte)(0x20 | code);
        int sum = frame[..17].Sum(b => b);
        frame[17] = (byte)(-sum & 0x7F);

        var (status, decoded, _, _) = DecodeOnce(_codec, frame);

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(Dec(kg), decoded.GrossKg);
    }

    [Fact]
    public void Pounds_are_converted_to_kg()
    {
        var (_, frame, _, _) = DecodeOnce(_codec, Hex("02 2A 20 20 30 30 31 30 30 30 30 30 30 30 30 30 0D 46"));

        Assert.Equal(453.59237m, frame.GrossKg);
    }

    [Fact]
    public void Out_of_range_is_an_overload_without_weight()
    {
        var (status, frame, _, _) = DecodeOnce(_codec, Hex("02 2A 34 20 30 30 30 30 30 30 30 30 30 30 30 30 0D 33"));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(ScaleFrameKind.Overload, frame.Kind);
        Assert.Null(frame.GrossKg);
    }

    [Theory]
    [InlineData(17, 0x30, "checksum")]
    [InlineData(6, 0x39, "checksum")]
    [InlineData(16, 0x0A, "CR")]
    [InlineData(7, 0x20, "digit")]
    [InlineData(2, 0xB0, "bit 7")] // a bit-7 flip leaves the 7-bit sum unchanged
    public void Corrupted_frames_are_rejected_with_a_reason(int index, byte value, string reason)
    {
        var bad = (byte[])Stable8000.Clone();
        bad[index] = value;

        var (status, _, error, consumed) = DecodeOnce(_codec, bad);

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(18, error.BytesToSkip);
    }

    [Fact]
    public void Every_single_byte_change_is_detected()
    {
        for (int i = 0; i < Stable8000.Length; i++)
        {
            for (int mask = 1; mask < 256; mask++)
            {
                var bad = (byte[])Moving8000.Clone();
                bad[i] ^= (byte)mask;
                var frames = DecodeAll(_codec, Concat(bad, Stable8000), out int rejected, out int garbage);

                var only = Assert.Single(frames);
                Assert.False(only.Motion);
                Assert.True(rejected + garbage > 0, $"byte {i} mask {mask:X2} went unnoticed");
            }
        }
    }

    [Fact]
    public void Truncated_frame_followed_by_good_ones_resyncs()
    {
        for (int cut = 1; cut < Stable8000.Length; cut++)
        {
            var frames = DecodeAll(_codec, Concat(Moving8000[..cut], Stable8000, Stable8000), out int rejected, out _);

            Assert.Equal(2, frames.Count);
            Assert.All(frames, f => Assert.False(f.Motion));
            Assert.Equal(1, rejected);
        }
    }
}
