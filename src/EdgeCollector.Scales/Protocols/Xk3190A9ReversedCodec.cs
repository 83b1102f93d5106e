using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// The "=" continuous mode of many Chinese indicators (XK3190-A9 tF = 1 and look-alikes): the
/// displayed value sent least-significant character first. No motion flag, no unit, no check.
/// </summary>
/// <remarks>
/// <code>
/// // 00     '='
/// // 01-07  the 7 displayed characters in reverse order: digits and at most one '.';
/// //        a negative value ends with '-' (its most significant character)
/// // e.g. "=0.06510" reversed is "01560.0" = 1560.0
/// </code>
/// </remarks>
public sealed class Xk3190A9ReversedCodec : ScaleCodec
{
    private const int Length = 8;
    private static ReadOnlySpan<byte> StartBytes => [(byte)'='];

    /// <summary>Creates the codec for an indicator set to <paramref name="unit"/>.</summary>
    public Xk3190A9ReversedCodec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.Xk3190A9Reversed;

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
        if (f[0] != '=')
        {
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        bool point = false;
        for (int i = 1; i < n; i++)
        {
            byte b = f[i];
            if (b == '.')
            {
                if (point)
                {
                    return Reject(reader, StartBytes, "two decimal points", out frame, out error);
                }

                point = true;
            }
            else if (b == '-' ? i != Length - 1 : !IsDigit(b))
            {
                return Reject(reader, StartBytes, $"byte {i} is not a digit, point or final minus", out frame, out error);
            }
        }

        if (n < Length)
        {
            return NeedMore(out frame, out error);
        }

        Span<byte> text = stackalloc byte[Length - 1];
        for (int i = 0; i < text.Length; i++)
        {
            text[i] = f[Length - 1 - i];
        }

        if (!ScaleNumber.TryParse(text, out decimal value))
        {
            return Reject(reader, StartBytes, "no digits", out frame, out error);
        }

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
            throw new NotSupportedException("The '=' mode only carries a weight.");
        }

        decimal value = ScaleUnits.FromKg(kg, Unit, Math.Min((int)kg.Scale, 5));
        var (mantissa, scale, negative) = ScaleNumber.Split(value, 5);

        // The 7 displayed characters, most significant first: [-]digits[.digits], zero-padded.
        Span<byte> text = stackalloc byte[Length - 1];
        int digitCount = text.Length - (scale > 0 ? 1 : 0) - (negative ? 1 : 0);
        Span<byte> digits = stackalloc byte[digitCount];
        ScaleNumber.WriteDigits(digits, mantissa);
        int p = 0;
        if (negative)
        {
            text[p++] = (byte)'-';
        }

        for (int i = 0; i < digitCount; i++)
        {
            if (scale > 0 && i == digitCount - scale)
            {
                text[p++] = (byte)'.';
            }

            text[p++] = digits[i];
        }

        var f = new byte[Length];
        f[0] = (byte)'=';
        for (int i = 0; i < text.Length; i++)
        {
            f[1 + i] = text[text.Length - 1 - i];
        }

        return f;
    }
}
