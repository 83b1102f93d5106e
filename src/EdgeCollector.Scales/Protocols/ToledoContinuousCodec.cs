using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// METTLER TOLEDO standard continuous output (8142-compatible; IND-series, WILDCAT, many
/// emulations): 18 bytes with status words, displayed and tare weight and a checksum.
/// </summary>
/// <remarks>
/// <code>
/// // 00     STX 0x02
/// // 01     status word A: bits 0-2 decimal point code (table below), bits 3-4 increment size
/// // 02     status word B: bit 0 net, bit 1 negative, bit 2 out of range, bit 3 motion, bit 4 kg (else lb)
/// // 03     status word C: bits 0-2 unit override on indicators that have one (1 = g, 2 = t), bit 3 print
/// // 04-09  displayed weight (gross, or net when B bit 0), six digits, no sign or point
/// // 10-15  tare weight, six digits
/// // 16     CR 0x0D
/// // 17     checksum: two's complement of the 7-bit sum of bytes 00-16 (all 18 bytes sum to 0 mod 128)
/// //
/// // decimal point code (A bits 2..0): 0 = XXXX00, 1 = XXXXX0, 2 = XXXXXX, 3 = XXXXX.X, 4 = XXXX.XX,
/// //                                   5 = XXX.XXX, 6 = XX.XXXX, 7 = X.XXXXX
/// </code>
/// The line is 7-bit ASCII (7E1 is the usual setting); a byte with bit 7 set is rejected, because
/// the checksum alone cannot see a flip of bit 7 (it changes the sum by 128).
/// </remarks>
public sealed class ToledoContinuousCodec : ScaleCodec
{
    private const byte Stx = 0x02, Cr = 0x0D;
    private const int Length = 18;
    private static ReadOnlySpan<byte> StartBytes => [Stx];

    /// <summary>Creates the codec; frames state their unit, <paramref name="unit"/> is what <see cref="Encode"/> writes.</summary>
    public ToledoContinuousCodec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.ToledoContinuous;

    /// <inheritdoc />
    public override bool HasMotionFlag => true;

    /// <inheritdoc />
    public override int MaxFrameLength => Length;

    /// <inheritdoc />
    public override ScaleDecodeStatus Decode(ref SequenceReader<byte> reader, out ScaleFrame frame, out ScaleFrameError error)
    {
        if (reader.Remaining == 0)
        {
            return NeedMore(out frame, out error);
        }

        Span<byte> f = stackalloc byte[Length];
        int n = Peek(reader, f);
        if (f[0] != Stx)
        {
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        for (int i = 1; i < n; i++)
        {
            byte b = f[i];
            if (b >= 0x80)
            {
                return Reject(reader, StartBytes, $"byte {i} has bit 7 set (parity or line error)", out frame, out error);
            }

            if (i is >= 4 and <= 15 && !IsDigit(b))
            {
                return Reject(reader, StartBytes, $"byte {i} is not a digit", out frame, out error);
            }

            if (i == 16 && b != Cr)
            {
                return Reject(reader, StartBytes, "byte 16 is not CR", out frame, out error);
            }
        }

        if (n < Length)
        {
            return NeedMore(out frame, out error);
        }

        int sum = 0;
        foreach (byte b in f)
        {
            sum += b;
        }

        if ((sum & 0x7F) != 0)
        {
            return Reject(reader, StartBytes, $"checksum: bytes sum to {sum & 0x7F} mod 128, not 0", out frame, out error);
        }

        byte a = f[1], sb = f[2], c = f[3];
        long shown = Digits(f.Slice(4, 6)), tare = Digits(f.Slice(10, 6));
        int code = a & 0x07;
        bool negative = (sb & 0x02) != 0;
        decimal shownValue = Scaled(shown, code, negative), tareValue = Scaled(tare, code, negative: false);
        var unit = (c & 0x07) switch
        {
            1 => ScaleUnit.G,
            2 => ScaleUnit.T,
            _ => (sb & 0x10) != 0 ? ScaleUnit.Kg : ScaleUnit.Lb,
        };
        bool motion = (sb & 0x08) != 0;
        reader.Advance(Length);
        error = default;
        if ((sb & 0x04) != 0)
        {
            frame = ScaleFrame.Without(ScaleFrameKind.Overload, motion);
            return ScaleDecodeStatus.Frame;
        }

        decimal shownKg = ScaleUnits.ToKg(shownValue, unit), tareKg = ScaleUnits.ToKg(tareValue, unit);
        frame = (sb & 0x01) != 0
            ? new ScaleFrame(ScaleFrameKind.Weight, shownKg + tareKg, shownKg, tareKg, motion)
            : new ScaleFrame(ScaleFrameKind.Weight, shownKg, null, tareKg, motion);
        return ScaleDecodeStatus.Frame;
    }

    /// <inheritdoc />
    public override byte[] Encode(in ScaleFrame frame)
    {
        decimal shownKg = frame switch
        {
            { Kind: ScaleFrameKind.Overload } => 0m,
            { Kind: ScaleFrameKind.Weight, NetKg: { } netKg } => netKg,
            { Kind: ScaleFrameKind.Weight, GrossKg: { } gross } => gross,
            _ => throw new NotSupportedException("Toledo continuous output carries a weight or an out-of-range flag."),
        };
        bool net = frame.Kind == ScaleFrameKind.Weight && frame.NetKg is not null;
        decimal tareKg = frame.TareKg ?? 0m;
        int decimals = Math.Min(Math.Max((int)shownKg.Scale, tareKg.Scale), 5);
        var (shown, scale, negative) = ScaleNumber.Split(ScaleUnits.FromKg(shownKg, Unit, decimals), 5);
        var (tare, tareScale, _) = ScaleNumber.Split(ScaleUnits.FromKg(tareKg, Unit, decimals), 5);
        for (; scale < decimals; scale++)
        {
            shown *= 10;
        }

        for (; tareScale < decimals; tareScale++)
        {
            tare *= 10;
        }

        var f = new byte[Length];
        f[0] = Stx;
        f[1] = (byte)(0x20 | 0x08 | (scale + 2)); // bit 5 always 1; increment x1; code 2 + decimals
        f[2] = (byte)(0x20
            | (net ? 0x01 : 0)
            | (negative ? 0x02 : 0)
            | (frame.Kind == ScaleFrameKind.Overload ? 0x04 : 0)
            | (frame.Motion == true ? 0x08 : 0)
            | (Unit == ScaleUnit.Lb ? 0 : 0x10));
        f[3] = (byte)(0x20 | Unit switch { ScaleUnit.G => 1, ScaleUnit.T => 2, _ => 0 });
        ScaleNumber.WriteDigits(f.AsSpan(4, 6), shown);
        ScaleNumber.WriteDigits(f.AsSpan(10, 6), tare);
        f[16] = Cr;
        int sum = 0;
        for (int i = 0; i < Length - 1; i++)
        {
            sum += f[i];
        }

        f[17] = (byte)(-sum & 0x7F);
        return f;
    }

    private static long Digits(ReadOnlySpan<byte> digits)
    {
        long value = 0;
        foreach (byte d in digits)
        {
            value = (value * 10) + (d - '0');
        }

        return value;
    }

    /// <summary>Applies the decimal point code: 0 and 1 mean trailing zeros not sent, 2 none, 3-7 one to five decimals.</summary>
    private static decimal Scaled(long digits, int code, bool negative) => code switch
    {
        0 => ScaleNumber.FromMantissa(digits * 100, 0, negative),
        1 => ScaleNumber.FromMantissa(digits * 10, 0, negative),
        _ => ScaleNumber.FromMantissa(digits, code - 2, negative),
    };
}
