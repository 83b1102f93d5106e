using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// Yaohua XK3190-A9 continuous output (tF = 0): the displayed weight, about 10 frames a second.
/// No motion flag and no unit: stability must be inferred, the unit is the indicator's setting.
/// </summary>
/// <remarks>
/// <code>
/// // 00     STX 0x02
/// // 01     sign '+' | '-'
/// // 02-07  six digits, most significant first
/// // 08     decimal places '0'..'4' (digits right of the point)
/// // 09-10  check: XOR of bytes 01-08; high nibble then low nibble, each sent as 0x30 + nibble
/// // 11     ETX 0x03
/// // e.g. 02 2B 30 30 31 35 36 30 30 31 39 03 = +001560, 0 places = 1560
/// </code>
/// </remarks>
public sealed class Xk3190A9Codec : ScaleCodec
{
    private const byte Stx = 0x02, Etx = 0x03;
    private const int Length = 12;
    private static ReadOnlySpan<byte> StartBytes => [Stx];

    /// <summary>Creates the codec for an indicator set to <paramref name="unit"/>.</summary>
    public Xk3190A9Codec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.Xk3190A9;

    /// <inheritdoc />
    public override bool HasMotionFlag => false;

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

        // Check what has arrived position by position, so a truncated frame is rejected as soon as
        // the next frame's STX shows up where a digit belongs, without waiting for 12 bytes.
        for (int i = 1; i < n; i++)
        {
            byte b = f[i];
            bool ok = i switch
            {
                1 => b is (byte)'+' or (byte)'-',
                <= 7 => IsDigit(b),
                8 => (uint)(b - '0') <= 4,
                9 or 10 => TryNibble(b, out _),
                _ => b == Etx,
            };
            if (!ok)
            {
                return Reject(reader, StartBytes, i switch
                {
                    1 => "byte 1 is not a sign",
                    <= 7 => $"byte {i} is not a digit",
                    8 => "byte 8 is not a decimal-place count 0-4",
                    9 or 10 => $"byte {i} is not a check character",
                    _ => "byte 11 is not ETX",
                }, out frame, out error);
            }
        }

        if (n < Length)
        {
            return NeedMore(out frame, out error);
        }

        byte xor = 0;
        for (int i = 1; i <= 8; i++)
        {
            xor ^= f[i];
        }

        TryNibble(f[9], out int hi);
        TryNibble(f[10], out int lo);
        if (((hi << 4) | lo) != xor)
        {
            return Reject(reader, StartBytes, $"check mismatch: frame says 0x{(hi << 4) | lo:X2}, bytes 1-8 give 0x{xor:X2}", out frame, out error);
        }

        long mantissa = 0;
        for (int i = 2; i <= 7; i++)
        {
            mantissa = (mantissa * 10) + (f[i] - '0');
        }

        decimal value = ScaleNumber.FromMantissa(mantissa, f[8] - '0', f[1] == '-');
        reader.Advance(Length);
        error = default;
        frame = ScaleFrame.Gross(ScaleUnits.ToKg(value, Unit));
        return ScaleDecodeStatus.Frame;
    }

    /// <inheritdoc />
    public override byte[] Encode(in ScaleFrame frame)
    {
        if (frame.Kind != ScaleFrameKind.Weight || frame.GrossKg is not { } kg)
        {
            throw new NotSupportedException("XK3190-A9 continuous output only carries a weight.");
        }

        var (mantissa, scale, negative) = ScaleNumber.Split(ScaleUnits.FromKg(kg, Unit, Math.Min((int)kg.Scale, 4)), 4);
        var f = new byte[Length];
        f[0] = Stx;
        f[1] = negative ? (byte)'-' : (byte)'+';
        ScaleNumber.WriteDigits(f.AsSpan(2, 6), mantissa);
        f[8] = (byte)('0' + scale);
        byte xor = 0;
        for (int i = 1; i <= 8; i++)
        {
            xor ^= f[i];
        }

        f[9] = (byte)(0x30 + (xor >> 4));
        f[10] = (byte)(0x30 + (xor & 0x0F));
        f[11] = Etx;
        return f;
    }

    /// <summary>
    /// The spec sends a nibble as 0x30 + nibble (':'..'?' above 9); some firmware sends hex letters
    /// 'A'..'F' instead, so both are read. Encoding always follows the spec.
    /// </summary>
    private static bool TryNibble(byte b, out int nibble)
    {
        if ((uint)(b - 0x30) <= 0x0F)
        {
            nibble = b - 0x30;
            return true;
        }

        if ((uint)(b - 'A') <= 5)
        {
            nibble = b - 0x37;
            return true;
        }

        nibble = 0;
        return false;
    }
}
