namespace EdgeCollector.Scales;

/// <summary>
/// ASCII decimal numbers as weight indicators send them. Hand-written rather than
/// <c>decimal.Parse</c> so that nothing depends on culture and nothing allocates per frame.
/// </summary>
internal static class ScaleNumber
{
    /// <summary>Most digits a weight field has in any supported protocol, with headroom.</summary>
    private const int MaxDigits = 18;

    /// <summary>Builds <c>mantissa × 10^-scale</c>, keeping the scale (so <c>1560.0</c> stays one decimal).</summary>
    public static decimal FromMantissa(long mantissa, int scale, bool negative)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mantissa);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(scale, 28);
        return new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, negative && mantissa != 0, (byte)scale);
    }

    /// <summary>
    /// Parses <c>[spaces][+|-][spaces]digits[.digits]</c> with at least one digit and nothing after.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out decimal value)
    {
        value = 0;
        int i = 0;
        while (i < text.Length && text[i] == ' ')
        {
            i++;
        }

        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
        {
            negative = text[i] == '-';
            i++;
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }
        }

        long mantissa = 0;
        int digits = 0, scale = 0;
        bool point = false;
        for (; i < text.Length; i++)
        {
            byte c = text[i];
            if (c == '.')
            {
                if (point)
                {
                    return false;
                }

                point = true;
            }
            else if ((uint)(c - '0') <= 9)
            {
                if (++digits > MaxDigits)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + (c - '0');
                if (point)
                {
                    scale++;
                }
            }
            else
            {
                return false;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        value = FromMantissa(mantissa, scale, negative);
        return true;
    }

    /// <summary>Splits a weight into its unsigned mantissa and scale, rounding to at most <paramref name="maxScale"/> decimals.</summary>
    public static (long Mantissa, int Scale, bool Negative) Split(decimal value, int maxScale)
    {
        if (value.Scale > maxScale)
        {
            value = Math.Round(value, maxScale, MidpointRounding.AwayFromZero);
        }

        int scale = value.Scale;
        decimal abs = Math.Abs(value);
        decimal m = abs;
        for (int k = 0; k < scale; k++)
        {
            m *= 10;
        }

        if (m > long.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Weight too large for a frame.");
        }

        return ((long)m, scale, value < 0);
    }

    /// <summary>Writes <paramref name="value"/> as exactly <paramref name="destination"/>.Length ASCII digits, zero-padded.</summary>
    public static void WriteDigits(Span<byte> destination, long value)
    {
        for (int i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        if (value != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "Weight does not fit the digits of the frame.");
        }
    }

    /// <summary>Formats a weight with its own scale, invariant culture, e.g. <c>-12.50</c>.</summary>
    public static string Format(decimal value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
