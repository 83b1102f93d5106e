namespace EdgeCollector.Scales;

/// <summary>
/// A&amp;D standard format (FG/GF/GX/SC series indicators and balances): a header saying stable,
/// unstable or overload, then the weight and unit.
/// </summary>
/// <remarks>
/// <code>
/// // header ',' [data kind ','] sign weight unit CR LF
/// // header    "ST" stable | "US" unstable | "OL" overload (no weight)
/// // data kind "GS" gross | "NT" net | "TR" tare   (indicators; balances omit the field)
/// // weight    sign then 8 characters, digits with a point, unit padded with spaces ("  g")
/// // e.g. "ST,GS,+00123.45kg" CR LF = gross 123.45 kg stable
/// </code>
/// </remarks>
public sealed class AndCodec : ScaleLineCodec
{
    /// <summary>Creates the codec; frames state their unit, <paramref name="unit"/> is what <see cref="Encode"/> writes.</summary>
    public AndCodec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.And;

    /// <inheritdoc />
    public override bool HasMotionFlag => true;

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> StartBytes => [(byte)'S', (byte)'U', (byte)'O'];

    /// <inheritdoc />
    protected override string? ParseLine(ReadOnlySpan<byte> line, out ScaleFrame frame)
    {
        frame = default;
        if (line.Length < 3 || line[2] != ',')
        {
            return "no header";
        }

        bool? motion = (line[0], line[1]) switch
        {
            ((byte)'S', (byte)'T') => false,
            ((byte)'U', (byte)'S') => true,
            ((byte)'O', (byte)'L') => null,
            _ => default(bool?),
        };
        bool overload = line[0] == 'O' && line[1] == 'L';
        if (motion is null && !overload)
        {
            return "unknown header (expected ST, US or OL)";
        }

        var rest = line[3..];
        byte kind = (byte)'G';
        if (rest.Length >= 3 && rest[2] == ',')
        {
            kind = (rest[0], rest[1]) switch
            {
                ((byte)'G', (byte)'S') => (byte)'G',
                ((byte)'N', (byte)'T') => (byte)'N',
                ((byte)'T', (byte)'R') => (byte)'T',
                _ => 0,
            };
            if (kind == 0)
            {
                return "unknown data kind (expected GS, NT or TR)";
            }

            rest = rest[3..];
        }

        if (overload)
        {
            // The weight field of an OL line is filler (9s or blanks): it is no reading.
            frame = ScaleFrame.Without(ScaleFrameKind.Overload);
            return null;
        }

        if (rest.Length == 0 || rest[0] is not ((byte)'+' or (byte)'-'))
        {
            return "weight has no sign";
        }

        string? reason = ParseWeightAndUnit(rest, out decimal kg);
        if (reason is not null)
        {
            return reason;
        }

        frame = kind switch
        {
            (byte)'G' => ScaleFrame.Gross(kg, motion),
            (byte)'N' => new ScaleFrame(ScaleFrameKind.Weight, null, NetKg: kg, Motion: motion),
            _ => new ScaleFrame(ScaleFrameKind.Weight, null, TareKg: kg, Motion: motion),
        };
        return null;
    }

    /// <inheritdoc />
    public override byte[] Encode(in ScaleFrame frame)
    {
        if (frame.Kind == ScaleFrameKind.Overload)
        {
            return Line($"OL,GS,+99999999{ScaleUnits.WireName(Unit)}");
        }

        (string kind, decimal kg) = frame switch
        {
            { Kind: ScaleFrameKind.Weight, GrossKg: { } g } => ("GS", g),
            { Kind: ScaleFrameKind.Weight, NetKg: { } n } => ("NT", n),
            { Kind: ScaleFrameKind.Weight, TareKg: { } t } => ("TR", t),
            _ => throw new NotSupportedException("A&D lines carry a weight or OL."),
        };
        decimal value = ScaleUnits.FromKg(kg, Unit, Math.Min((int)kg.Scale, 6));
        var (mantissa, scale, negative) = ScaleNumber.Split(value, 6);

        // Eight characters after the sign, zero-padded, point included when there are decimals.
        int digitCount = scale > 0 ? 7 : 8;
        Span<byte> digits = stackalloc byte[digitCount];
        ScaleNumber.WriteDigits(digits, mantissa);
        var text = new System.Text.StringBuilder(8);
        for (int i = 0; i < digitCount; i++)
        {
            if (scale > 0 && i == digitCount - scale)
            {
                text.Append('.');
            }

            text.Append((char)digits[i]);
        }

        return Line($"{(frame.Motion == true ? "US" : "ST")},{kind},{(negative ? '-' : '+')}{text}{ScaleUnits.WireName(Unit)}");
    }
}
