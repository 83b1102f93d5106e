using System.Buffers;
using EdgeCollector.Scales;

namespace EdgeCollector.Sim.Scales;

/// <summary>What was done to a frame on its way out.</summary>
public enum ScaleCorruption
{
    /// <summary>Sent as encoded.</summary>
    None = 0,

    /// <summary>One byte XOR-ed with a random non-zero mask.</summary>
    FlippedByte = 1,

    /// <summary>Only a leading part of the frame was sent.</summary>
    Truncated = 2,

    /// <summary>Random bytes were sent before the intact frame.</summary>
    Garbage = 3,
}

/// <summary>
/// Damages frames the way a noisy RS-485 line or a restarting converter does. Every damage is
/// checked against the codec: a flipped byte that still decodes (possible in protocols without a
/// check, e.g. a flipped digit in MT-SICS) is not a detectable corruption, so another is drawn.
/// </summary>
public sealed class ScaleCorruptor
{
    private const int MaxGarbage = 8;
    private readonly ScaleCodec _codec;
    private readonly Random _random;
    private readonly double _fraction;

    /// <summary>Creates a corruptor that damages <paramref name="percent"/> % of frames, reproducibly from <paramref name="seed"/>.</summary>
    public ScaleCorruptor(ScaleCodec codec, double percent, int seed)
    {
        ArgumentNullException.ThrowIfNull(codec);
        ArgumentOutOfRangeException.ThrowIfNegative(percent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        _codec = codec;
        _fraction = percent / 100;
        _random = new Random(seed);
    }

    /// <summary>Returns the bytes to send for <paramref name="frame"/> and what was done to them.</summary>
    public (byte[] Bytes, ScaleCorruption Corruption) Apply(byte[] frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (_fraction == 0 || _random.NextDouble() >= _fraction)
        {
            return (frame, ScaleCorruption.None);
        }

        var kind = (ScaleCorruption)_random.Next(1, 4);
        return kind switch
        {
            ScaleCorruption.FlippedByte => Flip(frame) is { } flipped ? (flipped, kind) : (Truncate(frame), ScaleCorruption.Truncated),
            ScaleCorruption.Truncated => (Truncate(frame), kind),
            _ => (Garbage(frame), kind),
        };
    }

    private byte[]? Flip(byte[] frame)
    {
        for (int attempt = 0; attempt < 32; attempt++)
        {
            var copy = (byte[])frame.Clone();
            copy[_random.Next(copy.Length)] ^= (byte)_random.Next(1, 256);
            if (!Decodes(copy))
            {
                return copy;
            }
        }

        return null;
    }

    private byte[] Truncate(byte[] frame) => frame[.._random.Next(1, frame.Length)];

    private byte[] Garbage(byte[] frame)
    {
        var bytes = new byte[_random.Next(1, MaxGarbage + 1) + frame.Length];
        _random.NextBytes(bytes.AsSpan(0, bytes.Length - frame.Length));
        frame.CopyTo(bytes, bytes.Length - frame.Length);
        return bytes;
    }

    /// <summary>Whether any frame decodes from <paramref name="bytes"/> (after re-synchronising as the driver does).</summary>
    private bool Decodes(byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        while (true)
        {
            switch (_codec.Decode(ref reader, out _, out var error))
            {
                case ScaleDecodeStatus.Frame:
                    return true;
                case ScaleDecodeStatus.NeedMoreData:
                    return false;
                default:
                    reader.Advance(error.BytesToSkip);
                    break;
            }
        }
    }
}
