namespace EdgeCollector.Scales;

/// <summary>
/// METTLER TOLEDO Standard Interface Command Set, weight responses (<c>S</c>, <c>SI</c>, <c>SIR</c>
/// continuous): the weight with a stable/dynamic status. 9600 8N1 by default.
/// </summary>
/// <remarks>
/// <code>
/// // "S" SP status [SP weight SP unit] CR LF
/// // status 'S' stable weight | 'D' dynamic (in motion) | 'I' command not executable
/// //        '+' overload | '-' underload   (the last three carry no weight)
/// // weight right-aligned in 10 characters, '-' before the digits when negative; unit e.g. "kg", "g"
/// // e.g. "S S      100.00 kg" CR LF = 100.00 kg stable
/// </code>
/// </remarks>
public sealed class MtSicsCodec : ScaleLineCodec
{
    /// <summary>Creates the codec; frames state their unit, <paramref name="unit"/> is what <see cref="Encode"/> writes.</summary>
    public MtSicsCodec(ScaleUnit unit = ScaleUnit.Kg) : base(unit)
    {
    }

    /// <inheritdoc />
    public override string Name => ScaleProtocols.MtSics;

    /// <inheritdoc />
    public override bool HasMotionFlag => true;

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> StartBytes => [(byte)'S'];

    /// <inheritdoc />
    protected override string? ParseLine(ReadOnlySpan<byte> line, out ScaleFrame frame)
    {
        frame = default;
        if (line.Length < 3 || line[0] != 'S' || line[1] != ' ')
        {
            return "line does not begin with \"S \"";
        }

        var rest = line[3..];
        switch (line[2])
        {
            case (byte)'I':
            case (byte)'+':
            case (byte)'-':
                if (rest.Trim((byte)' ').Length != 0)
                {
                    return "text after a status that carries no weight";
                }

                frame = ScaleFrame.Without(line[2] switch
                {
                    (byte)'I' => ScaleFrameKind.NoReading,
                    (byte)'+' => ScaleFrameKind.Overload,
                    _ => ScaleFrameKind.Underload,
                });
                return null;
            case (byte)'S':
            case (byte)'D':
                if (rest.Length == 0 || rest[0] != ' ')
                {
                    return "no space after the status";
                }

                string? reason = ParseWeightAndUnit(rest, out decimal kg);
                if (reason is not null)
                {
                    return reason;
                }

                frame = ScaleFrame.Gross(kg, motion: line[2] == 'D');
                return null;
            default:
                return "unknown status (expected S, D, I, + or -)";
        }
    }

    /// <inheritdoc />
    public override byte[] Encode(in ScaleFrame frame)
    {
        switch (frame.Kind)
        {
            case ScaleFrameKind.Overload: return Line("S +");
            case ScaleFrameKind.Underload: return Line("S -");
            case ScaleFrameKind.NoReading: return Line("S I");
        }

        if (frame.GrossKg is not { } kg)
        {
            throw new NotSupportedException("MT-SICS weight responses carry the gross (displayed) weight.");
        }

        string weight = ScaleNumber.Format(ScaleUnits.FromKg(kg, Unit, Math.Min((int)kg.Scale, 6)));
        return Line($"S {(frame.Motion == true ? 'D' : 'S')} {weight,10} {ScaleUnits.WireName(Unit)}");
    }
}
