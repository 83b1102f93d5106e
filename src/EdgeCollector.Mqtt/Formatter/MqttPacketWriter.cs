using System.Buffers.Binary;
using System.Text;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Formatter;

/// <summary>
/// An encoded packet: <see cref="Header"/> holds the fixed header, the variable header and every payload
/// field except a PUBLISH's application payload, which stays in the caller's memory (<see cref="Payload"/>)
/// and is never copied. Valid until the next <see cref="MqttPacketWriter.Encode"/> on the same writer.
/// </summary>
public readonly struct MqttEncodedPacket
{
    public MqttEncodedPacket(ReadOnlyMemory<byte> header, ReadOnlyMemory<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    public ReadOnlyMemory<byte> Header { get; }
    public ReadOnlyMemory<byte> Payload { get; }
    public int Length => Header.Length + Payload.Length;

    /// <summary>Concatenates header and payload (for tests and logging).</summary>
    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        Header.CopyTo(bytes);
        Payload.CopyTo(bytes.AsMemory(Header.Length));
        return bytes;
    }
}

/// <summary>
/// Encodes MQTT 3.1.1 / 5.0 control packets. The body is written after <see cref="MaxFixedHeaderSize"/>
/// reserved bytes; once its length is known the fixed header (type, flags, remaining length) is
/// back-filled immediately in front of it, so nothing is moved or copied (the MQTTnet encoder's scheme).
/// Not thread-safe: one writer per connection, used under the connection's write lock.
/// </summary>
public sealed class MqttPacketWriter
{
    /// <summary>Type/flags byte plus at most four remaining-length bytes (§2.2.3 / §1.5.5).</summary>
    public const int MaxFixedHeaderSize = 5;

    /// <summary>Largest remaining length a variable byte integer can express (268,435,455).</summary>
    public const int MaxRemainingLength = 268_435_455;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private byte[] _buffer = new byte[256];
    private int _position;

    /// <summary>Creates a writer for one protocol version.</summary>
    public MqttPacketWriter(MqttProtocolVersion version) => Version = version;

    /// <summary>The protocol version whose layout is written (CONNECT carries its own).</summary>
    public MqttProtocolVersion Version { get; set; }

    /// <summary>Largest whole packet this writer will produce (the peer's v5 Maximum Packet Size).</summary>
    public int MaximumPacketSize { get; set; } = MaxRemainingLength + MaxFixedHeaderSize;

    private bool V5 => Version == MqttProtocolVersion.V500;

    /// <summary>Encodes a packet. The returned memory is valid until the next call.</summary>
    /// <exception cref="ArgumentException">The packet cannot be represented (string too long, wildcard in a topic name, too large …).</exception>
    public MqttEncodedPacket Encode(MqttPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        _position = MaxFixedHeaderSize;
        byte flags = 0;
        ReadOnlyMemory<byte> payload = default;
        switch (packet)
        {
            case MqttConnectPacket p: WriteConnect(p); break;
            case MqttConnAckPacket p: WriteConnAck(p); break;
            case MqttPublishPacket p:
                flags = WritePublish(p.Topic, p.QoS, p.Retain, p.Dup, p.PacketId, p.Properties);
                payload = p.Payload;
                break;
            case MqttPacketIdAckPacket p:
                WriteIdAck(p);
                if (p.Type == MqttPacketType.PubRel) flags = 0x02;
                break;
            case MqttSubscribePacket p: WriteSubscribe(p); flags = 0x02; break;
            case MqttSubAckPacket p: WriteSubAck(p); break;
            case MqttUnsubscribePacket p: WriteUnsubscribe(p); flags = 0x02; break;
            case MqttUnsubAckPacket p: WriteUnsubAck(p); break;
            case MqttPingReqPacket or MqttPingRespPacket: break;
            case MqttDisconnectPacket p: WriteDisconnect(p); break;
            case MqttAuthPacket p:
                if (!V5) throw new ArgumentException("AUTH exists only in MQTT 5.0 (§3.15).", nameof(packet));
                if (p.ReasonCode != MqttReasonCode.Success || !p.Properties.IsEmpty)
                {
                    WriteByte((byte)p.ReasonCode);
                    WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.Auth));
                }
                break;
            default: throw new ArgumentException($"Unknown packet {packet.GetType().Name}.", nameof(packet));
        }
        return Finish(packet.Type, flags, payload, nameof(packet));
    }

    /// <summary>
    /// Encodes a PUBLISH from its fields, byte for byte what <see cref="Encode"/> writes for the same packet, so
    /// the hot publish path needs no packet object (and no empty property set) per message.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Encode"/>.</exception>
    public MqttEncodedPacket EncodePublish(string topic, ReadOnlyMemory<byte> payload, MqttQualityOfService qos, bool retain, bool dup,
        ushort packetId, MqttProperties? properties = null)
    {
        ArgumentNullException.ThrowIfNull(topic);
        _position = MaxFixedHeaderSize;
        byte flags = WritePublish(topic, qos, retain, dup, packetId, properties);
        return Finish(MqttPacketType.Publish, flags, payload, nameof(topic));
    }

    // Back-fills the fixed header in front of the body written after the reserved bytes.
    private MqttEncodedPacket Finish(MqttPacketType type, byte flags, ReadOnlyMemory<byte> payload, string paramName)
    {
        long remaining = (long)(_position - MaxFixedHeaderSize) + payload.Length;
        if (remaining > MaxRemainingLength)
            throw new ArgumentException($"Remaining length {remaining} exceeds {MaxRemainingLength} (§2.2.3).", paramName);
        int lengthBytes = VarIntSize((int)remaining);
        long total = 1 + lengthBytes + remaining;
        if (total > MaximumPacketSize)
            throw new ArgumentException($"Packet of {total} bytes exceeds the maximum packet size {MaximumPacketSize} [MQTT-3.1.2-24].", paramName);
        int start = MaxFixedHeaderSize - 1 - lengthBytes;
        _buffer[start] = (byte)(((int)type << 4) | flags);
        WriteVarIntAt(_buffer.AsSpan(start + 1), (int)remaining);
        return new MqttEncodedPacket(_buffer.AsMemory(start, _position - start), payload);
    }

    /// <summary>Encodes one packet into a new array (header and payload joined).</summary>
    public static byte[] EncodeToArray(MqttPacket packet, MqttProtocolVersion version) =>
        new MqttPacketWriter(version).Encode(packet).ToArray();

    // CONNECT variable header: 00-05 protocol name "MQTT", 06 level, 07 flags, 08-09 keep alive, v5 properties.
    // Payload: client id, [v5 will properties], will topic, will payload, user name, password.
    private void WriteConnect(MqttConnectPacket p)
    {
        Version = p.ProtocolVersion;
        WriteString("MQTT");
        WriteByte((byte)p.ProtocolVersion);
        byte flags = 0;
        if (p.CleanStart) flags |= 0x02;
        if (p.Will is { } will)
        {
            if ((byte)will.QoS > 2) throw new ArgumentException("Will QoS must be 0, 1 or 2 [MQTT-3.1.2-14].");
            flags |= (byte)(0x04 | ((byte)will.QoS << 3));
            if (will.Retain) flags |= 0x20;
        }
        if (p.Password is not null)
        {
            if (!V5 && p.UserName is null) throw new ArgumentException("A password needs a user name in 3.1.1 [MQTT-3.1.2-22].");
            flags |= 0x40;
        }
        if (p.UserName is not null) flags |= 0x80;
        WriteByte(flags);
        WriteUInt16(p.KeepAliveSeconds);
        if (V5) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.Connect));
        WriteString(p.ClientId);
        if (p.Will is { } w)
        {
            if (V5) WriteProperties(w.Properties, MqttPropertyRules.WillContext);
            ValidateTopicName(w.Topic);
            WriteString(w.Topic);
            WriteBinary(w.Payload.Span);
        }
        if (p.UserName is not null) WriteString(p.UserName);
        if (p.Password is { } pw) WriteBinary(pw.Span);
    }

    // CONNACK: 00 acknowledge flags (bit 0 session present), 01 return/reason code, v5 properties.
    private void WriteConnAck(MqttConnAckPacket p)
    {
        WriteByte(p.SessionPresent ? (byte)1 : (byte)0);
        WriteByte((byte)p.ReasonCode);
        if (V5) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.ConnAck));
    }

    // PUBLISH: topic name, packet id (QoS > 0 only), v5 properties; the payload follows and is not copied.
    private byte WritePublish(string topic, MqttQualityOfService qos, bool retain, bool dup, ushort packetId, MqttProperties? properties)
    {
        if ((byte)qos > 2) throw new ArgumentException("QoS must be 0, 1 or 2 [MQTT-3.3.1-4].");
        if (topic.Length == 0 && !(V5 && properties?.TopicAlias is not null))
            throw new ArgumentException("Topic names must be at least one character long [MQTT-4.7.3-1].");
        ValidateTopicName(topic);
        WriteString(topic);
        if (qos != MqttQualityOfService.AtMostOnce)
        {
            if (packetId == 0) throw new ArgumentException("A QoS > 0 PUBLISH needs a non-zero packet id [MQTT-2.3.1-1].");
            WriteUInt16(packetId);
        }
        if (V5)
        {
            // No properties: a property length of zero, without walking an empty set.
            if (properties is null || properties.IsEmpty) WriteByte(0);
            else WriteProperties(properties, MqttPropertyRules.Context(MqttPacketType.Publish));
        }
        byte flags = (byte)((byte)qos << 1);
        if (retain) flags |= 0x01;
        if (dup) flags |= 0x08;
        return flags;
    }

    // PUBACK/PUBREC/PUBREL/PUBCOMP: 00-01 packet id; v5: 02 reason code, properties — both omitted when
    // the reason is Success with no properties, properties omitted when empty (§3.4.2.1).
    private void WriteIdAck(MqttPacketIdAckPacket p)
    {
        RequirePacketId(p.PacketId);
        WriteUInt16(p.PacketId);
        if (!V5) return;
        bool noProps = p.Properties.IsEmpty;
        if (p.ReasonCode == MqttReasonCode.Success && noProps) return;
        WriteByte((byte)p.ReasonCode);
        if (!noProps) WriteProperties(p.Properties, MqttPropertyRules.Context(p.Type));
    }

    // SUBSCRIBE: 00-01 packet id, v5 properties, then (topic filter, options byte) pairs.
    private void WriteSubscribe(MqttSubscribePacket p)
    {
        RequirePacketId(p.PacketId);
        if (p.Subscriptions.Count == 0) throw new ArgumentException("SUBSCRIBE needs at least one topic filter [MQTT-3.8.3-3].");
        WriteUInt16(p.PacketId);
        if (V5) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.Subscribe));
        foreach (var s in p.Subscriptions)
        {
            if (s.TopicFilter.Length == 0) throw new ArgumentException("Topic filters must be at least one character long [MQTT-4.7.3-1].");
            if ((byte)s.MaximumQoS > 2) throw new ArgumentException("QoS must be 0, 1 or 2 [MQTT-3.8.3-4].");
            WriteString(s.TopicFilter);
            byte options = (byte)s.MaximumQoS;
            if (V5)
            {
                if ((byte)s.RetainHandling > 2) throw new ArgumentException("Retain handling 3 is reserved (§3.8.3.1).");
                if (s.NoLocal) options |= 0x04;
                if (s.RetainAsPublished) options |= 0x08;
                options |= (byte)((byte)s.RetainHandling << 4);
            }
            WriteByte(options);
        }
    }

    // SUBACK: 00-01 packet id, v5 properties, one return/reason code per requested filter.
    private void WriteSubAck(MqttSubAckPacket p)
    {
        RequirePacketId(p.PacketId);
        WriteUInt16(p.PacketId);
        if (V5) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.SubAck));
        foreach (var code in p.ReasonCodes) WriteByte((byte)code);
    }

    // UNSUBSCRIBE: 00-01 packet id, v5 properties, topic filters.
    private void WriteUnsubscribe(MqttUnsubscribePacket p)
    {
        RequirePacketId(p.PacketId);
        if (p.TopicFilters.Count == 0) throw new ArgumentException("UNSUBSCRIBE needs at least one topic filter [MQTT-3.10.3-2].");
        WriteUInt16(p.PacketId);
        if (V5) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.Unsubscribe));
        foreach (var f in p.TopicFilters) WriteString(f);
    }

    // UNSUBACK: 00-01 packet id; v5: properties and one reason code per filter.
    private void WriteUnsubAck(MqttUnsubAckPacket p)
    {
        RequirePacketId(p.PacketId);
        WriteUInt16(p.PacketId);
        if (!V5) return;
        WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.UnsubAck));
        foreach (var code in p.ReasonCodes) WriteByte((byte)code);
    }

    // DISCONNECT: 3.1.1 empty; v5: reason code then properties, each omitted when default (§3.14.2.1).
    private void WriteDisconnect(MqttDisconnectPacket p)
    {
        if (!V5) return;
        bool noProps = p.Properties.IsEmpty;
        if (p.ReasonCode == MqttReasonCode.Success && noProps) return;
        WriteByte((byte)p.ReasonCode);
        if (!noProps) WriteProperties(p.Properties, MqttPropertyRules.Context(MqttPacketType.Disconnect));
    }

    private static void RequirePacketId(ushort id)
    {
        if (id == 0) throw new ArgumentException("Packet identifiers must be non-zero [MQTT-2.3.1-1].");
    }

    private static void ValidateTopicName(string topic)
    {
        if (topic.AsSpan().IndexOfAny('+', '#') >= 0)
            throw new ArgumentException($"Topic name '{topic}' contains a wildcard [MQTT-3.3.2-2].");
    }

    // Properties: variable byte integer length, then (identifier, value) pairs in identifier order.
    private void WriteProperties(MqttProperties props, int context)
    {
        int lengthAt = _position;
        // Properties are short; reserve the maximum 4 length bytes, then close the gap if fewer are needed.
        Ensure(4);
        _position += 4;
        int start = _position;
        void Check(MqttPropertyId id)
        {
            if (!MqttPropertyRules.IsAllowed(id, context))
                throw new ArgumentException($"Property {id} is not allowed in this packet (MQTT 5.0 §2.2.2.2).");
            WriteByte((byte)id);
        }
        if (props.PayloadFormatIndicator is { } pfi) { Check(MqttPropertyId.PayloadFormatIndicator); WriteByte(pfi); }
        if (props.MessageExpiryInterval is { } mei) { Check(MqttPropertyId.MessageExpiryInterval); WriteUInt32(mei); }
        if (props.ContentType is { } ct) { Check(MqttPropertyId.ContentType); WriteString(ct); }
        if (props.ResponseTopic is { } rt) { Check(MqttPropertyId.ResponseTopic); WriteString(rt); }
        if (props.CorrelationData is { } cd) { Check(MqttPropertyId.CorrelationData); WriteBinary(cd); }
        foreach (var sid in props.SubscriptionIdentifiers)
        {
            if (sid is 0 or > MaxRemainingLength) throw new ArgumentException("Subscription identifiers are 1..268,435,455 (§3.8.2.1.2).");
            Check(MqttPropertyId.SubscriptionIdentifier);
            WriteVarInt((int)sid);
        }
        if (props.SessionExpiryInterval is { } sei) { Check(MqttPropertyId.SessionExpiryInterval); WriteUInt32(sei); }
        if (props.AssignedClientIdentifier is { } aci) { Check(MqttPropertyId.AssignedClientIdentifier); WriteString(aci); }
        if (props.ServerKeepAlive is { } ska) { Check(MqttPropertyId.ServerKeepAlive); WriteUInt16(ska); }
        if (props.AuthenticationMethod is { } am) { Check(MqttPropertyId.AuthenticationMethod); WriteString(am); }
        if (props.AuthenticationData is { } ad) { Check(MqttPropertyId.AuthenticationData); WriteBinary(ad); }
        if (props.RequestProblemInformation is { } rpi) { Check(MqttPropertyId.RequestProblemInformation); WriteByte(rpi); }
        if (props.WillDelayInterval is { } wdi) { Check(MqttPropertyId.WillDelayInterval); WriteUInt32(wdi); }
        if (props.RequestResponseInformation is { } rri) { Check(MqttPropertyId.RequestResponseInformation); WriteByte(rri); }
        if (props.ResponseInformation is { } ri) { Check(MqttPropertyId.ResponseInformation); WriteString(ri); }
        if (props.ServerReference is { } sr) { Check(MqttPropertyId.ServerReference); WriteString(sr); }
        if (props.ReasonString is { } rs) { Check(MqttPropertyId.ReasonString); WriteString(rs); }
        if (props.ReceiveMaximum is { } rm) { Check(MqttPropertyId.ReceiveMaximum); WriteUInt16(rm); }
        if (props.TopicAliasMaximum is { } tam) { Check(MqttPropertyId.TopicAliasMaximum); WriteUInt16(tam); }
        if (props.TopicAlias is { } ta) { Check(MqttPropertyId.TopicAlias); WriteUInt16(ta); }
        if (props.MaximumQoS is { } mq) { Check(MqttPropertyId.MaximumQoS); WriteByte(mq); }
        if (props.RetainAvailable is { } ra) { Check(MqttPropertyId.RetainAvailable); WriteByte(ra); }
        foreach (var (key, value) in props.UserProperties)
        {
            Check(MqttPropertyId.UserProperty);
            WriteString(key);
            WriteString(value);
        }
        if (props.MaximumPacketSize is { } mps) { Check(MqttPropertyId.MaximumPacketSize); WriteUInt32(mps); }
        if (props.WildcardSubscriptionAvailable is { } wsa) { Check(MqttPropertyId.WildcardSubscriptionAvailable); WriteByte(wsa); }
        if (props.SubscriptionIdentifierAvailable is { } sia) { Check(MqttPropertyId.SubscriptionIdentifierAvailable); WriteByte(sia); }
        if (props.SharedSubscriptionAvailable is { } ssa) { Check(MqttPropertyId.SharedSubscriptionAvailable); WriteByte(ssa); }

        int length = _position - start;
        int lengthBytes = VarIntSize(length);
        WriteVarIntAt(_buffer.AsSpan(lengthAt), length);
        if (lengthBytes < 4)
        {
            // Only the (small) property block moves; a PUBLISH payload is never in this buffer.
            Buffer.BlockCopy(_buffer, start, _buffer, lengthAt + lengthBytes, length);
            _position -= 4 - lengthBytes;
        }
    }

    private void Ensure(int count)
    {
        if (_position + count <= _buffer.Length) return;
        int size = Math.Max(_buffer.Length * 2, _position + count);
        Array.Resize(ref _buffer, size);
    }

    private void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_position++] = value;
    }

    private void WriteUInt16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_position), value);
        _position += 2;
    }

    private void WriteUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(_position), value);
        _position += 4;
    }

    private void WriteVarInt(int value)
    {
        Ensure(4);
        _position += WriteVarIntAt(_buffer.AsSpan(_position), value);
    }

    // UTF-8 string: 2-byte big-endian length, then the bytes (§1.5.3 / §1.5.4).
    private void WriteString(string value)
    {
        if (value.Contains('\0')) throw new ArgumentException("UTF-8 strings must not contain U+0000 [MQTT-1.5.4-2].");
        int count;
        try { count = StrictUtf8.GetByteCount(value); }
        catch (EncoderFallbackException ex) { throw new ArgumentException("String is not well-formed UTF-16 [MQTT-1.5.4-1].", ex); }
        if (count > ushort.MaxValue) throw new ArgumentException($"String of {count} bytes exceeds 65,535 (§1.5.4).");
        Ensure(2 + count);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_position), (ushort)count);
        _position += 2;
        _position += StrictUtf8.GetBytes(value, _buffer.AsSpan(_position));
    }

    // Binary data: 2-byte big-endian length, then the bytes (§1.5.6).
    private void WriteBinary(ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue) throw new ArgumentException($"Binary data of {value.Length} bytes exceeds 65,535 (§1.5.6).");
        Ensure(2 + value.Length);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(_position), (ushort)value.Length);
        _position += 2;
        value.CopyTo(_buffer.AsSpan(_position));
        _position += value.Length;
    }

    /// <summary>Bytes needed for a variable byte integer (§1.5.5).</summary>
    public static int VarIntSize(int value) => value switch
    {
        < 128 => 1,
        < 16_384 => 2,
        < 2_097_152 => 3,
        _ => 4,
    };

    /// <summary>Writes a variable byte integer with the minimum number of bytes [MQTT-1.5.5-1].</summary>
    public static int WriteVarIntAt(Span<byte> destination, int value)
    {
        if ((uint)value > MaxRemainingLength) throw new ArgumentOutOfRangeException(nameof(value));
        int i = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            if (value > 0) b |= 0x80;
            destination[i++] = b;
        }
        while (value > 0);
        return i;
    }
}
