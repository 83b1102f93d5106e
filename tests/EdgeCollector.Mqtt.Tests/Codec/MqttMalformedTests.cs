using System.Buffers;
using System.Diagnostics;
using EdgeCollector.Mqtt;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Tests.Codec;

public class MqttMalformedTests
{
    [Theory]
    [InlineData(5, "36 05 00 01 74 00 01", "MQTT-3.3.1-4")]           // PUBLISH QoS bits 11
    [InlineData(4, "36 05 00 01 74 00 01", "MQTT-3.3.1-4")]
    [InlineData(4, "42 02 00 01", "MQTT-2.2.2-1")]                     // PUBACK with flags 0010
    [InlineData(5, "42 02 00 01", "MQTT-2.1.3-1")]
    [InlineData(4, "80 08 00 01 00 03 61 2F 23 01", "MQTT-2.2.2-1")]   // SUBSCRIBE with flags 0000
    [InlineData(4, "32 05 00 01 74 00 00", "MQTT-2.3.1-1")]            // PUBLISH QoS1 packet id 0
    [InlineData(5, "32 06 00 01 74 00 00 00", "MQTT-2.2.1-3")]
    [InlineData(4, "30 04 00 01 2B 41", "MQTT-3.3.2-2")]               // topic name "+"
    [InlineData(4, "30 04 00 02 C3 28", "MQTT-1.5.3-1")]               // ill-formed UTF-8
    [InlineData(5, "30 05 00 02 C3 28 00", "MQTT-1.5.4-1")]
    [InlineData(4, "30 04 00 02 61 00", "MQTT-1.5.3-2")]               // U+0000 in a string
    [InlineData(5, "30 80 00", "MQTT-1.5.5-1")]                        // remaining length not in shortest form
    [InlineData(5, "30 FF FF FF FF 01", "1.5.5")]                      // five-byte variable byte integer
    [InlineData(4, "30 FF FF FF FF 01", "2.2.3")]
    [InlineData(4, "10 0D 00 04 4D 51 54 58 04 02 00 3C 00 01 61", "MQTT-3.1.2-1")]   // protocol name "MQTX"
    [InlineData(4, "10 0D 00 04 4D 51 54 54 03 02 00 3C 00 01 61", "MQTT-3.1.2-2")]   // level 3
    [InlineData(4, "10 0D 00 04 4D 51 54 54 04 03 00 3C 00 01 61", "MQTT-3.1.2-3")]   // reserved connect flag
    [InlineData(4, "10 0D 00 04 4D 51 54 54 04 0A 00 3C 00 01 61", "MQTT-3.1.2-13")]  // will QoS without will flag
    [InlineData(4, "10 0D 00 04 4D 51 54 54 04 22 00 3C 00 01 61", "MQTT-3.1.2-15")]  // will retain without will flag
    [InlineData(4, "10 0D 00 04 4D 51 54 54 04 42 00 3C 00 01 61", "MQTT-3.1.2-22")]  // password without user name
    [InlineData(4, "82 05 00 01 00 01 61", "")]                          // SUBSCRIBE filter without options byte: too short
    [InlineData(4, "82 02 00 01", "MQTT-3.8.3-3")]                       // SUBSCRIBE without filter
    [InlineData(4, "82 06 00 01 00 01 61 04", "MQTT-3.8.3-4")]           // reserved option bits
    [InlineData(5, "82 07 00 01 00 00 01 61 40", "MQTT-3.8.3-5")]
    [InlineData(4, "A2 02 00 01", "MQTT-3.10.3-2")]
    [InlineData(4, "90 03 00 01 03", "MQTT-3.9.3-2")]                    // SUBACK return code 3
    [InlineData(4, "C0 01 00", "3.12")]                                  // PINGREQ with a body
    [InlineData(4, "E0 01 00", "3.14")]
    [InlineData(4, "F0 00", "2.2.1")]                                    // AUTH does not exist in 3.1.1
    [InlineData(4, "00 00", "2.2.1")]                                    // type 0 is reserved
    [InlineData(4, "40 03 00 01 00", "2.2.3")]                           // v3 PUBACK with a trailing byte
    [InlineData(5, "20 06 00 00 03 24 01 24", "")]                       // property runs past its length
    [InlineData(5, "20 07 00 00 04 24 01 24 01", "2.2.2.2")]            // Maximum QoS twice
    [InlineData(5, "20 05 00 00 02 01 01", "2.2.2.2")]                   // Payload Format Indicator not allowed in CONNACK
    [InlineData(5, "20 04 00 00 01 7F", "2.2.2.2")]                      // unknown property
    [InlineData(5, "20 06 00 00 03 21 00 00", "3.1.2.11.3")]             // Receive Maximum 0
    [InlineData(5, "20 02 02 00", "3.2.2.1")]                            // CONNACK reserved flag
    [InlineData(5, "F0 02 87 00", "3.15.2.1")]                           // AUTH reason not allowed
    public void Malformed_input_throws_citing_the_clause(int version, string hex, string clause)
    {
        byte[] bytes = Convert.FromHexString(hex.Replace(" ", ""));
        var ex = Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            MqttPacketReader.TryRead(ref reader, (MqttProtocolVersion)version, 1 << 20, out _);
        });
        Assert.Contains(clause, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oversized_packet_is_refused_before_it_is_buffered()
    {
        // Remaining length 1,000 announced, only the header present: the limit applies before waiting for the body.
        byte[] bytes = [0x30, 0xE8, 0x07];
        var ex = Assert.Throws<MqttProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            MqttPacketReader.TryRead(ref reader, MqttProtocolVersion.V500, 512, out _);
        });
        Assert.Contains("maximum packet size", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encoder_refuses_packets_above_the_peer_maximum()
    {
        var writer = new MqttPacketWriter(MqttProtocolVersion.V500) { MaximumPacketSize = 100 };
        Assert.Throws<ArgumentException>(() => writer.Encode(new MqttPublishPacket { Topic = "t", Payload = new byte[200] }));
        Assert.Throws<ArgumentException>(() => writer.Encode(new MqttPublishPacket { Topic = "a/#" }));
        Assert.Throws<ArgumentException>(() => writer.Encode(new MqttPublishPacket { Topic = "t", QoS = MqttQualityOfService.AtLeastOnce }));
    }

    /// <summary>
    /// One million random and mutated inputs: the decoder either reads packets, asks for more, or throws
    /// <see cref="MqttProtocolException"/> — never anything else, never a hang.
    /// </summary>
    [Fact]
    public void Decoder_survives_a_million_random_and_mutated_inputs()
    {
        var seeds = MqttGoldenTests.All().Select(g => (g.Bytes, g.Version)).ToArray();
        var rng = new Random(20261121);
        var sw = Stopwatch.StartNew();
        int decoded = 0, rejected = 0, incomplete = 0;
        byte[] buffer = new byte[300];
        const int Iterations = 1_000_000;
        for (int i = 0; i < Iterations; i++)
        {
            int length;
            var version = (i & 1) == 0 ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500;
            if (i % 4 == 0)
            {
                length = rng.Next(0, 64);
                rng.NextBytes(buffer.AsSpan(0, length));
            }
            else
            {
                var (seed, seedVersion) = seeds[rng.Next(seeds.Length)];
                version = seedVersion;
                seed.CopyTo(buffer, 0);
                length = seed.Length;
                int mutations = rng.Next(1, 4);
                for (int m = 0; m < mutations; m++)
                {
                    switch (rng.Next(4))
                    {
                        case 0: buffer[rng.Next(length)] = (byte)rng.Next(256); break;        // overwrite a byte
                        case 1: buffer[rng.Next(length)] ^= (byte)(1 << rng.Next(8)); break;  // flip a bit
                        case 2: length = rng.Next(1, length + 1); break;                      // truncate
                        case 3:                                                               // append noise
                            int extra = rng.Next(1, 16);
                            rng.NextBytes(buffer.AsSpan(length, extra));
                            length += extra;
                            break;
                    }
                }
            }

            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(buffer, 0, length));
            try
            {
                // Read until the input is exhausted or incomplete; each step must make progress.
                while (true)
                {
                    long before = reader.Consumed;
                    if (!MqttPacketReader.TryRead(ref reader, version, 4096, out _))
                    {
                        Assert.Equal(before, reader.Consumed);
                        incomplete++;
                        break;
                    }
                    Assert.True(reader.Consumed > before);
                    decoded++;
                }
            }
            catch (MqttProtocolException)
            {
                rejected++;
            }
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed}");
        // The mix must exercise all three outcomes, or the test is not testing anything.
        Assert.True(decoded > 10_000 && rejected > 10_000 && incomplete > 10_000, $"decoded {decoded}, rejected {rejected}, incomplete {incomplete}");
    }
}
