using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Protocols;

public sealed class Xk3190A9ReversedCodecTests
{
    private readonly Xk3190A9ReversedCodec _codec = new();

    [Theory]
    [InlineData("=0.06510", "1560.0")]
    [InlineData("=0006510", "156000")]
    [InlineData("=00.0000", "0.000")]
    [InlineData("=52.1000", "1.25")]
    [InlineData("=0.0651-", "-1560.0")]
    public void Digits_come_least_significant_first(string wire, string expected)
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(8, consumed);
        Assert.Equal(Dec(expected), frame.GrossKg);
        Assert.Null(frame.Motion);
    }

    [Fact]
    public void Spec_example_keeps_its_decimal()
    {
        var frame = DecodeOnce(_codec, Ascii("=0.06510")).Frame;

        Assert.Equal("1560.0", frame.GrossKg!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Ascii("=0.06510"), _codec.Encode(frame));
    }

    [Theory]
    [InlineData("=0.0.510", "two decimal points")]
    [InlineData("=0-06510", "byte 2")]
    [InlineData("=0a06510", "byte 2")]
    public void Corrupted_frames_are_rejected(string wire, string reason)
    {
        var (status, _, error, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_frame_resyncs_on_the_next_equals_sign()
    {
        var frames = DecodeAll(_codec, Ascii("=0.06=0.06510=0.06510"), out int rejected, out _);

        Assert.Equal(2, frames.Count);
        Assert.Equal(1, rejected);
    }
}

public sealed class Xk3190A12CodecTests
{
    private readonly Xk3190A12Codec _codec = new();

    [Theory]
    [InlineData("ww000.000kg", "0.000", null, null)]
    [InlineData("ww012.340kg", "12.340", null, null)]
    [InlineData("wn001.500kg", null, "1.500", null)]
    [InlineData("wt000.250kg", null, null, "0.250")]
    [InlineData("ww-00.500kg", "-0.500", null, null)]
    [InlineData("\r\nww001560kg", "1560", null, null)]
    public void Gross_net_and_tare(string wire, string? gross, string? net, string? tare)
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(wire.Length, consumed);
        Assert.Equal(gross is null ? null : Dec(gross), frame.GrossKg);
        Assert.Equal(net is null ? null : Dec(net), frame.NetKg);
        Assert.Equal(tare is null ? null : Dec(tare), frame.TareKg);
        Assert.Null(frame.Motion);
    }

    [Fact]
    public void Pounds_convert_to_kg()
    {
        Assert.Equal(0.45359237m, DecodeOnce(_codec, Ascii("ww0001.00lb")).Frame.GrossKg);
    }

    [Theory]
    [InlineData("wx000.000kg", "start byte")]
    [InlineData("ww000.0a0kg", "unit")]
    [InlineData("ww000.000kx", "neither kg nor lb")]
    [InlineData("ww0.0.0000kg", "not a number")]
    [InlineData("ww0000000000kg", "longer than 8")]
    public void Corrupted_frames_are_rejected(string wire, string reason)
    {
        var (status, _, error, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Back_to_back_frames_with_a_truncated_one()
    {
        var frames = DecodeAll(_codec, Ascii("ww001.000kg\r\nww00ww002.000kg\r\nwn000.500kg"), out int rejected, out _);

        Assert.Equal([1.000m, 2.000m, null], frames.Select(f => f.GrossKg));
        Assert.Equal(0.500m, frames[2].NetKg);
        Assert.Equal(1, rejected);
    }
}

public sealed class MtSicsCodecTests
{
    private readonly MtSicsCodec _codec = new();

    [Theory]
    [InlineData("S S      100.00 kg\r\n", "100.00", false)]
    [InlineData("S D      100.02 kg\r\n", "100.02", true)]
    [InlineData("S S     -12.5 g\r\n", "-0.0125", false)]
    [InlineData("S S        1.2 t\r\n", "1200", false)]
    [InlineData("S S      100.00 kg\n", "100.00", false)]
    public void Stable_and_dynamic_weights(string wire, string kg, bool motion)
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(wire.Length, consumed);
        Assert.Equal(Dec(kg), frame.GrossKg);
        Assert.Equal(motion, frame.Motion);
    }

    [Theory]
    [InlineData("S I\r\n", ScaleFrameKind.NoReading)]
    [InlineData("S +\r\n", ScaleFrameKind.Overload)]
    [InlineData("S -\r\n", ScaleFrameKind.Underload)]
    public void Statuses_without_weight_are_no_reading(string wire, ScaleFrameKind kind)
    {
        var (status, frame, _, _) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(kind, frame.Kind);
        Assert.Null(frame.GrossKg);
    }

    [Theory]
    [InlineData("S X      100.00 kg\r\n", "unknown status")]
    [InlineData("S S      1x0.00 kg\r\n", "not a number")]
    [InlineData("S S      100.00 oz\r\n", "unknown unit")]
    [InlineData("S S      100.00\r\n", "no unit")]
    [InlineData("SS       100.00 kg\r\n", "does not begin")]
    public void Corrupted_lines_are_rejected_whole(string wire, string reason)
    {
        var (status, _, error, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(wire.Length, error.BytesToSkip);
    }

    [Fact]
    public void A_line_that_never_ends_is_rejected_once_it_exceeds_the_longest_frame()
    {
        var (status, _, _, _) = DecodeOnce(_codec, Ascii("S S " + new string(' ', 100)));

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
    }

    [Fact]
    public void Encoder_writes_the_documented_layout()
    {
        // Status, then the weight right-aligned in 10 characters, then the unit.
        Assert.Equal("S S     100.00 kg\r\n", System.Text.Encoding.ASCII.GetString(_codec.Encode(ScaleFrame.Gross(100.00m, false))));
        Assert.Equal("S D     100.00 kg\r\n", System.Text.Encoding.ASCII.GetString(_codec.Encode(ScaleFrame.Gross(100.00m, true))));
    }
}

public sealed class AndCodecTests
{
    private readonly AndCodec _codec = new();

    [Theory]
    [InlineData("ST,GS,+00123.45kg\r\n", "123.45", false)]
    [InlineData("US,GS,+00123.47kg\r\n", "123.47", true)]
    [InlineData("ST,GS,-00001.50kg\r\n", "-1.50", false)]
    [InlineData("ST,+00123.45  g\r\n", "0.12345", false)]
    public void Stable_and_unstable_weights(string wire, string kg, bool motion)
    {
        var (status, frame, _, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(wire.Length, consumed);
        Assert.Equal(Dec(kg), frame.GrossKg);
        Assert.Equal(motion, frame.Motion);
    }

    [Fact]
    public void Net_is_not_a_gross_weight()
    {
        var frame = DecodeOnce(_codec, Ascii("ST,NT,+00100.00kg\r\n")).Frame;

        Assert.Null(frame.GrossKg);
        Assert.Equal(100.00m, frame.NetKg);
    }

    [Fact]
    public void Overload_is_no_reading()
    {
        var (status, frame, _, _) = DecodeOnce(_codec, Ascii("OL,GS,+9999999Ekg\r\n"));

        Assert.Equal(ScaleDecodeStatus.Frame, status);
        Assert.Equal(ScaleFrameKind.Overload, frame.Kind);
        Assert.Null(frame.GrossKg);
    }

    [Theory]
    [InlineData("SX,GS,+00123.45kg\r\n", "unknown header")]
    [InlineData("ST,GX,+00123.45kg\r\n", "unknown data kind")]
    [InlineData("ST,GS,00123.45kg\r\n", "no sign")]
    [InlineData("ST,GS,+001?3.45kg\r\n", "not a number")]
    public void Corrupted_lines_are_rejected_whole(string wire, string reason)
    {
        var (status, _, error, consumed) = DecodeOnce(_codec, Ascii(wire));

        Assert.Equal(ScaleDecodeStatus.Rejected, status);
        Assert.Equal(0, consumed);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.Equal(wire.Length, error.BytesToSkip);
    }

    [Fact]
    public void Encoder_writes_the_documented_layout()
    {
        Assert.Equal("ST,GS,+00123.45kg\r\n", System.Text.Encoding.ASCII.GetString(_codec.Encode(ScaleFrame.Gross(123.45m, false))));
        Assert.Equal("US,GS,+00123.45kg\r\n", System.Text.Encoding.ASCII.GetString(_codec.Encode(ScaleFrame.Gross(123.45m, true))));
    }
}
