using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Formatter;

/// <summary>
/// Decodes MQTT 3.1.1 / 5.0 control packets from a byte sequence. <see cref="TryRead"/> returns false and
/// consumes nothing while the packet is incomplete, and throws <see cref="MqttProtocolException"/> citing
/// the violated clause when the bytes are malformed. No I/O.
/// </summary>
public static class MqttPacketReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads one packet.
    /// </summary>
    /// <param name="reader">Input; advanced past the packet only when one was read.</param>
    /// <param name="version">Protocol version of the connection (CONNECT carries its own and ignores this).</param>
    /// <param name="maximumPacketSize">Largest whole packet accepted; a larger one is rejected before it is buffered.</param>
    /// <param name="packet">The decoded packet.</param>
    /// <returns>False when more bytes are needed.</returns>
    public static bool TryRead(
        ref SequenceReader<byte> reader,
        MqttProtocolVersion version,
        int maximumPacketSize,
        [NotNullWhen(true)] out MqttPacket? packet)
    {
        packet = null;
        // Fixed header: 00 type (bits 7-4) and flags (bits 3-0), 01.. remaining length as a variable byte integer.
        var probe = reader;
        if (!probe.TryRead(out byte first)) return false;
        if (!TryReadVarInt(ref probe, version, out int remaining, out int lengthBytes)) return false;

        long total = 1L + lengthBytes + remaining;
        if (total > maximumPacketSize)
            throw new MqttProtocolException(
                $"Packet of {total} bytes exceeds the maximum packet size {maximumPacketSize} (MQTT 5.0 §3.1.2.11.4, reason 0x95)");
        if (probe.Remaining < remaining) return false;

        var body = probe.UnreadSequence.Slice(0, remaining);
        packet = Decode(first, body, version);
        probe.Advance(remaining);
        reader = probe;
        return true;
    }

    /// <summary>
    /// Reads a successful PUBACK without properties without allocating a packet: the common reply to every QoS 1
    /// publish. That is any 3.1.1 PUBACK (remaining length 2), and a 5.0 one that is its packet id alone, or its
    /// packet id and reason Success (0x00) or No matching subscribers (0x10) with no or an empty property list
    /// (§3.4.2.1, §3.4.2.2: remaining length 2, 3 or 4). Returns false and consumes nothing for anything else (other
    /// reason codes, properties, a packet above <paramref name="maxPacketSize"/>, a malformed PUBACK), which
    /// <see cref="TryRead"/> then decodes or reports.
    /// </summary>
    public static bool TryReadPlainPubAck(ref SequenceReader<byte> reader, MqttProtocolVersion version, int maxPacketSize, out ushort packetId)
    {
        packetId = 0;
        // 00 0x40 (PUBACK, flags 0), 01 remaining length, 02-03 packet id (non-zero [MQTT-2.3.1-1]),
        // 5.0 only: [04 reason code [05 property length 0]].
        var probe = reader;
        if (!probe.TryRead(out byte first) || first != 0x40) return false;
        if (!probe.TryRead(out byte length)) return false;
        int maxLength = version == MqttProtocolVersion.V500 ? 4 : 2;
        if (length < 2 || length > maxLength || 2 + length > maxPacketSize) return false;
        if (!probe.TryReadBigEndian(out short id) || id == 0) return false;
        if (length >= 3 && (!probe.TryRead(out byte reason) || reason is not (0x00 or 0x10))) return false;
        if (length == 4 && (!probe.TryRead(out byte propertyLength) || propertyLength != 0)) return false;
        packetId = (ushort)id;
        reader = probe;
        return true;
    }

    /// <summary>Decodes a whole packet held in one buffer; throws when it is incomplete or has trailing bytes.</summary>
    public static MqttPacket Decode(ReadOnlyMemory<byte> bytes, MqttProtocolVersion version)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        if (!TryRead(ref reader, version, int.MaxValue, out var packet))
            throw new MqttProtocolException("Incomplete packet (§2.2.3)");
        if (!reader.End) throw new MqttProtocolException("Trailing bytes after the packet (§2.2.3)");
        return packet;
    }

    // Variable byte integer: 7 bits per byte, least significant first, bit 7 = continuation, at most 4 bytes.
    private static bool TryReadVarInt(ref SequenceReader<byte> reader, MqttProtocolVersion version, out int value, out int count)
    {
        value = 0;
        count = 0;
        int shift = 0;
        while (true)
        {
            if (!reader.TryRead(out byte b)) return false;
            count++;
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                if (count > 1 && b == 0 && version == MqttProtocolVersion.V500)
                    throw new MqttProtocolException("Variable byte integer not in its shortest form [MQTT-1.5.5-1]");
                return true;
            }
            if (count == 4)
                throw new MqttProtocolException(version == MqttProtocolVersion.V500
                    ? "Variable byte integer longer than four bytes (MQTT 5.0 §1.5.5, malformed)"
                    : "Remaining length longer than four bytes (MQTT 3.1.1 §2.2.3)");
            shift += 7;
        }
    }

    private static MqttPacket Decode(byte first, ReadOnlySequence<byte> body, MqttProtocolVersion version)
    {
        var type = (MqttPacketType)(first >> 4);
        int flags = first & 0x0F;
        bool v5 = version == MqttProtocolVersion.V500;
        string flagsClause = v5 ? "[MQTT-2.1.3-1]" : "[MQTT-2.2.2-1]";

        if (type != MqttPacketType.Publish)
        {
            int expected = type is MqttPacketType.PubRel or MqttPacketType.Subscribe or MqttPacketType.Unsubscribe ? 2 : 0;
            if (flags != expected && type is not (0 or MqttPacketType.Auth))
                throw new MqttProtocolException($"Reserved flags 0x{flags:X} of {type} must be 0x{expected:X} {flagsClause}");
        }

        var r = new BodyReader(body, version);
        MqttPacket packet = type switch
        {
            MqttPacketType.Connect => ReadConnect(ref r),
            MqttPacketType.ConnAck => ReadConnAck(ref r),
            MqttPacketType.Publish => ReadPublish(ref r, flags),
            MqttPacketType.PubAck => ReadIdAck(ref r, MqttPacketType.PubAck, static (id, rc, p) => new MqttPubAckPacket { PacketId = id, ReasonCode = rc, Properties = p }),
            MqttPacketType.PubRec => ReadIdAck(ref r, MqttPacketType.PubRec, static (id, rc, p) => new MqttPubRecPacket { PacketId = id, ReasonCode = rc, Properties = p }),
            MqttPacketType.PubRel => ReadIdAck(ref r, MqttPacketType.PubRel, static (id, rc, p) => new MqttPubRelPacket { PacketId = id, ReasonCode = rc, Properties = p }),
            MqttPacketType.PubComp => ReadIdAck(ref r, MqttPacketType.PubComp, static (id, rc, p) => new MqttPubCompPacket { PacketId = id, ReasonCode = rc, Properties = p }),
            MqttPacketType.Subscribe => ReadSubscribe(ref r),
            MqttPacketType.SubAck => ReadSubAck(ref r),
            MqttPacketType.Unsubscribe => ReadUnsubscribe(ref r),
            MqttPacketType.UnsubAck => ReadUnsubAck(ref r),
            MqttPacketType.PingReq => ReadEmpty(ref r, MqttPingReqPacket.Instance),
            MqttPacketType.PingResp => ReadEmpty(ref r, MqttPingRespPacket.Instance),
            MqttPacketType.Disconnect => ReadDisconnect(ref r),
            MqttPacketType.Auth when v5 => ReadAuth(ref r, flags),
            _ => throw new MqttProtocolException(v5
                ? $"Packet type {(int)type} is reserved (MQTT 5.0 §2.1.2, malformed)"
                : $"Packet type {(int)type} is reserved/forbidden (MQTT 3.1.1 §2.2.1, table 2.1)"),
        };
        r.EnsureEnd(type);
        return packet;
    }

    // CONNECT
    // 00-01 protocol name length (0x0004), 02-05 "MQTT", 06 protocol level (4 | 5),
    // 07 flags: 7 user name, 6 password, 5 will retain, 4-3 will QoS, 2 will flag, 1 clean start, 0 reserved,
    // 08-09 keep alive (seconds), v5: properties.
    // Payload: client id, [will properties (v5)], will topic, will payload, [user name], [password].
    private static MqttConnectPacket ReadConnect(ref BodyReader r)
    {
        string name = r.ReadString();
        if (name != "MQTT") throw new MqttProtocolException($"Protocol name '{name}' is not 'MQTT' [MQTT-3.1.2-1]");
        byte level = r.ReadByte();
        if (level is not (4 or 5)) throw new MqttProtocolException($"Unsupported protocol level {level} [MQTT-3.1.2-2]");
        var version = (MqttProtocolVersion)level;
        r.Version = version;
        bool v5 = version == MqttProtocolVersion.V500;
        byte flags = r.ReadByte();
        if ((flags & 0x01) != 0) throw new MqttProtocolException("CONNECT reserved flag is not 0 [MQTT-3.1.2-3]");
        bool willFlag = (flags & 0x04) != 0;
        int willQos = (flags >> 3) & 0x03;
        bool willRetain = (flags & 0x20) != 0;
        bool hasPassword = (flags & 0x40) != 0;
        bool hasUser = (flags & 0x80) != 0;
        if (!willFlag && willQos != 0) throw new MqttProtocolException(v5 ? "Will QoS set without Will Flag [MQTT-3.1.2-11]" : "Will QoS set without Will Flag [MQTT-3.1.2-13]");
        if (willQos == 3) throw new MqttProtocolException(v5 ? "Will QoS 3 [MQTT-3.1.2-12]" : "Will QoS 3 [MQTT-3.1.2-14]");
        if (!willFlag && willRetain) throw new MqttProtocolException(v5 ? "Will Retain set without Will Flag [MQTT-3.1.2-13]" : "Will Retain set without Will Flag [MQTT-3.1.2-15]");
        if (!v5 && hasPassword && !hasUser) throw new MqttProtocolException("Password flag set without user name flag [MQTT-3.1.2-22]");
        ushort keepAlive = r.ReadUInt16();
        var props = v5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Connect)) : new MqttProperties();
        string clientId = r.ReadString();
        MqttWill? will = null;
        if (willFlag)
        {
            var willProps = v5 ? r.ReadProperties(MqttPropertyRules.WillContext) : new MqttProperties();
            string topic = r.ReadString();
            r.CheckTopicName(topic);
            byte[] payload = r.ReadBinary();
            will = new MqttWill { Topic = topic, Payload = payload, QoS = (MqttQualityOfService)willQos, Retain = willRetain, Properties = willProps };
        }
        string? user = hasUser ? r.ReadString() : null;
        byte[]? password = hasPassword ? r.ReadBinary() : null;
        return new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = clientId,
            CleanStart = (flags & 0x02) != 0,
            KeepAliveSeconds = keepAlive,
            UserName = user,
            Password = password is null ? (ReadOnlyMemory<byte>?)null : password,
            Will = will,
            Properties = props,
        };
    }

    // CONNACK
    // 00 acknowledge flags: bits 7-1 reserved (0), bit 0 session present; 01 return code (3.1.1) / reason code (5.0);
    // v5: properties.
    private static MqttConnAckPacket ReadConnAck(ref BodyReader r)
    {
        byte flags = r.ReadByte();
        if ((flags & 0xFE) != 0) throw new MqttProtocolException("CONNACK acknowledge flags bits 7-1 are reserved and must be 0 (§3.2.2.1)");
        var code = (MqttReasonCode)r.ReadByte();
        var props = r.V5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.ConnAck)) : new MqttProperties();
        return new MqttConnAckPacket { SessionPresent = (flags & 1) != 0, ReasonCode = code, Properties = props };
    }

    // PUBLISH (flags: 3 DUP, 2-1 QoS, 0 RETAIN)
    // 00-01 topic length, topic, [packet id when QoS > 0], v5: properties; the rest is the application payload.
    private static MqttPublishPacket ReadPublish(ref BodyReader r, int flags)
    {
        int qos = (flags >> 1) & 0x03;
        if (qos == 3) throw new MqttProtocolException("PUBLISH QoS bits are both 1 [MQTT-3.3.1-4]");
        bool dup = (flags & 0x08) != 0;
        if (dup && qos == 0) throw new MqttProtocolException("DUP must be 0 for QoS 0 messages [MQTT-3.3.1-2]");
        string topic = r.ReadString();
        r.CheckTopicName(topic);
        ushort id = 0;
        if (qos > 0)
        {
            id = r.ReadUInt16();
            if (id == 0) throw new MqttProtocolException(r.V5 ? "PUBLISH packet id 0 [MQTT-2.2.1-3]" : "PUBLISH packet id 0 [MQTT-2.3.1-1]");
        }
        var props = r.V5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Publish)) : new MqttProperties();
        if (topic.Length == 0 && props.TopicAlias is null)
            throw new MqttProtocolException("Topic names must be at least one character long [MQTT-4.7.3-1]");
        byte[] payload = r.ReadRest();
        return new MqttPublishPacket
        {
            Topic = topic,
            PacketId = id,
            QoS = (MqttQualityOfService)qos,
            Dup = dup,
            Retain = (flags & 0x01) != 0,
            Payload = payload,
            Properties = props,
        };
    }

    // PUBACK / PUBREC / PUBREL / PUBCOMP
    // 00-01 packet id; v5: 02 reason code (absent = Success), properties (absent = none).
    private static MqttPacket ReadIdAck(ref BodyReader r, MqttPacketType type, Func<ushort, MqttReasonCode, MqttProperties, MqttPacket> create)
    {
        ushort id = r.ReadPacketId();
        var code = MqttReasonCode.Success;
        var props = new MqttProperties();
        if (r.V5 && r.Remaining > 0)
        {
            code = (MqttReasonCode)r.ReadByte();
            if (r.Remaining > 0) props = r.ReadProperties(MqttPropertyRules.Context(type));
        }
        return create(id, code, props);
    }

    // SUBSCRIBE
    // 00-01 packet id, v5: properties; payload: (topic filter, options) pairs, at least one.
    // Options 3.1.1: bits 1-0 QoS, 7-2 reserved. 5.0: 1-0 QoS, 2 no local, 3 retain as published,
    // 5-4 retain handling, 7-6 reserved.
    private static MqttSubscribePacket ReadSubscribe(ref BodyReader r)
    {
        ushort id = r.ReadPacketId();
        var props = r.V5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Subscribe)) : new MqttProperties();
        var subs = new List<MqttSubscription>();
        while (r.Remaining > 0)
        {
            string filter = r.ReadString();
            if (filter.Length == 0) throw new MqttProtocolException("Topic filters must be at least one character long [MQTT-4.7.3-1]");
            byte o = r.ReadByte();
            int qos = o & 0x03;
            if (r.V5)
            {
                if ((o & 0xC0) != 0) throw new MqttProtocolException("Subscription options reserved bits 7-6 must be 0 [MQTT-3.8.3-5]");
                if (qos == 3) throw new MqttProtocolException("Subscription QoS 3 (MQTT 5.0 §3.8.3.1, malformed)");
                int rh = (o >> 4) & 0x03;
                if (rh == 3) throw new MqttProtocolException("Retain handling 3 (MQTT 5.0 §3.8.3.1, protocol error)");
                subs.Add(new MqttSubscription(filter, (MqttQualityOfService)qos, (o & 0x04) != 0, (o & 0x08) != 0, (MqttRetainHandling)rh));
            }
            else
            {
                if ((o & 0xFC) != 0 || qos == 3) throw new MqttProtocolException("Requested QoS byte reserved bits / QoS 3 [MQTT-3.8.3-4]");
                subs.Add(new MqttSubscription(filter, (MqttQualityOfService)qos));
            }
        }
        if (subs.Count == 0) throw new MqttProtocolException(r.V5 ? "SUBSCRIBE without topic filter [MQTT-3.8.3-2]" : "SUBSCRIBE without topic filter [MQTT-3.8.3-3]");
        return new MqttSubscribePacket { PacketId = id, Subscriptions = subs, Properties = props };
    }

    // SUBACK
    // 00-01 packet id, v5: properties; payload: one return/reason code per filter.
    private static MqttSubAckPacket ReadSubAck(ref BodyReader r)
    {
        ushort id = r.ReadPacketId();
        var props = r.V5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.SubAck)) : new MqttProperties();
        var codes = new List<MqttReasonCode>();
        while (r.Remaining > 0)
        {
            byte c = r.ReadByte();
            if (!r.V5 && c is not (0x00 or 0x01 or 0x02 or 0x80))
                throw new MqttProtocolException($"SUBACK return code 0x{c:X2} is reserved [MQTT-3.9.3-2]");
            codes.Add((MqttReasonCode)c);
        }
        if (codes.Count == 0) throw new MqttProtocolException("SUBACK without return codes (§3.9.3)");
        return new MqttSubAckPacket { PacketId = id, ReasonCodes = codes, Properties = props };
    }

    // UNSUBSCRIBE
    // 00-01 packet id, v5: properties; payload: topic filters, at least one.
    private static MqttUnsubscribePacket ReadUnsubscribe(ref BodyReader r)
    {
        ushort id = r.ReadPacketId();
        var props = r.V5 ? r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Unsubscribe)) : new MqttProperties();
        var filters = new List<string>();
        while (r.Remaining > 0)
        {
            string filter = r.ReadString();
            if (filter.Length == 0) throw new MqttProtocolException("Topic filters must be at least one character long [MQTT-4.7.3-1]");
            filters.Add(filter);
        }
        if (filters.Count == 0) throw new MqttProtocolException("UNSUBSCRIBE without topic filter [MQTT-3.10.3-2]");
        return new MqttUnsubscribePacket { PacketId = id, TopicFilters = filters, Properties = props };
    }

    // UNSUBACK
    // 00-01 packet id; v5: properties, one reason code per filter.
    private static MqttUnsubAckPacket ReadUnsubAck(ref BodyReader r)
    {
        ushort id = r.ReadPacketId();
        if (!r.V5) return new MqttUnsubAckPacket { PacketId = id };
        var props = r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.UnsubAck));
        var codes = new List<MqttReasonCode>();
        while (r.Remaining > 0) codes.Add((MqttReasonCode)r.ReadByte());
        if (codes.Count == 0) throw new MqttProtocolException("UNSUBACK without reason codes (MQTT 5.0 §3.11.3)");
        return new MqttUnsubAckPacket { PacketId = id, ReasonCodes = codes, Properties = props };
    }

    // PINGREQ / PINGRESP: no variable header, no payload.
    private static MqttPacket ReadEmpty(ref BodyReader r, MqttPacket packet)
    {
        if (r.Remaining != 0) throw new MqttProtocolException($"{packet.Type} must have remaining length 0 (§3.12 / §3.13)");
        return packet;
    }

    // DISCONNECT: 3.1.1 empty. v5: 00 reason code (absent = normal disconnection), properties (absent = none).
    private static MqttDisconnectPacket ReadDisconnect(ref BodyReader r)
    {
        if (!r.V5)
        {
            if (r.Remaining != 0) throw new MqttProtocolException("DISCONNECT must have remaining length 0 (MQTT 3.1.1 §3.14.1)");
            return new MqttDisconnectPacket();
        }
        var code = MqttReasonCode.Success;
        var props = new MqttProperties();
        if (r.Remaining > 0)
        {
            code = (MqttReasonCode)r.ReadByte();
            if (r.Remaining > 0) props = r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Disconnect));
        }
        return new MqttDisconnectPacket { ReasonCode = code, Properties = props };
    }

    // AUTH (5.0 only): 00 reason code, properties; both may be omitted for Success without properties.
    private static MqttAuthPacket ReadAuth(ref BodyReader r, int flags)
    {
        if (flags != 0) throw new MqttProtocolException("AUTH reserved flags must be 0 [MQTT-2.1.3-1]");
        var code = MqttReasonCode.Success;
        var props = new MqttProperties();
        if (r.Remaining > 0)
        {
            code = (MqttReasonCode)r.ReadByte();
            if (code is not (MqttReasonCode.Success or MqttReasonCode.ContinueAuthentication or MqttReasonCode.ReAuthenticate))
                throw new MqttProtocolException($"AUTH reason code 0x{(byte)code:X2} is not allowed (MQTT 5.0 §3.15.2.1)");
            if (r.Remaining > 0) props = r.ReadProperties(MqttPropertyRules.Context(MqttPacketType.Auth));
        }
        return new MqttAuthPacket { ReasonCode = code, Properties = props };
    }

    /// <summary>Reads the fields of one packet body; running past its end is a malformed packet.</summary>
    private ref struct BodyReader
    {
        private SequenceReader<byte> _reader;

        public BodyReader(ReadOnlySequence<byte> body, MqttProtocolVersion version)
        {
            _reader = new SequenceReader<byte>(body);
            Version = version;
        }

        public MqttProtocolVersion Version;

        public readonly bool V5 => Version == MqttProtocolVersion.V500;

        public readonly long Remaining => _reader.Remaining;

        private readonly MqttProtocolException Short() => new(V5
            ? "Remaining length too short for the packet's fields (MQTT 5.0 §1.5 / §2.1.4, malformed)"
            : "Remaining length too short for the packet's fields (MQTT 3.1.1 §2.2.3)");

        public readonly void EnsureEnd(MqttPacketType type)
        {
            if (!_reader.End)
                throw new MqttProtocolException($"{_reader.Remaining} unexpected bytes at the end of {type} ({(V5 ? "MQTT 5.0" : "MQTT 3.1.1")} §2.2.3 remaining length)");
        }

        public byte ReadByte() => _reader.TryRead(out byte b) ? b : throw Short();

        public ushort ReadUInt16() => _reader.TryReadBigEndian(out short v) ? (ushort)v : throw Short();

        public uint ReadUInt32() => _reader.TryReadBigEndian(out int v) ? (uint)v : throw Short();

        public ushort ReadPacketId()
        {
            ushort id = ReadUInt16();
            if (id == 0) throw new MqttProtocolException(V5 ? "Packet identifier 0 [MQTT-2.2.1-3]" : "Packet identifier 0 [MQTT-2.3.1-1]");
            return id;
        }

        public int ReadVarInt()
        {
            int value = 0;
            for (int i = 0; i < 4; i++)
            {
                byte b = ReadByte();
                value |= (b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0)
                {
                    if (i > 0 && b == 0) throw new MqttProtocolException("Variable byte integer not in its shortest form [MQTT-1.5.5-1]");
                    return value;
                }
            }
            throw new MqttProtocolException("Variable byte integer longer than four bytes (MQTT 5.0 §1.5.5, malformed)");
        }

        // UTF-8 encoded string: 00-01 byte length, then well-formed UTF-8 without U+0000.
        public string ReadString()
        {
            int length = ReadUInt16();
            if (_reader.Remaining < length) throw Short();
            string s;
            try
            {
                if (_reader.UnreadSpan.Length >= length)
                {
                    s = StrictUtf8.GetString(_reader.UnreadSpan[..length]);
                }
                else
                {
                    byte[] tmp = new byte[length];
                    _reader.TryCopyTo(tmp);
                    s = StrictUtf8.GetString(tmp);
                }
            }
            catch (DecoderFallbackException ex)
            {
                throw new MqttProtocolException(V5 ? "Ill-formed UTF-8 string [MQTT-1.5.4-1]" : "Ill-formed UTF-8 string [MQTT-1.5.3-1]", ex);
            }
            _reader.Advance(length);
            if (s.Contains('\0'))
                throw new MqttProtocolException(V5 ? "UTF-8 string contains U+0000 [MQTT-1.5.4-2]" : "UTF-8 string contains U+0000 [MQTT-1.5.3-2]");
            return s;
        }

        // Binary data: 00-01 byte length, then the bytes.
        public byte[] ReadBinary()
        {
            int length = ReadUInt16();
            if (_reader.Remaining < length) throw Short();
            byte[] data = new byte[length];
            _reader.TryCopyTo(data);
            _reader.Advance(length);
            return data;
        }

        public byte[] ReadRest()
        {
            byte[] data = _reader.UnreadSequence.ToArray();
            _reader.AdvanceToEnd();
            return data;
        }

        public readonly void CheckTopicName(string topic)
        {
            if (topic.AsSpan().IndexOfAny('+', '#') >= 0)
                throw new MqttProtocolException($"Topic name contains a wildcard [MQTT-3.3.2-2]");
        }

        // Properties: variable byte integer length, then (identifier, value) pairs (MQTT 5.0 §2.2.2).
        public MqttProperties ReadProperties(int context)
        {
            int length = ReadVarInt();
            if (_reader.Remaining < length) throw Short();
            long end = _reader.Consumed + length;
            var p = new MqttProperties();
            while (_reader.Consumed < end)
            {
                int rawId = ReadVarInt();
                if (rawId > 0xFF || !Enum.IsDefined((MqttPropertyId)rawId) || !MqttPropertyRules.IsAllowed((MqttPropertyId)rawId, context))
                    throw new MqttProtocolException($"Property identifier 0x{rawId:X2} is not valid here (MQTT 5.0 §2.2.2.2, malformed)");
                var id = (MqttPropertyId)rawId;
                switch (id)
                {
                    case MqttPropertyId.PayloadFormatIndicator: p.PayloadFormatIndicator = Once(p.PayloadFormatIndicator is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.MessageExpiryInterval: p.MessageExpiryInterval = Once(p.MessageExpiryInterval is not null, ReadUInt32(), id); break;
                    case MqttPropertyId.ContentType: p.ContentType = Once(p.ContentType is not null, ReadString(), id); break;
                    case MqttPropertyId.ResponseTopic:
                        string rt = ReadString();
                        CheckTopicName(rt);
                        p.ResponseTopic = Once(p.ResponseTopic is not null, rt, id);
                        break;
                    case MqttPropertyId.CorrelationData: p.CorrelationData = Once(p.CorrelationData is not null, ReadBinary(), id); break;
                    case MqttPropertyId.SubscriptionIdentifier:
                        int sid = ReadVarInt();
                        if (sid == 0) throw new MqttProtocolException("Subscription identifier 0 (MQTT 5.0 §3.3.2.3.8, protocol error)");
                        if ((context & MqttPropertyRules.Context(MqttPacketType.Subscribe)) != 0 && p.SubscriptionIdentifiers.Count > 0)
                            throw new MqttProtocolException("Subscription identifier repeated in SUBSCRIBE (MQTT 5.0 §3.8.2.1.2, protocol error)");
                        p.SubscriptionIdentifiers.Add((uint)sid);
                        break;
                    case MqttPropertyId.SessionExpiryInterval: p.SessionExpiryInterval = Once(p.SessionExpiryInterval is not null, ReadUInt32(), id); break;
                    case MqttPropertyId.AssignedClientIdentifier: p.AssignedClientIdentifier = Once(p.AssignedClientIdentifier is not null, ReadString(), id); break;
                    case MqttPropertyId.ServerKeepAlive: p.ServerKeepAlive = Once(p.ServerKeepAlive is not null, ReadUInt16(), id); break;
                    case MqttPropertyId.AuthenticationMethod: p.AuthenticationMethod = Once(p.AuthenticationMethod is not null, ReadString(), id); break;
                    case MqttPropertyId.AuthenticationData: p.AuthenticationData = Once(p.AuthenticationData is not null, ReadBinary(), id); break;
                    case MqttPropertyId.RequestProblemInformation: p.RequestProblemInformation = Once(p.RequestProblemInformation is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.WillDelayInterval: p.WillDelayInterval = Once(p.WillDelayInterval is not null, ReadUInt32(), id); break;
                    case MqttPropertyId.RequestResponseInformation: p.RequestResponseInformation = Once(p.RequestResponseInformation is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.ResponseInformation: p.ResponseInformation = Once(p.ResponseInformation is not null, ReadString(), id); break;
                    case MqttPropertyId.ServerReference: p.ServerReference = Once(p.ServerReference is not null, ReadString(), id); break;
                    case MqttPropertyId.ReasonString: p.ReasonString = Once(p.ReasonString is not null, ReadString(), id); break;
                    case MqttPropertyId.ReceiveMaximum:
                        ushort rm = ReadUInt16();
                        if (rm == 0) throw new MqttProtocolException("Receive Maximum 0 (MQTT 5.0 §3.1.2.11.3, protocol error)");
                        p.ReceiveMaximum = Once(p.ReceiveMaximum is not null, rm, id);
                        break;
                    case MqttPropertyId.TopicAliasMaximum: p.TopicAliasMaximum = Once(p.TopicAliasMaximum is not null, ReadUInt16(), id); break;
                    case MqttPropertyId.TopicAlias:
                        ushort ta = ReadUInt16();
                        if (ta == 0) throw new MqttProtocolException("Topic Alias 0 [MQTT-3.3.2-8]");
                        p.TopicAlias = Once(p.TopicAlias is not null, ta, id);
                        break;
                    case MqttPropertyId.MaximumQoS: p.MaximumQoS = Once(p.MaximumQoS is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.RetainAvailable: p.RetainAvailable = Once(p.RetainAvailable is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.UserProperty:
                        string key = ReadString();
                        string value = ReadString();
                        p.UserProperties.Add(new(key, value));
                        break;
                    case MqttPropertyId.MaximumPacketSize:
                        uint mps = ReadUInt32();
                        if (mps == 0) throw new MqttProtocolException("Maximum Packet Size 0 (MQTT 5.0 §3.1.2.11.4, protocol error)");
                        p.MaximumPacketSize = Once(p.MaximumPacketSize is not null, mps, id);
                        break;
                    case MqttPropertyId.WildcardSubscriptionAvailable: p.WildcardSubscriptionAvailable = Once(p.WildcardSubscriptionAvailable is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.SubscriptionIdentifierAvailable: p.SubscriptionIdentifierAvailable = Once(p.SubscriptionIdentifierAvailable is not null, Flag(ReadByte(), id), id); break;
                    case MqttPropertyId.SharedSubscriptionAvailable: p.SharedSubscriptionAvailable = Once(p.SharedSubscriptionAvailable is not null, Flag(ReadByte(), id), id); break;
                }
                if (_reader.Consumed > end) throw new MqttProtocolException("Property runs past the Property Length (MQTT 5.0 §2.2.2.1, malformed)");
            }
            return p;
        }

        private static T Once<T>(bool exists, T value, MqttPropertyId id)
        {
            if (exists) throw new MqttProtocolException($"Property {id} included more than once (MQTT 5.0 §2.2.2.2, protocol error)");
            return value;
        }

        private static byte Flag(byte value, MqttPropertyId id) =>
            value <= 1 ? value : throw new MqttProtocolException($"Property {id} must be 0 or 1, was {value} (MQTT 5.0 §3, protocol error)");
    }
}
