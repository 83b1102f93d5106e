using System.Buffers;
using System.Text;
using EdgeCollector.Mqtt;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Tests.Codec;

/// <summary>
/// Golden bytes hand-derived from the OASIS MQTT 3.1.1 and 5.0 packet layouts (each case's comment shows
/// the derivation). Each case is checked three ways: encode(packet) == bytes, decode(bytes) re-encodes to
/// the same bytes, and every proper prefix of the bytes is "need more" with nothing consumed.
/// </summary>
public class MqttGoldenTests
{
    private const MqttProtocolVersion V3 = MqttProtocolVersion.V311;
    private const MqttProtocolVersion V5 = MqttProtocolVersion.V500;

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public sealed record Golden(string Name, MqttProtocolVersion Version, MqttPacket Packet, string Hex)
    {
        public byte[] Bytes => Convert.FromHexString(Hex.Replace(" ", ""));
        public override string ToString() => Name;
    }

    public static IEnumerable<Golden> All()
    {
        // ---------- MQTT 3.1.1 ----------
        // CONNECT: name 00 04 "MQTT", level 04, flags 02 (clean session), keep alive 00 3C, client id 00 01 'a'.
        yield return new("v3 CONNECT minimal", V3,
            new MqttConnectPacket { ProtocolVersion = V3, ClientId = "a", KeepAliveSeconds = 60 },
            "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 61");
        // flags EE = user 80 | password 40 | will retain 20 | will QoS1 08 | will 04 | clean 02; keep alive 10.
        yield return new("v3 CONNECT will+auth", V3,
            new MqttConnectPacket
            {
                ProtocolVersion = V3, ClientId = "c", KeepAliveSeconds = 10, UserName = "u", Password = B("p"),
                Will = new MqttWill { Topic = "w", Payload = B("x"), QoS = MqttQualityOfService.AtLeastOnce, Retain = true },
            },
            "10 19 00 04 4D 51 54 54 04 EE 00 0A 00 01 63 00 01 77 00 01 78 00 01 75 00 01 70");
        // CONNACK: flags 01 (session present), return code 00.
        yield return new("v3 CONNACK", V3, new MqttConnAckPacket { SessionPresent = true }, "20 02 01 00");
        yield return new("v3 CONNACK refused", V3,
            new MqttConnAckPacket { ReasonCode = (MqttReasonCode)MqttConnectReturnCode.BadUserNameOrPassword }, "20 02 00 04");
        // PUBLISH QoS 0: topic 00 03 "a/b", payload "hi".
        yield return new("v3 PUBLISH qos0", V3, new MqttPublishPacket { Topic = "a/b", Payload = B("hi") },
            "30 07 00 03 61 2F 62 68 69");
        // PUBLISH flags B = DUP 8 | QoS1 2 | RETAIN 1; topic 00 01 't', packet id 00 0A, payload 01 02.
        yield return new("v3 PUBLISH qos1 dup retain", V3,
            new MqttPublishPacket { Topic = "t", Payload = new byte[] { 1, 2 }, QoS = MqttQualityOfService.AtLeastOnce, Dup = true, Retain = true, PacketId = 10 },
            "3B 07 00 01 74 00 0A 01 02");
        yield return new("v3 PUBLISH qos2", V3,
            new MqttPublishPacket { Topic = "t", QoS = MqttQualityOfService.ExactlyOnce, PacketId = 0xFFFF },
            "34 05 00 01 74 FF FF");
        yield return new("v3 PUBACK", V3, new MqttPubAckPacket { PacketId = 10 }, "40 02 00 0A");
        yield return new("v3 PUBREC", V3, new MqttPubRecPacket { PacketId = 10 }, "50 02 00 0A");
        // PUBREL fixed-header flags are 0010 [MQTT-3.6.1-1].
        yield return new("v3 PUBREL", V3, new MqttPubRelPacket { PacketId = 10 }, "62 02 00 0A");
        yield return new("v3 PUBCOMP", V3, new MqttPubCompPacket { PacketId = 10 }, "70 02 00 0A");
        // SUBSCRIBE flags 0010; packet id 00 01; filter 00 03 "a/#"; requested QoS 01.
        yield return new("v3 SUBSCRIBE", V3,
            new MqttSubscribePacket { PacketId = 1, Subscriptions = [new("a/#", MqttQualityOfService.AtLeastOnce)] },
            "82 08 00 01 00 03 61 2F 23 01");
        yield return new("v3 SUBACK", V3,
            new MqttSubAckPacket { PacketId = 1, ReasonCodes = [MqttReasonCode.GrantedQoS1, MqttReasonCode.UnspecifiedError] },
            "90 04 00 01 01 80");
        yield return new("v3 UNSUBSCRIBE", V3, new MqttUnsubscribePacket { PacketId = 2, TopicFilters = ["a/#"] },
            "A2 07 00 02 00 03 61 2F 23");
        yield return new("v3 UNSUBACK", V3, new MqttUnsubAckPacket { PacketId = 2 }, "B0 02 00 02");
        yield return new("v3 PINGREQ", V3, MqttPingReqPacket.Instance, "C0 00");
        yield return new("v3 PINGRESP", V3, MqttPingRespPacket.Instance, "D0 00");
        yield return new("v3 DISCONNECT", V3, new MqttDisconnectPacket(), "E0 00");

        // ---------- MQTT 5.0 ----------
        // CONNECT: ... level 05, flags 02, keep alive 00 3C, property length 00, client id 00 01 'a'.
        yield return new("v5 CONNECT minimal", V5,
            new MqttConnectPacket { ClientId = "a", KeepAliveSeconds = 60 },
            "10 0E 00 04 4D 51 54 54 05 02 00 3C 00 00 01 61");
        // flags CC = user 80 | password 40 | will QoS1 08 | will 04 (no clean start); keep alive 00 1E;
        // properties (8): session expiry 11 00000E10, receive maximum 21 0014;
        // client id 00 01 'c'; will properties (5): will delay 18 00000005; will topic 'w', payload 'x'; user 'u'; password 'p'.
        var connectProps = new MqttProperties { SessionExpiryInterval = 3600, ReceiveMaximum = 20 };
        yield return new("v5 CONNECT full", V5,
            new MqttConnectPacket
            {
                ClientId = "c", CleanStart = false, KeepAliveSeconds = 30, UserName = "u", Password = B("p"), Properties = connectProps,
                Will = new MqttWill
                {
                    Topic = "w", Payload = B("x"), QoS = MqttQualityOfService.AtLeastOnce,
                    Properties = new MqttProperties { WillDelayInterval = 5 },
                },
            },
            "10 28 00 04 4D 51 54 54 05 CC 00 1E 08 11 00 00 0E 10 21 00 14 00 01 63 05 18 00 00 00 05 00 01 77 00 01 78 00 01 75 00 01 70");
        // CONNACK: flags 00, reason 00, properties (8): receive maximum 21 000A, topic alias maximum 22 000A, maximum QoS 24 01.
        yield return new("v5 CONNACK props", V5,
            new MqttConnAckPacket { Properties = new MqttProperties { ReceiveMaximum = 10, TopicAliasMaximum = 10, MaximumQoS = 1 } },
            "20 0B 00 00 08 21 00 0A 22 00 0A 24 01");
        yield return new("v5 CONNACK refused", V5, new MqttConnAckPacket { ReasonCode = MqttReasonCode.NotAuthorized }, "20 03 00 87 00");
        // PUBLISH QoS1 (32): topic 't', packet id 00 05, properties (13): payload format 01 01, content type 03 0001 'j',
        // user property 26 0001 'k' 0001 'v'; payload "{}".
        var pubProps = new MqttProperties { PayloadFormatIndicator = 1, ContentType = "j" };
        pubProps.UserProperties.Add(new("k", "v"));
        yield return new("v5 PUBLISH qos1 props", V5,
            new MqttPublishPacket { Topic = "t", PacketId = 5, QoS = MqttQualityOfService.AtLeastOnce, Payload = B("{}"), Properties = pubProps },
            "32 15 00 01 74 00 05 0D 01 01 03 00 01 6A 26 00 01 6B 00 01 76 7B 7D");
        yield return new("v5 PUBLISH qos0", V5, new MqttPublishPacket { Topic = "a", Payload = B("z") }, "30 05 00 01 61 00 7A");
        // PUBACK short form: reason Success and no properties are omitted (§3.4.2.1).
        yield return new("v5 PUBACK short", V5, new MqttPubAckPacket { PacketId = 5 }, "40 02 00 05");
        yield return new("v5 PUBACK reason", V5, new MqttPubAckPacket { PacketId = 5, ReasonCode = MqttReasonCode.NoMatchingSubscribers }, "40 03 00 05 10");
        // PUBACK 0x87 with reason string 1F 0002 "no".
        yield return new("v5 PUBACK reason string", V5,
            new MqttPubAckPacket { PacketId = 5, ReasonCode = MqttReasonCode.NotAuthorized, Properties = new MqttProperties { ReasonString = "no" } },
            "40 09 00 05 87 05 1F 00 02 6E 6F");
        yield return new("v5 PUBREC", V5, new MqttPubRecPacket { PacketId = 5 }, "50 02 00 05");
        yield return new("v5 PUBREL not found", V5, new MqttPubRelPacket { PacketId = 5, ReasonCode = MqttReasonCode.PacketIdentifierNotFound }, "62 03 00 05 92");
        yield return new("v5 PUBCOMP", V5, new MqttPubCompPacket { PacketId = 5 }, "70 02 00 05");
        // SUBSCRIBE: packet id 00 01, properties (2): subscription identifier 0B 07; filter "a/+";
        // options 2D = retain handling 2 (20) | retain as published 08 | no local 04 | QoS 1.
        var subProps = new MqttProperties();
        subProps.SubscriptionIdentifiers.Add(7);
        yield return new("v5 SUBSCRIBE", V5,
            new MqttSubscribePacket
            {
                PacketId = 1, Properties = subProps,
                Subscriptions = [new("a/+", MqttQualityOfService.AtLeastOnce, NoLocal: true, RetainAsPublished: true, RetainHandling: MqttRetainHandling.DoNotSend)],
            },
            "82 0B 00 01 02 0B 07 00 03 61 2F 2B 2D");
        yield return new("v5 SUBACK", V5,
            new MqttSubAckPacket { PacketId = 1, ReasonCodes = [MqttReasonCode.GrantedQoS1, MqttReasonCode.TopicFilterInvalid] },
            "90 05 00 01 00 01 8F");
        yield return new("v5 UNSUBSCRIBE", V5, new MqttUnsubscribePacket { PacketId = 2, TopicFilters = ["a/+"] },
            "A2 08 00 02 00 00 03 61 2F 2B");
        yield return new("v5 UNSUBACK", V5,
            new MqttUnsubAckPacket { PacketId = 2, ReasonCodes = [MqttReasonCode.Success, MqttReasonCode.NoSubscriptionExisted] },
            "B0 05 00 02 00 00 11");
        yield return new("v5 PINGREQ", V5, MqttPingReqPacket.Instance, "C0 00");
        yield return new("v5 PINGRESP", V5, MqttPingRespPacket.Instance, "D0 00");
        yield return new("v5 DISCONNECT normal", V5, new MqttDisconnectPacket(), "E0 00");
        yield return new("v5 DISCONNECT with will", V5, new MqttDisconnectPacket { ReasonCode = MqttReasonCode.DisconnectWithWillMessage }, "E0 01 04");
        // DISCONNECT 8B (server shutting down), properties (5): session expiry 11 00000000.
        yield return new("v5 DISCONNECT props", V5,
            new MqttDisconnectPacket { ReasonCode = MqttReasonCode.ServerShuttingDown, Properties = new MqttProperties { SessionExpiryInterval = 0 } },
            "E0 07 8B 05 11 00 00 00 00");
        yield return new("v5 AUTH success", V5, new MqttAuthPacket(), "F0 00");
        // AUTH 18 (continue), properties (8): method 15 0001 'm', data 16 0001 01.
        yield return new("v5 AUTH continue", V5,
            new MqttAuthPacket
            {
                ReasonCode = MqttReasonCode.ContinueAuthentication,
                Properties = new MqttProperties { AuthenticationMethod = "m", AuthenticationData = [1] },
            },
            "F0 0A 18 08 15 00 01 6D 16 00 01 01");
    }

    public static TheoryData<Golden> Cases()
    {
        var data = new TheoryData<Golden>();
        foreach (var g in All()) data.Add(g);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_matches_golden_bytes(Golden g)
    {
        byte[] actual = MqttPacketWriter.EncodeToArray(g.Packet, g.Version);
        Assert.Equal(Convert.ToHexString(g.Bytes), Convert.ToHexString(actual));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_then_encode_round_trips(Golden g)
    {
        var decoded = MqttPacketReader.Decode(g.Bytes, g.Version);
        Assert.Equal(g.Packet.Type, decoded.Type);
        Assert.Equal(Convert.ToHexString(g.Bytes), Convert.ToHexString(MqttPacketWriter.EncodeToArray(decoded, g.Version)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_prefix_needs_more_and_consumes_nothing(Golden g)
    {
        byte[] bytes = g.Bytes;
        for (int n = 0; n < bytes.Length; n++)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, n));
            Assert.False(MqttPacketReader.TryRead(ref reader, g.Version, 1 << 20, out _), $"prefix {n}");
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Split_across_segments_decodes_the_same(Golden g)
    {
        byte[] bytes = g.Bytes;
        for (int split = 1; split < bytes.Length; split++)
        {
            var seq = Segments.Create(bytes.AsMemory(0, split), bytes.AsMemory(split));
            var reader = new SequenceReader<byte>(seq);
            Assert.True(MqttPacketReader.TryRead(ref reader, g.Version, 1 << 20, out var packet));
            Assert.True(reader.End);
            Assert.Equal(Convert.ToHexString(bytes), Convert.ToHexString(MqttPacketWriter.EncodeToArray(packet, g.Version)));
        }
    }

    [Fact]
    public void Two_packets_back_to_back_are_read_one_at_a_time()
    {
        byte[] bytes = Convert.FromHexString("400200" + "0A" + "D000");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.True(MqttPacketReader.TryRead(ref reader, V3, 1000, out var a));
        Assert.Equal(10, Assert.IsType<MqttPubAckPacket>(a).PacketId);
        Assert.True(MqttPacketReader.TryRead(ref reader, V3, 1000, out var b));
        Assert.IsType<MqttPingRespPacket>(b);
        Assert.False(MqttPacketReader.TryRead(ref reader, V3, 1000, out _));
    }

    [Fact]
    public void Decoded_fields_are_exact()
    {
        var g = All().Single(x => x.Name == "v5 CONNECT full");
        var c = Assert.IsType<MqttConnectPacket>(MqttPacketReader.Decode(g.Bytes, V3));
        Assert.Equal(V5, c.ProtocolVersion);
        Assert.Equal("c", c.ClientId);
        Assert.False(c.CleanStart);
        Assert.Equal(30, c.KeepAliveSeconds);
        Assert.Equal(3600u, c.Properties.SessionExpiryInterval);
        Assert.Equal((ushort)20, c.Properties.ReceiveMaximum);
        Assert.Equal("w", c.Will!.Topic);
        Assert.Equal(5u, c.Will.Properties.WillDelayInterval);
        Assert.Equal("x", Encoding.UTF8.GetString(c.Will.Payload.Span));
        Assert.Equal("u", c.UserName);
        Assert.Equal("p", Encoding.UTF8.GetString(c.Password!.Value.Span));

        var p = Assert.IsType<MqttPublishPacket>(MqttPacketReader.Decode(All().Single(x => x.Name == "v5 PUBLISH qos1 props").Bytes, V5));
        Assert.Equal("t", p.Topic);
        Assert.Equal(5, p.PacketId);
        Assert.Equal("{}", Encoding.UTF8.GetString(p.Payload.Span));
        Assert.Equal(new KeyValuePair<string, string>("k", "v"), Assert.Single(p.Properties.UserProperties));
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(127, "7F")]
    [InlineData(128, "8001")]
    [InlineData(16_383, "FF7F")]
    [InlineData(16_384, "808001")]
    [InlineData(2_097_151, "FFFF7F")]
    [InlineData(2_097_152, "80808001")]
    [InlineData(268_435_455, "FFFFFF7F")]
    public void Variable_byte_integer_boundaries(int value, string hex)
    {
        // MQTT 5.0 §1.5.5 table 1-1 / MQTT 3.1.1 table 2.4.
        Span<byte> buffer = stackalloc byte[4];
        int n = MqttPacketWriter.WriteVarIntAt(buffer, value);
        Assert.Equal(hex, Convert.ToHexString(buffer[..n]));
        Assert.Equal(n, MqttPacketWriter.VarIntSize(value));
    }

    [Fact]
    public void Large_publish_payload_is_not_copied_into_the_header_buffer()
    {
        byte[] payload = new byte[200_000];
        Random.Shared.NextBytes(payload);
        var writer = new MqttPacketWriter(V5);
        var encoded = writer.Encode(new MqttPublishPacket { Topic = "big", Payload = payload, QoS = MqttQualityOfService.AtLeastOnce, PacketId = 1 });
        Assert.True(encoded.Header.Length < 32);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(encoded.Payload, out var segment));
        Assert.Same(payload, segment.Array);
        var decoded = Assert.IsType<MqttPublishPacket>(MqttPacketReader.Decode(encoded.ToArray(), V5));
        Assert.Equal(payload, decoded.Payload.ToArray());
    }
}

/// <summary>Builds multi-segment sequences for framing tests.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Create(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second)
    {
        var a = new Segments(first, 0);
        var b = new Segments(second, first.Length);
        a.Next = b;
        return new ReadOnlySequence<byte>(a, 0, b, second.Length);
    }
}
