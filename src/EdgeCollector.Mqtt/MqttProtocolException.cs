namespace EdgeCollector.Mqtt;

/// <summary>
/// Thrown when bytes received from a peer violate the MQTT specification. The message ends with the
/// normative statement (e.g. <c>[MQTT-3.3.1-4]</c>) or section that was violated. The connection that
/// produced the bytes must be closed (MQTT 3.1.1 §4.8, MQTT 5.0 §4.13).
/// </summary>
public sealed class MqttProtocolException : Exception
{
    /// <summary>Creates the exception with a message that cites the violated clause.</summary>
    public MqttProtocolException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner cause.</summary>
    public MqttProtocolException(string message, Exception inner) : base(message, inner) { }

    public MqttProtocolException() { }
}
