using System.Buffers;
using System.Diagnostics;

namespace EdgeCollector.Modbus.Tests.Codec;

/// <summary>
/// Random and mutated frames through every decoder: the only acceptable outcomes are a frame,
/// "need more" (consuming nothing) or a <see cref="ModbusProtocolException"/> (consuming nothing).
/// Iterations: EDGE_FUZZ_ITERATIONS, default 1,000,000 (a few seconds); fixed seed, so a failure reproduces.
/// </summary>
public sealed class DecoderFuzzTests
{
    private static readonly byte[][] Seeds =
    [
        Hex.Bytes("00 01 00 00 00 06 11 03 00 6B 00 03"),
        Hex.Bytes("00 01 00 00 00 09 11 03 06 02 2B 00 00 00 64"),
        Hex.Bytes("12 34 00 00 00 0B 01 10 00 01 00 02 04 00 0A 01 02"),
        Hex.Bytes("00 07 00 00 00 03 01 83 02"),
        Hex.Bytes("00 07 00 00 00 06 01 01 03 CD 6B 05"),
        Rtu("01 03 00 00 00 0A"),
        Rtu("11 03 06 02 2B 00 00 00 64"),
        Rtu("11 0F 00 13 00 0A 02 CD 01"),
        Rtu("11 10 00 01 00 02 04 00 0A 01 02"),
        Rtu("11 83 02"),
        Rtu("11 05 00 AC FF 00"),
    ];

    [Fact]
    public async Task Decoders_survive_random_and_mutated_frames()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("EDGE_FUZZ_ITERATIONS"), out int n) ? n : 1_000_000;
        var sw = Stopwatch.StartNew();
        // The decoders are synchronous: running them off the test thread bounds a hang by the timeout.
        long frames = await Task.Run(() => Run(iterations)).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(frames > 0, "no input ever decoded: the generator is broken");
        Console.WriteLine($"fuzz: {iterations} inputs, {frames} decoded frames, {sw.Elapsed}");
    }

    private static long Run(int iterations)
    {
        var random = new Random(20261121);
        var buffer = new byte[300];
        long decoded = 0;
        for (int i = 0; i < iterations; i++)
        {
            int length;
            if (i % 3 == 0)
            {
                length = random.Next(0, 300);
                random.NextBytes(buffer.AsSpan(0, length));
            }
            else
            {
                var seed = Seeds[random.Next(Seeds.Length)];
                seed.CopyTo(buffer, 0);
                length = seed.Length;
                int mutations = random.Next(1, 4);
                for (int m = 0; m < mutations; m++)
                {
                    switch (random.Next(4))
                    {
                        case 0: buffer[random.Next(length)] ^= (byte)(1 << random.Next(8)); break;
                        case 1: buffer[random.Next(length)] = (byte)random.Next(256); break;
                        case 2: length = random.Next(length + 1); break;
                        default:
                            int extra = random.Next(1, 20);
                            random.NextBytes(buffer.AsSpan(length, Math.Min(extra, buffer.Length - length)));
                            length = Math.Min(length + extra, buffer.Length);
                            break;
                    }
                }
            }

            var data = new ReadOnlySequence<byte>(buffer, 0, length);
            decoded += Try(data, static (ref SequenceReader<byte> r) => ModbusTcpCodec.TryReadRequest(ref r, out _));
            decoded += Try(data, static (ref SequenceReader<byte> r) => ModbusTcpCodec.TryReadResponse(ref r, out _));
            decoded += Try(data, static (ref SequenceReader<byte> r) => ModbusRtuCodec.TryReadRequest(ref r, out _));
            decoded += Try(data, static (ref SequenceReader<byte> r) => ModbusRtuCodec.TryReadResponse(ref r, out _));
            // The framers already run the PDU parsers on every well-framed input; direct calls on a
            // quarter of the inputs add unframed PDUs without doubling the run time.
            if (i % 4 == 0 && length > 0 && length <= ModbusPduCodec.MaxPduLength)
            {
                ParsePdu(buffer.AsSpan(0, length));
            }
        }

        return decoded;
    }

    private delegate bool Decoder(ref SequenceReader<byte> reader);

    private static int Try(ReadOnlySequence<byte> data, Decoder decoder)
    {
        var reader = new SequenceReader<byte>(data);
        try
        {
            if (decoder(ref reader))
            {
                Assert.InRange(reader.Consumed, 4, data.Length);
                return 1;
            }
        }
        catch (ModbusProtocolException)
        {
        }

        Assert.Equal(0, reader.Consumed);
        return 0;
    }

    private static void ParsePdu(ReadOnlySpan<byte> pdu)
    {
        try
        {
            ModbusPduCodec.ParseRequest(pdu);
        }
        catch (ModbusProtocolException)
        {
        }

        try
        {
            ModbusPduCodec.ParseResponse(pdu);
        }
        catch (ModbusProtocolException)
        {
        }
    }

    private static byte[] Rtu(string hex)
    {
        byte[] body = Hex.Bytes(hex);
        ushort crc = ModbusCrc.Compute(body);
        return [.. body, (byte)crc, (byte)(crc >> 8)];
    }
}
