using System.Buffers;
using System.Globalization;
using System.Text;
using EdgeCollector.Scales;

namespace EdgeCollector.Scales.Tests.Support;

/// <summary>Byte helpers for codec tests.</summary>
internal static class Wire
{
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static decimal Dec(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>A sequence cut into segments of <paramref name="segmentSize"/> bytes (0 = one segment).</summary>
    public static ReadOnlySequence<byte> Sequence(byte[] bytes, int segmentSize = 0)
    {
        if (segmentSize <= 0 || bytes.Length <= segmentSize)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        Segment? first = null, last = null;
        for (int i = 0; i < bytes.Length; i += segmentSize)
        {
            var memory = bytes.AsMemory(i, Math.Min(segmentSize, bytes.Length - i));
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>Decodes once at the start of <paramref name="bytes"/>.</summary>
    public static (ScaleDecodeStatus Status, ScaleFrame Frame, ScaleFrameError Error, long Consumed) DecodeOnce(ScaleCodec codec, byte[] bytes, int segmentSize = 0)
    {
        var reader = new SequenceReader<byte>(Sequence(bytes, segmentSize));
        var status = codec.Decode(ref reader, out var frame, out var error);
        return (status, frame, error, reader.Consumed);
    }

    /// <summary>Decodes everything as the driver does: frames collected, rejections skipped and counted.</summary>
    public static List<ScaleFrame> DecodeAll(ScaleCodec codec, byte[] bytes, out int rejectedFrames, out int garbageRuns, int segmentSize = 0)
    {
        var reader = new SequenceReader<byte>(Sequence(bytes, segmentSize));
        var frames = new List<ScaleFrame>();
        rejectedFrames = garbageRuns = 0;
        while (true)
        {
            long before = reader.Consumed;
            var status = codec.Decode(ref reader, out var frame, out var error);
            if (status == ScaleDecodeStatus.NeedMoreData)
            {
                Assert.Equal(before, reader.Consumed);
                return frames;
            }

            if (status == ScaleDecodeStatus.Frame)
            {
                Assert.True(reader.Consumed > before, "a frame consumed nothing");
                frames.Add(frame);
                continue;
            }

            Assert.Equal(before, reader.Consumed);
            Assert.InRange(error.BytesToSkip, 1, reader.Remaining);
            if (error.IsGarbage)
            {
                garbageRuns++;
            }
            else
            {
                rejectedFrames++;
            }

            reader.Advance(error.BytesToSkip);
        }
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
