namespace EdgeCollector.Mqtt.Packets;

/// <summary>
/// MQTT 5.0 properties (§2.2.2). One typed slot per property; <see cref="UserProperties"/> and
/// <see cref="SubscriptionIdentifiers"/> are the only ones that may repeat. The encoder writes them in
/// identifier order, so golden bytes are deterministic; the decoder accepts any order.
/// </summary>
public sealed class MqttProperties
{
    public byte? PayloadFormatIndicator { get; set; }
    public uint? MessageExpiryInterval { get; set; }
    public string? ContentType { get; set; }
    public string? ResponseTopic { get; set; }
    public byte[]? CorrelationData { get; set; }
    public List<uint> SubscriptionIdentifiers { get; } = [];
    public uint? SessionExpiryInterval { get; set; }
    public string? AssignedClientIdentifier { get; set; }
    public ushort? ServerKeepAlive { get; set; }
    public string? AuthenticationMethod { get; set; }
    public byte[]? AuthenticationData { get; set; }
    public byte? RequestProblemInformation { get; set; }
    public uint? WillDelayInterval { get; set; }
    public byte? RequestResponseInformation { get; set; }
    public string? ResponseInformation { get; set; }
    public string? ServerReference { get; set; }
    public string? ReasonString { get; set; }
    public ushort? ReceiveMaximum { get; set; }
    public ushort? TopicAliasMaximum { get; set; }
    public ushort? TopicAlias { get; set; }
    public byte? MaximumQoS { get; set; }
    public byte? RetainAvailable { get; set; }
    public List<KeyValuePair<string, string>> UserProperties { get; } = [];
    public uint? MaximumPacketSize { get; set; }
    public byte? WildcardSubscriptionAvailable { get; set; }
    public byte? SubscriptionIdentifierAvailable { get; set; }
    public byte? SharedSubscriptionAvailable { get; set; }

    /// <summary>True when no property is set.</summary>
    public bool IsEmpty =>
        PayloadFormatIndicator is null && MessageExpiryInterval is null && ContentType is null &&
        ResponseTopic is null && CorrelationData is null && SubscriptionIdentifiers.Count == 0 &&
        SessionExpiryInterval is null && AssignedClientIdentifier is null && ServerKeepAlive is null &&
        AuthenticationMethod is null && AuthenticationData is null && RequestProblemInformation is null &&
        WillDelayInterval is null && RequestResponseInformation is null && ResponseInformation is null &&
        ServerReference is null && ReasonString is null && ReceiveMaximum is null && TopicAliasMaximum is null &&
        TopicAlias is null && MaximumQoS is null && RetainAvailable is null && UserProperties.Count == 0 &&
        MaximumPacketSize is null && WildcardSubscriptionAvailable is null &&
        SubscriptionIdentifierAvailable is null && SharedSubscriptionAvailable is null;
}
