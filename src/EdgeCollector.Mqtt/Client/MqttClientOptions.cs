using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Client;

/// <summary>Severity for <see cref="MqttLogCallback"/>.</summary>
public enum MqttLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>
/// Log sink. A plain delegate until Microsoft.Extensions.Logging.Abstractions is pinned centrally; the host
/// adapts it to ILogger in one line.
/// </summary>
public delegate void MqttLogCallback(MqttLogLevel level, string message, Exception? exception);

/// <summary>Settings of one <see cref="MqttClient"/>.</summary>
public sealed class MqttClientOptions
{
    /// <summary>Broker host name or address.</summary>
    public required string Host { get; init; }

    /// <summary>Broker port (1883 plain, 8883 TLS by convention).</summary>
    public int Port { get; init; } = 1883;

    /// <summary>Wrap the TCP stream in TLS (<see cref="System.Net.Security.SslStream"/>).</summary>
    public bool UseTls { get; init; }

    /// <summary>
    /// PEM file of the CA(s) that must have issued the broker certificate. When set, the chain is built against
    /// these roots only (custom root trust) instead of the system store; the host name is still checked.
    /// </summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate: a PEM file (with <see cref="ClientKeyFile"/>, or the key inside it) or a PFX/PKCS#12 file.</summary>
    public string? ClientCertificateFile { get; init; }

    /// <summary>PEM private key of the client certificate when it is not in <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; init; }

    /// <summary>Password of a PFX client certificate.</summary>
    public string? ClientCertificatePassword { get; init; }

    /// <summary>Name expected in the broker certificate and sent as SNI; defaults to <see cref="Host"/>.</summary>
    public string? ServerName { get; init; }

    public string ClientId { get; init; } = "";
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V500;
    public string? UserName { get; init; }

    /// <summary>The password itself (the host reads it from the environment variable named in config).</summary>
    public string? Password { get; init; }

    /// <summary>Keep-alive interval sent in CONNECT; zero turns keep-alive off.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for any packet after a PINGREQ before the connection is declared dead.</summary>
    public TimeSpan? KeepAliveTimeout { get; init; }

    /// <summary>Clean session (3.1.1) / clean start (5.0).</summary>
    public bool CleanStart { get; init; } = true;

    /// <summary>v5 Session Expiry Interval in seconds (0 = session ends with the connection; uint.MaxValue = never).</summary>
    public uint SessionExpirySeconds { get; init; }

    /// <summary>Last-will message published by the broker when the connection is lost without DISCONNECT.</summary>
    public MqttWill? Will { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most QoS 1 messages awaiting PUBACK at once (further capped by the broker's v5 Receive Maximum).</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>Largest packet accepted from the broker (announced as v5 Maximum Packet Size).</summary>
    public int MaximumPacketSize { get; init; } = 1 << 20;

    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    public MqttLogCallback? Log { get; init; }

    /// <summary>
    /// Parses <c>mqtt://host:port</c> / <c>mqtts://host:port</c> (contracts.md §1 Uplink.Mqtt.Broker) into host, port and TLS.
    /// </summary>
    public static (string Host, int Port, bool UseTls) ParseBrokerUri(string broker)
    {
        var uri = new Uri(broker);
        bool tls = uri.Scheme switch
        {
            "mqtt" or "tcp" => false,
            "mqtts" or "ssl" or "tls" => true,
            _ => throw new ArgumentException($"Broker '{broker}': scheme must be mqtt:// or mqtts://.", nameof(broker)),
        };
        int port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port;
        return (uri.Host, port, tls);
    }
}
