using EdgeCollector.Scales.Tests.Support;
using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Protocols;

/// <summary>Properties every protocol must have, checked on valid frames of each.</summary>
public sealed class AllProtocolsTests
{
    /// <summary>Config name and a valid frame on the wire (stable and unstable forms where the protocol has them).</summary>
    public static TheoryData<string, string> ValidFrames => new()
    {
        { ScaleProtocols.Xk3190A9, "02 2B 30 30 31 35 36 30 30 31 39 03" },
        { ScaleProtocols.Xk3190A9Reversed, Convert.ToHexString(Ascii("=0.06510")) },
        { ScaleProtocols.Xk3190A12, Convert.ToHexString(Ascii("ww000.000kg")) },
        { ScaleProtocols.Xk3190A12, Convert.ToHexString(Ascii("\r\nwn012.345kg")) },
        { ScaleProtocols.ToledoContinuous, "02 2A 30 20 30 30 38 30 30 30 30 30 30 30 30 30 0D 2F" },
        { ScaleProtocols.ToledoContinuous, "02 2A 38 20 30 30 38 30 30 30 30 30 30 30 30 30 0D 27" },
        { ScaleProtocols.MtSics, Convert.ToHexString(Ascii("S S      100.00 kg\r\n")) },
        { ScaleProtocols.MtSics, Convert.ToHexString(Ascii("S D      100.00 kg\r\n")) },
        { ScaleProtocols.MtSics, Convert.ToHexString(Ascii("S I\r\n")) },
        { ScaleProtocols.And, Convert.ToHexString(Ascii("ST,GS,+00123.45kg\r\n")) },
        { ScaleProtocols.And, Convert.ToHexString(Ascii("US,GS,+00123.45kg\r\n")) },
        { ScaleProtocols.And, Convert.ToHexString(Ascii("OL,GS,+9999999Ekg\r\n")) },
    };

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Every_prefix_needs_more_and_consumes_nothing(string protocol, string hex)
    {
        var codec = ScaleProtocols.Create(protocol);
        var frame = Hex(hex);

        for (int length = 0; length < frame.Length; length++)
        {
            var (status, _, _, consumed) = DecodeOnce(codec, frame[..length]);

            Assert.True(status == ScaleDecodeStatus.NeedMoreData, $"prefix of {length} bytes gave {status}");
            Assert.Equal(0, consumed);
        }

        var whole = DecodeOnce(codec, frame);
        Assert.Equal(ScaleDecodeStatus.Frame, whole.Status);
        Assert.Equal(frame.Length, whole.Consumed);
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Frames_split_across_segments_decode_the_same(string protocol, string hex)
    {
        var codec = ScaleProtocols.Create(protocol);
        var frame = Hex(hex);
        var expected = DecodeOnce(codec, frame).Frame;

        for (int segment = 1; segment < frame.Length; segment++)
        {
            var (status, decoded, _, consumed) = DecodeOnce(codec, Concat(frame, frame), segment);

            Assert.Equal(ScaleDecodeStatus.Frame, status);
            Assert.Equal(frame.Length, consumed);
            Assert.Equal(expected, decoded);
        }
    }

    [Theory]
    [MemberData(nameof(ValidFrames))]
    public void Motion_flag_is_null_exactly_where_the_protocol_has_none(string protocol, string hex)
    {
        var codec = ScaleProtocols.Create(protocol);
        var frame = DecodeOnce(codec, Hex(hex)).Frame;

        if (frame.Kind == ScaleFrameKind.Weight)
        {
            Assert.Equal(codec.HasMotionFlag, frame.Motion.HasValue);
        }
    }

    public static TheoryData<string, string, bool> RoundTrips
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (string name in ScaleProtocols.Names)
            {
                foreach (string kg in new[] { "0", "8000", "8140", "9000", "-25", "123.45", "0.5", "999999" })
                {
                    data.Add(name, kg, false);
                    data.Add(name, kg, true);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void Encoded_frames_decode_to_the_same_reading(string protocol, string kg, bool motion)
    {
        var codec = ScaleProtocols.Create(protocol);
        decimal weight = Dec(kg);
        if (protocol == ScaleProtocols.Xk3190A9Reversed && weight.Scale > 0 && Math.Abs(weight) >= 100000)
        {
            return; // 7 characters cannot hold six digits, a point and a sign
        }

        var bytes = codec.Encode(ScaleFrame.Gross(weight, motion));
        var frames = DecodeAll(codec, Concat(bytes, bytes), out int rejected, out int garbage);

        Assert.Equal(2, frames.Count);
        Assert.Equal(0, rejected + garbage);
        Assert.Equal(weight, frames[0].GrossKg);
        Assert.Equal(codec.HasMotionFlag ? motion : null, frames[0].Motion);
    }

    [Fact]
    public void Registry_maps_every_config_name_case_insensitively()
    {
        Assert.Equal(["XK3190-A9", "XK3190-A9-Reversed", "XK3190-A12", "Toledo-Continuous", "MT-SICS", "AND"], ScaleProtocols.Names);
        foreach (string name in ScaleProtocols.Names)
        {
            Assert.Equal(name, ScaleProtocols.Create(name).Name);
            Assert.Equal(name, ScaleProtocols.Create(name.ToLowerInvariant()).Name);
        }

        Assert.IsType<Xk3190A9Codec>(ScaleProtocols.Create("XK3190-A9"));
        Assert.IsType<ToledoContinuousCodec>(ScaleProtocols.Create("Toledo-Continuous"));
        var ex = Assert.Throws<ArgumentException>(() => ScaleProtocols.Create("XK3190-A7"));
        Assert.Contains("XK3190-A9 | XK3190-A9-Reversed", ex.Message, StringComparison.Ordinal);
        Assert.False(ScaleProtocols.TryCreate(null, ScaleUnit.Kg, out _));
    }

    [Fact]
    public void Protocols_without_an_overload_form_refuse_to_encode_one()
    {
        Assert.Throws<NotSupportedException>(() => new Xk3190A9Codec().Encode(ScaleFrame.Without(ScaleFrameKind.Overload)));
        Assert.Equal(ScaleFrameKind.Overload, DecodeOnce(new MtSicsCodec(), new MtSicsCodec().Encode(ScaleFrame.Without(ScaleFrameKind.Overload))).Frame.Kind);
        Assert.Equal(ScaleFrameKind.Overload, DecodeOnce(new AndCodec(), new AndCodec().Encode(ScaleFrame.Without(ScaleFrameKind.Overload))).Frame.Kind);
        Assert.Equal(ScaleFrameKind.Overload, DecodeOnce(new ToledoContinuousCodec(), new ToledoContinuousCodec().Encode(ScaleFrame.Without(ScaleFrameKind.Overload))).Frame.Kind);
    }
}
