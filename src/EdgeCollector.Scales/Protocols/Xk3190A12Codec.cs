using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// Yaohua XK3190-A12 / A12+SS / A12E continuous text output: the displayed weight (gross, net or
/// tare), no motion flag and no check. Frames follow each other directly or separated by CR LF.
/// </summary>
/// <remarks>
/// <code>
/// // [CR|LF|SP]*   separators left from the previous frame (at most 4)
/// // 00     'w'
/// // 01     'w' gross | 'n' net | 't' tare
/// // 02-    weight: 1-8 characters, digits with at most one '.', optionally led by '-' or spaces;
/// //        the point's position is the indicator's setting
/// // then   unit "kg" | "lb"
/// // e.g. "ww000.000kg" = gross 0.000 kg, "wn012.340kg" = net 12.34 kg
/// </code>
/// The frame ends at the unit, so it is decoded without waiting for the next frame.
/// </remarks>
public sealed class Xk3190A12Codec : ScaleCodec
{
    private const int MaxSeparators = 4, MaxWeightChars = 8;
    private static ReadOnlySpan<byte> StartBytes => [(byte)'w', (byte)'W'];

    /// <summary>Creates the codec; frames state their unit, <paramref name="unit"/> is what <see cref="Encode"/> writes.</summary>
    public Xk3190A12Codec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.Xk3190A12;

    /// <inheritdoc />
    public override bool HasMotionFlag => false;

    /// <inheritdoc />
    public override int MaxFrameLength => MaxSeparators + 2 + MaxWeightChars + 2;

    /// <inheritdoc />
    public override ScaleDecodeStatus Decode(ref SequenceReader<byte> reader, out ScaleFrame frame, out ScaleFrameError error)
    {
        Span<byte> f = stackalloc byte[MaxFrameLength];
        int n = Peek(reader, f);
        int p = 0;
        while (p < n && f[p] is (byte)'\r' or (byte)'\n' or (byte)' ')
        {
            p++;
        }

        if (p > MaxSeparators)
        {
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        if (p == n)
        {
            return NeedMore(out frame, out error);
        }

        if ((f[p] | 0x20) != 'w')
        {
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        int start = p++;
        if (p == n)
        {
            return NeedMore(out frame, out error);
        }

        byte kind = (byte)(f[p++] | 0x20);
        if (kind is not ((byte)'w' or (byte)'n' or (byte)'t'))
        {
            // A 'w' not followed by w, n or t does not start a frame (e.g. the 'w' of "kg" in noise).
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        int weightStart = p;
        while (p < n && (IsDigit(f[p]) || f[p] is (byte)'.' or (byte)'-' or (byte)' '))
        {
            p++;
        }

        int weightLength = p - weightStart;
        if (weightLength > MaxWeightChars)
        {
            return Reject(reader, StartBytes, "weight field longer than 8 characters", out frame, out error, frameStart: start);
        }

        if (p == n)
        {
            return NeedMore(out frame, out error);
        }

        byte u0 = (byte)(f[p] | 0x20);
        if (u0 is not ((byte)'k' or (byte)'l'))
        {
            return Reject(reader, StartBytes, "weight is not followed by a unit", out frame, out error, frameStart: start);
        }

        if (p + 1 == n)
        {
            return NeedMore(out frame, out error);
        }

        if (!ScaleUnits.TryParse(f.Slice(p, 2), out var unit))
        {
            return Reject(reader, StartBytes, "unit is neither kg nor lb", out frame, out error, frameStart: start);
        }

        if (!ScaleNumber.TryParse(f.Slice(weightStart, weightLength), out decimal value))
        {
            return Reject(reader, StartBytes, "weight is not a number", out frame, out error, frameStart: start);
        }

        reader.Advance(p + 2);
        error = default;
        decimal kg = ScaleUnits.ToKg(value, unit);
        frame = kind switch
        {
            (byte)'w' => ScaleFrame.Gross(kg),
            (byte)'n' => new ScaleFrame(ScaleFrameKind.Weight, null, NetKg: kg),
            _ => new ScaleFrame(ScaleFrameKind.Weight, null, TareKg: kg),
        };
        return ScaleDecodeStatus.Frame;
    }

    /// <inheritdoc />
    public override byte[] Encode(in ScaleFrame frame)
    {
        if (frame.Kind != ScaleFrameKind.Weight)
        {
            throw new NotSupportedException("XK3190-A12 continuous output only carries a weight.");
        }

        if (Unit is not (ScaleUnit.Kg or ScaleUnit.Lb))
        {
            throw new NotSupportedException("XK3190-A12 sends kg or lb.");
        }

        (byte kind, decimal kg) = frame switch
        {
            { GrossKg: { } g } => ((byte)'w', g),
            { NetKg: { } net } => ((byte)'n', net),
            { TareKg: { } t } => ((byte)'t', t),
            _ => throw new NotSupportedException("The frame has no weight."),
        };

        var (mantissa, scale, negative) = ScaleNumber.Split(ScaleUnits.FromKg(kg, Unit, Math.Min((int)kg.Scale, 5)), 5);

        // Seven characters like the indicator's display: [-]digits with the point at its setting.
        int digitCount = 7 - (scale > 0 ? 1 : 0) - (negative ? 1 : 0);
        Span<byte> digits = stackalloc byte[digitCount];
        ScaleNumber.WriteDigits(digits, mantissa);
        var f = new byte[2 + 7 + 2];
        f[0] = (byte)'w';
        f[1] = kind;
        int p = 2;
        if (negative)
        {
            f[p++] = (byte)'-';
        }

        for (int i = 0; i < digitCount; i++)
        {
            if (scale > 0 && i == digitCount - scale)
            {
                f[p++] = (byte)'.';
            }

            f[p++] = digits[i];
        }

        string unit = ScaleUnits.WireName(Unit);
        f[p++] = (byte)unit[0];
        f[p] = (byte)unit[1];
        return f;
    }
}
