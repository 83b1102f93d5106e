using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Formatter;

/// <summary>Which v5 property may appear in which packet (MQTT 5.0 §2.2.2.2, table 2-4).</summary>
internal static class MqttPropertyRules
{
    /// <summary>Pseudo packet-type bit used for the Will Properties of CONNECT (§3.1.3.2).</summary>
    public const int WillContext = 1 << 16;

    private static int Bit(MqttPacketType t) => 1 << (int)t;

    private static readonly int Publish = Bit(MqttPacketType.Publish);
    private static readonly int Connect = Bit(MqttPacketType.Connect);
    private static readonly int ConnAck = Bit(MqttPacketType.ConnAck);
    private static readonly int Disconnect = Bit(MqttPacketType.Disconnect);
    private static readonly int Auth = Bit(MqttPacketType.Auth);
    private static readonly int Subscribe = Bit(MqttPacketType.Subscribe);
    private static readonly int Acks =
        Bit(MqttPacketType.PubAck) | Bit(MqttPacketType.PubRec) | Bit(MqttPacketType.PubRel) |
        Bit(MqttPacketType.PubComp) | Bit(MqttPacketType.SubAck) | Bit(MqttPacketType.UnsubAck);
    private const int All = -1;

    public static int AllowedIn(MqttPropertyId id) => id switch
    {
        MqttPropertyId.PayloadFormatIndicator or MqttPropertyId.MessageExpiryInterval or MqttPropertyId.ContentType
            or MqttPropertyId.ResponseTopic or MqttPropertyId.CorrelationData => Publish | WillContext,
        MqttPropertyId.SubscriptionIdentifier => Publish | Subscribe,
        MqttPropertyId.SessionExpiryInterval => Connect | ConnAck | Disconnect,
        MqttPropertyId.AssignedClientIdentifier or MqttPropertyId.ServerKeepAlive or MqttPropertyId.ResponseInformation
            or MqttPropertyId.MaximumQoS or MqttPropertyId.RetainAvailable or MqttPropertyId.WildcardSubscriptionAvailable
            or MqttPropertyId.SubscriptionIdentifierAvailable or MqttPropertyId.SharedSubscriptionAvailable => ConnAck,
        MqttPropertyId.AuthenticationMethod or MqttPropertyId.AuthenticationData => Connect | ConnAck | Auth,
        MqttPropertyId.RequestProblemInformation or MqttPropertyId.RequestResponseInformation => Connect,
        MqttPropertyId.WillDelayInterval => WillContext,
        MqttPropertyId.ServerReference => ConnAck | Disconnect,
        MqttPropertyId.ReasonString => ConnAck | Acks | Disconnect | Auth,
        MqttPropertyId.ReceiveMaximum or MqttPropertyId.TopicAliasMaximum or MqttPropertyId.MaximumPacketSize => Connect | ConnAck,
        MqttPropertyId.TopicAlias => Publish,
        MqttPropertyId.UserProperty => All,
        _ => 0,
    };

    public static bool IsAllowed(MqttPropertyId id, int context) => (AllowedIn(id) & context) != 0;

    public static int Context(MqttPacketType type) => Bit(type);
}
