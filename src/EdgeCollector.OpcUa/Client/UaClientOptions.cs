using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Client;

/// <summary>Options of <see cref="UaClient"/>.</summary>
public sealed record UaClientOptions
{
    /// <summary>The server endpoint, e.g. <c>opc.tcp://127.0.0.1:4840</c>.</summary>
    public required string EndpointUrl { get; init; }

    /// <summary>Secure channel options (security policy, limits, timeouts).</summary>
    public UaClientChannelOptions Channel { get; init; } = new();

    /// <summary>The client's application URI.</summary>
    public string ApplicationUri { get; init; } = "urn:edgecollector:opcua-client";

    /// <summary>The client's application name.</summary>
    public string ApplicationName { get; init; } = "EdgeCollector";

    /// <summary>The session name shown by the server.</summary>
    public string SessionName { get; init; } = "EdgeCollector session";

    /// <summary>Requested session timeout.</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Signing / encryption: the client asks the server's endpoints over a None channel (discovery), picks the one with this
    /// policy and mode, checks the server certificate against the PKI store and opens the secure channel with it.
    /// Null: SecurityPolicy None (or whatever <see cref="UaClientChannelOptions.Security"/> plugs in).
    /// </summary>
    public UaClientSecurity? Security { get; init; }

    /// <summary>User name and password; null for anonymous.</summary>
    public UaUserIdentity? User { get; init; }

    /// <summary>Reconnect automatically when the connection breaks (sessions and subscriptions are restored).</summary>
    public bool AutoReconnect { get; init; } = true;

    /// <summary>Delay between reconnect attempts.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Delay before the next reconnect after a certificate, policy or user failure (<see cref="UaClient.IsSecurityFailure"/>).</summary>
    public TimeSpan SecurityRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Publish requests kept outstanding while subscriptions exist.</summary>
    // Five outstanding, as node-opcua's client keeps: a server that splits a cycle's notifications
    // over several Publish responses (node-opcua sends at most 1,000 per response) must not run out
    // of requests, or it overwrites queued values before they are sent (bench/opcua.sh, 10,000 items).
    public int PublishRequestCount { get; init; } = 5;

    /// <summary>Decoding limits applied to responses (also used by the channel).</summary>
    public UaDecodingLimits Decoding => Channel.Limits.Decoding;
}

/// <summary>The security of a client: policy, mode, our certificate and the store that decides which servers are trusted.</summary>
public sealed record UaClientSecurity
{
    /// <summary>The security policy (never a deprecated one: <see cref="UaSecurityPolicy.Find"/> refuses those).</summary>
    public required UaSecurityPolicy Policy { get; init; }

    /// <summary>Sign or SignAndEncrypt.</summary>
    public MessageSecurityMode Mode { get; init; } = MessageSecurityMode.SignAndEncrypt;

    /// <summary>Our application instance certificate with its private key (its URI must be <see cref="UaClientOptions.ApplicationUri"/>).</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>Decides whether a server certificate is trusted.</summary>
    public required UaCertificateStore Store { get; init; }
}

/// <summary>User name / password identity (OPC 10000-4 §7.41.4).</summary>
/// <param name="UserName">The user name.</param>
/// <param name="Password">The password (never logged).</param>
public sealed record UaUserIdentity(string UserName, string Password)
{
    /// <inheritdoc />
    public override string ToString() => $"UaUserIdentity {{ UserName = {UserName} }}";
}

/// <summary>Connection states reported by <see cref="UaClient.ConnectionChanged"/>.</summary>
public enum UaConnectionState
{
    /// <summary>Session active.</summary>
    Connected,

    /// <summary>Connection lost; reconnecting.</summary>
    Reconnecting,

    /// <summary>Reconnected and the previous session was re-activated on a new channel.</summary>
    SessionRestored,

    /// <summary>Reconnected with a new session (server restarted or session expired); subscriptions were transferred or recreated.</summary>
    SessionRecreated,

    /// <summary>Closed by the caller.</summary>
    Closed,
}
