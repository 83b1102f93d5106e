using System.Buffers;

namespace EdgeCollector.Scales;

/// <summary>
/// Bytes in and out for one weight-indicator protocol; no I/O. The driver (<see cref="ScaleLink"/>)
/// and the simulators share these codecs, so what the simulator writes is what the driver reads.
/// </summary>
/// <remarks>
/// Adding a protocol = one new subclass in this folder, its tests, and a line in <see cref="ScaleProtocols"/>.
/// </remarks>
public abstract class ScaleCodec
{
    /// <summary>Creates a codec whose unit-less frames are in <paramref name="unit"/>.</summary>
    protected ScaleCodec(ScaleUnit unit) => Unit = unit;

    /// <summary>The config name (<c>"Protocol"</c> of a <c>Scale</c> source).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// The unit the indicator is set to. Decoding uses it only for frames that do not say their unit
    /// (XK3190-A9); encoding writes frames in it.
    /// </summary>
    public ScaleUnit Unit { get; }

    /// <summary>Whether frames carry a motion flag; when false, <see cref="ScaleFrame.Motion"/> is always null.</summary>
    public abstract bool HasMotionFlag { get; }

    /// <summary>Longest frame in bytes; a decoder never waits for more than this before deciding.</summary>
    public abstract int MaxFrameLength { get; }

    /// <summary>
    /// Decodes one frame at the reader's position.
    /// <see cref="ScaleDecodeStatus.Frame"/>: the frame was consumed.
    /// <see cref="ScaleDecodeStatus.NeedMoreData"/> and <see cref="ScaleDecodeStatus.Rejected"/>: nothing was consumed.
    /// Never throws on any input.
    /// </summary>
    public abstract ScaleDecodeStatus Decode(ref SequenceReader<byte> reader, out ScaleFrame frame, out ScaleFrameError error);

    /// <summary>
    /// Kestrel-style wrapper of <see cref="Decode"/>: returns false and consumes nothing on partial input;
    /// throws <see cref="ScaleFrameException"/> (carrying the reason and the bytes to skip) on bad input.
    /// </summary>
    public bool TryRead(ref SequenceReader<byte> reader, out ScaleFrame frame)
    {
        switch (Decode(ref reader, out frame, out var error))
        {
            case ScaleDecodeStatus.Frame:
                return true;
            case ScaleDecodeStatus.NeedMoreData:
                return false;
            default:
                throw new ScaleFrameException(Name, error);
        }
    }

    /// <summary>
    /// Encodes <paramref name="frame"/> as the indicator would send it (the producing side, for
    /// simulators and tests). The number of decimals comes from the scale of the weight
    /// (<c>8000.0m</c> is sent with one decimal).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The weight does not fit the frame.</exception>
    /// <exception cref="NotSupportedException">The protocol cannot express the frame (e.g. overload in XK3190-A9).</exception>
    public abstract byte[] Encode(in ScaleFrame frame);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Result for bytes that do not begin with any of <paramref name="startBytes"/>: skip to the next one.</summary>
    protected static ScaleDecodeStatus Garbage(ref SequenceReader<byte> reader, ReadOnlySpan<byte> startBytes, out ScaleFrame frame, out ScaleFrameError error)
    {
        var probe = reader;
        probe.Advance(1);
        long skip = probe.TryAdvanceToAny(startBytes, advancePastDelimiter: false)
            ? probe.Consumed - reader.Consumed
            : reader.Remaining;
        frame = default;
        error = new ScaleFrameError("bytes before a start byte", skip, IsGarbage: true);
        return ScaleDecodeStatus.Rejected;
    }

    /// <summary>
    /// Result for a frame that began at <paramref name="frameStart"/> but failed a check: skip it up to
    /// the next start byte after its own, so one bad frame is one rejection and a good frame that
    /// begins inside the damaged bytes (a truncated frame followed by the next) is not lost.
    /// </summary>
    protected static ScaleDecodeStatus Reject(in SequenceReader<byte> reader, ReadOnlySpan<byte> startBytes, string reason, out ScaleFrame frame, out ScaleFrameError error, long frameStart = 0)
    {
        var probe = reader;
        probe.Advance(frameStart + 1);
        long skip = probe.TryAdvanceToAny(startBytes, advancePastDelimiter: false)
            ? probe.Consumed - reader.Consumed
            : reader.Remaining;
        frame = default;
        error = new ScaleFrameError(reason, skip, IsGarbage: false);
        return ScaleDecodeStatus.Rejected;
    }

    /// <summary>Result for a frame that failed a check, skipping exactly <paramref name="skip"/> bytes (e.g. a whole line).</summary>
    protected static ScaleDecodeStatus Reject(string reason, long skip, out ScaleFrame frame, out ScaleFrameError error)
    {
        frame = default;
        error = new ScaleFrameError(reason, skip, IsGarbage: false);
        return ScaleDecodeStatus.Rejected;
    }

    /// <summary>Result for partial input.</summary>
    protected static ScaleDecodeStatus NeedMore(out ScaleFrame frame, out ScaleFrameError error)
    {
        frame = default;
        error = default;
        return ScaleDecodeStatus.NeedMoreData;
    }

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes from the reader without consuming them.</summary>
    protected static int Peek(in SequenceReader<byte> reader, Span<byte> destination)
    {
        int n = (int)Math.Min(reader.Remaining, destination.Length);
        reader.TryCopyTo(destination[..n]);
        return n;
    }

    /// <summary>True for ASCII '0'–'9'.</summary>
    protected static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
