using System.Buffers;
using EdgeCollector.Mqtt.Formatter;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Tests.Codec;

/// <summary>
/// The allocation-free PUBACK fast path agrees with the full decoder: it takes exactly the successful PUBACKs
/// without properties (3.1.1: remaining length 2; 5.0: 2, 3 or 4 with reason 0x00 / 0x10 and no properties) and
/// leaves everything else, consuming nothing, to <see cref="MqttPacketReader.TryRead"/>.
/// </summary>
public class PlainPubAckTests
{
    [Theory]
    // id only, both versions
    [InlineData("40 02 00 0A", MqttProtocolVersion.V311, true)]
    [InlineData("40 02 00 0A", MqttProtocolVersion.V500, true)]
    // 5.0 reason Success / No matching subscribers (what mosquitto answers when nobody subscribes), with and without an empty property list
    [InlineData("40 03 00 0A 00", MqttProtocolVersion.V500, true)]
    [InlineData("40 03 00 0A 10", MqttProtocolVersion.V500, true)]
    [InlineData("40 04 00 0A 10 00", MqttProtocolVersion.V500, true)]
    // refusals and properties go to the full decoder
    [InlineData("40 03 00 0A 80", MqttProtocolVersion.V500, false)]
    [InlineData("40 03 00 0A 87", MqttProtocolVersion.V500, false)]
    [InlineData("40 08 00 0A 10 04 1F 00 01 61", MqttProtocolVersion.V500, false)]
    // malformed: remaining length 3 in 3.1.1, packet id 0, wrong flags
    [InlineData("40 03 00 0A 10", MqttProtocolVersion.V311, false)]
    [InlineData("40 02 00 00", MqttProtocolVersion.V311, false)]
    [InlineData("42 02 00 0A", MqttProtocolVersion.V311, false)]
    public void Fast_path_takes_exactly_the_successful_pubacks_without_properties(string hex, MqttProtocolVersion version, bool fast)
    {
        byte[] bytes = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(fast, MqttPacketReader.TryReadPlainPubAck(ref reader, version, int.MaxValue, out ushort id));
        if (fast)
        {
            Assert.True(reader.End);
            Assert.Equal(10, id);
            // The full decoder reads the same bytes as a successful PUBACK for the same id, without properties.
            var ack = Assert.IsType<MqttPubAckPacket>(MqttPacketReader.Decode(bytes, version));
            Assert.Equal(id, ack.PacketId);
            Assert.True(ack.ReasonCode < (MqttReasonCode)0x80);
            Assert.Null(ack.Properties.ReasonString);
        }
        else
        {
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void Fast_path_respects_the_maximum_packet_size_and_partial_input()
    {
        byte[] bytes = Convert.FromHexString("4003000A10");
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        Assert.False(MqttPacketReader.TryReadPlainPubAck(ref reader, MqttProtocolVersion.V500, 4, out _));
        Assert.Equal(0, reader.Consumed);
        for (int n = 0; n < bytes.Length; n++)
        {
            var prefix = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes, 0, n));
            Assert.False(MqttPacketReader.TryReadPlainPubAck(ref prefix, MqttProtocolVersion.V500, int.MaxValue, out _));
            Assert.Equal(0, prefix.Consumed);
        }
    }
}
