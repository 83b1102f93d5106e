using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// Base of the CR LF terminated text protocols (MT-SICS, A&amp;D). A line that fails its checks is
/// skipped whole: without a check character there is no better place to re-synchronise than the
/// next line end.
/// </summary>
public abstract class ScaleLineCodec : ScaleCodec
{
    /// <summary>Creates the codec; <paramref name="unit"/> is what <see cref="ScaleCodec.Encode"/> writes.</summary>
    protected ScaleLineCodec(ScaleUnit unit) : base(unit)
    {
    }

    /// <summary>Bytes that may begin a line; anything else before them is garbage.</summary>
    protected abstract ReadOnlySpan<byte> StartBytes { get; }

    /// <inheritdoc />
    public override int MaxFrameLength => 64;

    /// <inheritdoc />
    public sealed override ScaleDecodeStatus Decode(ref SequenceReader<byte> reader, out ScaleFrame frame, out ScaleFrameError error)
    {
        if (reader.Remaining == 0)
        {
            return NeedMore(out frame, out error);
        }

        if (!StartBytes.Contains(reader.UnreadSpan[0]))
        {
            return Garbage(ref reader, StartBytes, out frame, out error);
        }

        Span<byte> buffer = stackalloc byte[MaxFrameLength];
        int n = Peek(reader, buffer);
        int lf = buffer[..n].IndexOf((byte)'\n');
        if (lf < 0)
        {
            // A line that has not ended within the longest frame will never be valid; skip its first byte.
            return n < MaxFrameLength
                ? NeedMore(out frame, out error)
                : Reject(reader, StartBytes, $"no line end within {MaxFrameLength} bytes", out frame, out error);
        }

        var line = buffer[..lf];
        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        string? reason = ParseLine(line, out frame);
        if (reason is not null)
        {
            return Reject(reason, lf + 1, out frame, out error);
        }

        reader.Advance(lf + 1);
        error = default;
        return ScaleDecodeStatus.Frame;
    }

    /// <summary>Parses one line without its CR LF; returns null on success or the reason it is invalid.</summary>
    protected abstract string? ParseLine(ReadOnlySpan<byte> line, out ScaleFrame frame);

    /// <summary>Splits <c>[spaces]number[spaces]unit</c> and converts to kilograms.</summary>
    protected static string? ParseWeightAndUnit(ReadOnlySpan<byte> field, out decimal kg)
    {
        kg = 0;
        field = field.TrimEnd((byte)' ');
        int unitStart = field.Length;
        while (unitStart > 0 && IsLetter(field[unitStart - 1]))
        {
            unitStart--;
        }

        if (unitStart == field.Length)
        {
            return "no unit";
        }

        if (!ScaleUnits.TryParse(field[unitStart..], out var unit))
        {
            return "unknown unit";
        }

        if (!ScaleNumber.TryParse(field[..unitStart].TrimEnd((byte)' '), out decimal value))
        {
            return "weight is not a number";
        }

        kg = ScaleUnits.ToKg(value, unit);
        return null;
    }

    /// <summary>Writes <c>text</c> as ASCII followed by CR LF.</summary>
    protected static byte[] Line(string text)
    {
        var bytes = new byte[text.Length + 2];
        for (int i = 0; i < text.Length; i++)
        {
            bytes[i] = checked((byte)text[i]);
        }

        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static bool IsLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';
}
