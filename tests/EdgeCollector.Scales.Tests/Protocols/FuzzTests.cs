using System.Buffers;
using System.Diagnostics;
using static EdgeCollector.Scales.Tests.Support.Wire;

namespace EdgeCollector.Scales.Tests.Protocols;

/// <summary>
/// Nothing from the wire is trusted: every decoder must survive arbitrary bytes without throwing,
/// without consuming on "need more", and always making progress (no hang).
/// </summary>
public sealed class FuzzTests
{
    private const int Inputs = 1_000_000;

    [Fact]
    public void Decoders_survive_a_million_random_and_mutated_inputs()
    {
        var random = new Random(20261121);
        var codecs = ScaleProtocols.Names.Select(n => ScaleProtocols.Create(n)).ToArray();
        var seeds = codecs.Select(c => new[]
        {
            c.Encode(ScaleFrame.Gross(8000m, true)),
            c.Encode(ScaleFrame.Gross(-12.5m, false)),
            c.Encode(ScaleFrame.Gross(0m, false)),
        }).ToArray();
        var buffer = new byte[96];
        long frames = 0, rejections = 0;
        var watch = Stopwatch.StartNew();

        for (int i = 0; i < Inputs; i++)
        {
            int c = i % codecs.Length;
            int length = Mutate(random, seeds[c], buffer);
            var sequence = Sequence(buffer[..length], segmentSize: random.Next(0, 4) == 0 ? random.Next(1, 8) : 0);
            var reader = new SequenceReader<byte>(sequence);
            int steps = 0;
            while (true)
            {
                long before = reader.Consumed;
                var status = codecs[c].Decode(ref reader, out _, out var error);
                if (status == ScaleDecodeStatus.NeedMoreData)
                {
                    if (reader.Consumed != before)
                    {
                        Assert.Fail($"{codecs[c].Name} consumed on need-more: {Convert.ToHexString(buffer, 0, length)}");
                    }

                    break;
                }

                if (status == ScaleDecodeStatus.Frame)
                {
                    frames++;
                    if (reader.Consumed <= before)
                    {
                        Assert.Fail($"{codecs[c].Name} frame without progress: {Convert.ToHexString(buffer, 0, length)}");
                    }
                }
                else
                {
                    rejections++;
                    if (reader.Consumed != before || error.BytesToSkip < 1 || error.BytesToSkip > reader.Remaining)
                    {
                        Assert.Fail($"{codecs[c].Name} bad skip {error.BytesToSkip}: {Convert.ToHexString(buffer, 0, length)}");
                    }

                    reader.Advance(error.BytesToSkip);
                }

                if (++steps > length + 1)
                {
                    Assert.Fail($"{codecs[c].Name} made no progress: {Convert.ToHexString(buffer, 0, length)}");
                }
            }
        }

        // Both paths were exercised (the mutations keep some frames valid).
        Assert.True(frames > Inputs / 20, $"only {frames} frames decoded");
        Assert.True(rejections > Inputs / 5, $"only {rejections} rejections");
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(5), "hang guard");
    }

    /// <summary>Writes one test input into <paramref name="buffer"/>: random bytes, or valid frames with flips, cuts, inserts.</summary>
    private static int Mutate(Random random, byte[][] seeds, byte[] buffer)
    {
        int kind = random.Next(4);
        if (kind == 0)
        {
            int n = random.Next(0, 48);
            random.NextBytes(buffer.AsSpan(0, n));
            return n;
        }

        // One to three frames back to back, then damage.
        int length = 0;
        int count = random.Next(1, 4);
        for (int k = 0; k < count; k++)
        {
            var seed = seeds[random.Next(seeds.Length)];
            seed.CopyTo(buffer, length);
            length += seed.Length;
        }

        int damages = kind == 1 ? 0 : random.Next(1, 4);
        for (int d = 0; d < damages && length > 0; d++)
        {
            switch (random.Next(4))
            {
                case 0: buffer[random.Next(length)] ^= (byte)random.Next(1, 256); break;
                case 1: buffer[random.Next(length)] = (byte)random.Next(0, 128); break;
                case 2: length = random.Next(0, length); break;
                default:
                    int at = random.Next(length + 1), extra = Math.Min(random.Next(1, 6), buffer.Length - length);
                    Array.Copy(buffer, at, buffer, at + extra, length - at);
                    random.NextBytes(buffer.AsSpan(at, extra));
                    length += extra;
                    break;
            }
        }

        return length;
    }
}
