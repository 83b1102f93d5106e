using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Client;

/// <summary>The connection was lost (or was never up); whatever was in flight may or may not have arrived.</summary>
public sealed class MqttConnectionLostException : Exception
{
    public MqttConnectionLostException(string message, Exception? inner = null) : base(message, inner) { }
    public MqttConnectionLostException() { }
    public MqttConnectionLostException(string message) : base(message) { }
}

/// <summary>The broker refused the CONNECT (CONNACK return/reason code ≠ 0).</summary>
public sealed class MqttConnectRefusedException : Exception
{
    public MqttConnectRefusedException(MqttReasonCode code, string? reason)
        : base($"Broker refused the connection: 0x{(byte)code:X2} {code}{(reason is null ? "" : " — " + reason)}") => ReasonCode = code;
    public MqttConnectRefusedException() { }
    public MqttConnectRefusedException(string message) : base(message) { }
    public MqttConnectRefusedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>v5 reason code, or the 3.1.1 return code as its byte value.</summary>
    public MqttReasonCode ReasonCode { get; }
}

/// <summary>A v5 PUBACK (or SUBACK) carried a failure reason code (≥ 0x80).</summary>
public sealed class MqttPublishRejectedException : Exception
{
    public MqttPublishRejectedException(MqttReasonCode code, string? reason)
        : base($"Broker rejected the message: 0x{(byte)code:X2} {code}{(reason is null ? "" : " — " + reason)}") => ReasonCode = code;
    public MqttPublishRejectedException() { }
    public MqttPublishRejectedException(string message) : base(message) { }
    public MqttPublishRejectedException(string message, Exception inner) : base(message, inner) { }

    public MqttReasonCode ReasonCode { get; }
}
