namespace EdgeCollector.Mqtt.Packets;

/// <summary>Base of every MQTT control packet. Packets are plain data; the formatter owns the wire layout.</summary>
public abstract class MqttPacket
{
    /// <summary>The control packet type (fixed header high nibble).</summary>
    public abstract MqttPacketType Type { get; }
}

/// <summary>Last-will message carried by CONNECT (3.1.1 §3.1.2.5, 5.0 §3.1.3.2).</summary>
public sealed class MqttWill
{
    public required string Topic { get; init; }
    public ReadOnlyMemory<byte> Payload { get; init; }
    public MqttQualityOfService QoS { get; init; }
    public bool Retain { get; init; }
    /// <summary>Will properties (v5 only).</summary>
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>CONNECT (§3.1).</summary>
public sealed class MqttConnectPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Connect;
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;
    public string ClientId { get; init; } = "";
    /// <summary>Clean Session (3.1.1) / Clean Start (5.0).</summary>
    public bool CleanStart { get; init; } = true;
    public ushort KeepAliveSeconds { get; init; }
    public string? UserName { get; init; }
    public ReadOnlyMemory<byte>? Password { get; init; }
    public MqttWill? Will { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>CONNACK (§3.2). In 3.1.1 <see cref="ReasonCode"/> carries the return code (see <see cref="MqttConnectReturnCode"/>).</summary>
public sealed class MqttConnAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.ConnAck;
    public bool SessionPresent { get; init; }
    public MqttReasonCode ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>PUBLISH (§3.3).</summary>
public sealed class MqttPublishPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Publish;
    public required string Topic { get; init; }
    public ReadOnlyMemory<byte> Payload { get; init; }
    public MqttQualityOfService QoS { get; init; }
    public bool Retain { get; init; }
    public bool Dup { get; init; }
    /// <summary>Packet identifier; present on the wire only when QoS &gt; 0.</summary>
    public ushort PacketId { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>Common shape of PUBACK, PUBREC, PUBREL and PUBCOMP (§3.4–§3.7).</summary>
public abstract class MqttPacketIdAckPacket : MqttPacket
{
    public ushort PacketId { get; init; }
    /// <summary>v5 reason code; 3.1.1 has none (always success).</summary>
    public MqttReasonCode ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>PUBACK (§3.4).</summary>
public sealed class MqttPubAckPacket : MqttPacketIdAckPacket
{
    public override MqttPacketType Type => MqttPacketType.PubAck;
}

/// <summary>PUBREC (§3.5).</summary>
public sealed class MqttPubRecPacket : MqttPacketIdAckPacket
{
    public override MqttPacketType Type => MqttPacketType.PubRec;
}

/// <summary>PUBREL (§3.6).</summary>
public sealed class MqttPubRelPacket : MqttPacketIdAckPacket
{
    public override MqttPacketType Type => MqttPacketType.PubRel;
}

/// <summary>PUBCOMP (§3.7).</summary>
public sealed class MqttPubCompPacket : MqttPacketIdAckPacket
{
    public override MqttPacketType Type => MqttPacketType.PubComp;
}

/// <summary>One topic filter of a SUBSCRIBE with its options byte (§3.8.3.1).</summary>
public sealed record MqttSubscription(
    string TopicFilter,
    MqttQualityOfService MaximumQoS,
    bool NoLocal = false,
    bool RetainAsPublished = false,
    MqttRetainHandling RetainHandling = MqttRetainHandling.SendAtSubscribe);

/// <summary>SUBSCRIBE (§3.8).</summary>
public sealed class MqttSubscribePacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Subscribe;
    public ushort PacketId { get; init; }
    public required IReadOnlyList<MqttSubscription> Subscriptions { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>SUBACK (§3.9). 3.1.1 return codes 0x00–0x02 and 0x80 share the byte values of the v5 reason codes.</summary>
public sealed class MqttSubAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.SubAck;
    public ushort PacketId { get; init; }
    public required IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>UNSUBSCRIBE (§3.10).</summary>
public sealed class MqttUnsubscribePacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Unsubscribe;
    public ushort PacketId { get; init; }
    public required IReadOnlyList<string> TopicFilters { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>UNSUBACK (§3.11). 3.1.1 carries only the packet id (no reason codes).</summary>
public sealed class MqttUnsubAckPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.UnsubAck;
    public ushort PacketId { get; init; }
    public IReadOnlyList<MqttReasonCode> ReasonCodes { get; init; } = [];
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>PINGREQ (§3.12).</summary>
public sealed class MqttPingReqPacket : MqttPacket
{
    public static readonly MqttPingReqPacket Instance = new();
    public override MqttPacketType Type => MqttPacketType.PingReq;
}

/// <summary>PINGRESP (§3.13).</summary>
public sealed class MqttPingRespPacket : MqttPacket
{
    public static readonly MqttPingRespPacket Instance = new();
    public override MqttPacketType Type => MqttPacketType.PingResp;
}

/// <summary>DISCONNECT (§3.14). 3.1.1 has no variable header.</summary>
public sealed class MqttDisconnectPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Disconnect;
    public MqttReasonCode ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();
}

/// <summary>AUTH (MQTT 5.0 §3.15).</summary>
public sealed class MqttAuthPacket : MqttPacket
{
    public override MqttPacketType Type => MqttPacketType.Auth;
    public MqttReasonCode ReasonCode { get; init; }
    public MqttProperties Properties { get; init; } = new();
}
