using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Server;

/// <summary>Options of <see cref="UaServer"/>.</summary>
public sealed record UaServerOptions
{
    /// <summary>Address to listen on (127.0.0.1 by default).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port; 0 picks a free one (see <see cref="UaServer.Port"/>).</summary>
    public int Port { get; init; }

    /// <summary>Path part of the endpoint URL, e.g. "/edge".</summary>
    public string ResourcePath { get; init; } = "";

    /// <summary>The server's application URI (namespace 1 of the address space should match it).</summary>
    public string ApplicationUri { get; init; } = "urn:edgecollector:opcua-server";

    /// <summary>The server's product URI.</summary>
    public string ProductUri { get; init; } = "urn:edgecollector";

    /// <summary>The server's name.</summary>
    public string ApplicationName { get; init; } = "EdgeCollector OPC UA server";

    /// <summary>Allow anonymous sessions.</summary>
    public bool AllowAnonymous { get; init; } = true;

    /// <summary>Checks a user name and password; null disables user name tokens.</summary>
    public Func<string, string, bool>? ValidateUser { get; init; }

    /// <summary>Buffer sizes and limits offered in Acknowledge.</summary>
    public UaChannelLimits Limits { get; init; } = new();

    /// <summary>Shortest publishing interval granted.</summary>
    public TimeSpan MinPublishingInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Creates the security policy of each accepted channel; None unless configured (part 2 adds signing and encryption).</summary>
    public Func<IUaChannelSecurity> Security { get; init; } = static () => UaSecurityNone.Instance;

    /// <summary>
    /// Signed / encrypted endpoints (policy × mode). Non-empty needs <see cref="Certificate"/> and <see cref="CertificateStore"/>;
    /// a None channel then serves discovery only unless <see cref="OfferNone"/>.
    /// </summary>
    public IReadOnlyList<UaEndpointSecurity> SecureEndpoints { get; init; } = [];

    /// <summary>Offer the <see cref="Security"/> (None by default) endpoint for sessions; when false, None channels serve discovery only.</summary>
    public bool OfferNone { get; init; } = true;

    /// <summary>Our application instance certificate with its private key (for <see cref="SecureEndpoints"/>).</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>Decides which client certificates are trusted (for <see cref="SecureEndpoints"/>).</summary>
    public UaCertificateStore? CertificateStore { get; init; }

    /// <summary>Shortest session timeout granted.</summary>
    public TimeSpan MinSessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most concurrent sessions.</summary>
    public int MaxSessions { get; init; } = 100;

    /// <summary>Most parked Publish requests per session.</summary>
    public int MaxPublishRequestsPerSession { get; init; } = 10;
}

/// <summary>A signed or encrypted endpoint offered by <see cref="UaServer"/>.</summary>
/// <param name="Policy">The security policy.</param>
/// <param name="Mode">Sign or SignAndEncrypt.</param>
public sealed record UaEndpointSecurity(UaSecurityPolicy Policy, MessageSecurityMode Mode);

/// <summary>
/// An OPC UA server over opc.tcp with SecurityPolicy None and the RSA policies of <see cref="UaSecurityPolicy"/>: discovery (GetEndpoints, FindServers), sessions
/// (anonymous and user name), Browse/BrowseNext/TranslateBrowsePaths, Read/Write, subscriptions with
/// data-change notifications, keep-alives, Republish and TransferSubscriptions. Serves a <see cref="UaAddressSpace"/>.
/// </summary>
public sealed class UaServer : IUaRequestHandler, IAsyncDisposable
{
    private readonly UaServerOptions _options;
    private readonly ConcurrentDictionary<NodeId, UaServerSession> _sessions = new();
    private readonly ConcurrentDictionary<uint, UaServerSubscription> _subscriptions = new();
    private readonly ConcurrentDictionary<UaServerChannel, Task> _channels = new();
    private readonly CancellationTokenSource _stop = new();
    private TcpListener? _listener;
    private Task? _acceptLoop;
    private Task? _janitor;
    private int _nextChannelId;
    // Random start so ids of a restarted server do not collide with ones clients still hold (TransferSubscriptions).
    private int _nextSubscriptionId = RandomNumberGenerator.GetInt32(1, 1 << 30);
    private int _nextMonitoredItemId;

    /// <summary>Creates a server for an address space.</summary>
    public UaServer(UaAddressSpace addressSpace, UaServerOptions? options = null)
    {
        AddressSpace = addressSpace;
        _options = options ?? new UaServerOptions();
    }

    /// <summary>The nodes served.</summary>
    public UaAddressSpace AddressSpace { get; }

    /// <summary>The port listened on (after start).</summary>
    public int Port { get; private set; }

    /// <summary>The endpoint URL, e.g. <c>opc.tcp://127.0.0.1:4840/edge</c>.</summary>
    public string EndpointUrl => $"opc.tcp://{_options.Host}:{Port}{_options.ResourcePath}";

    /// <summary>Sessions currently open.</summary>
    public int SessionCount => _sessions.Count;

    /// <summary>Subscriptions currently alive.</summary>
    public int SubscriptionCount => _subscriptions.Count;

    /// <summary>Open connections.</summary>
    public int ChannelCount => _channels.Count;

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_options.SecureEndpoints.Count > 0 && (_options.Certificate?.HasPrivateKey != true || _options.CertificateStore is null))
            throw new InvalidOperationException("UaServerOptions.SecureEndpoints needs Certificate (with its private key) and CertificateStore");
        _listener = new TcpListener(IPAddress.Parse(_options.Host), _options.Port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = AcceptLoopAsync();
        _janitor = JanitorAsync();
        return Task.CompletedTask;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            var secure = _options.SecureEndpoints.Count > 0;
            var channel = new UaServerChannel(new NetworkStream(socket, ownsSocket: true), this, (uint)Interlocked.Increment(ref _nextChannelId), _options.Limits, TimeSpan.FromSeconds(10), _options.Security(),
                secure ? SelectSecurity : null, secure ? ModeOffered : null);
            _channels[channel] = RunChannelAsync(channel);
        }
    }

    private async Task RunChannelAsync(UaServerChannel channel)
    {
        try
        {
            await Task.Yield();
            await channel.RunAsync();
        }
        finally
        {
            _channels.TryRemove(channel, out _);
        }
    }

    private async Task JanitorAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await Task.Delay(1000, _stop.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
            foreach (var session in _sessions.Values)
            {
                // A session without requests for its timeout is closed with its subscriptions (OPC 10000-4 §5.6.2).
                if (DateTime.UtcNow - session.LastRequestAt > session.Timeout && session.PendingPublishCount == 0)
                    RemoveSession(session, deleteSubscriptions: true);
            }
        }
    }

    /// <summary>A fresh policy instance for the SecurityPolicyUri of a client's first OpenSecureChannel; None always serves discovery.</summary>
    private IUaChannelSecurity? SelectSecurity(string policyUri)
    {
        var plain = _options.Security();
        if (string.Equals(policyUri, plain.PolicyUri, StringComparison.Ordinal))
            return plain;
        if (UaSecurityPolicy.IsNone(policyUri))
            return UaSecurityNone.Instance;
        var endpoint = _options.SecureEndpoints.FirstOrDefault(e => string.Equals(e.Policy.Uri, policyUri, StringComparison.Ordinal));
        if (endpoint is null)
            return null;
        var store = _options.CertificateStore!;
        return new UaRsaChannelSecurity(endpoint.Policy, endpoint.Mode, _options.Certificate!, null,
            certificate => store.Validate(certificate, UaPeerRole.Client, null, null));
    }

    private bool ModeOffered(string policyUri, MessageSecurityMode mode) =>
        _options.SecureEndpoints.Any(e => e.Mode == mode && string.Equals(e.Policy.Uri, policyUri, StringComparison.Ordinal));

    private bool SessionsAllowedOn(UaServerChannel channel) =>
        channel.Security is UaRsaChannelSecurity || _options.OfferNone || !UaSecurityPolicy.IsNone(channel.Security.PolicyUri);

    private EndpointDescription[] Endpoints()
    {
        var secure = _options.SecureEndpoints.Select(e =>
        {
            var tokens = new List<UserTokenPolicy>();
            if (_options.AllowAnonymous)
                tokens.Add(new UserTokenPolicy { PolicyId = "anonymous", TokenType = UserTokenType.Anonymous });
            if (_options.ValidateUser is not null)
            {
                // The password is encrypted with the endpoint's policy (OPC 10000-4 §7.41.2.2).
                tokens.Add(new UserTokenPolicy { PolicyId = "username-" + e.Policy.Name, TokenType = UserTokenType.UserName, SecurityPolicyUri = e.Policy.Uri });
            }

            return new EndpointDescription
            {
                EndpointUrl = EndpointUrl,
                Server = Application(),
                ServerCertificate = _options.Certificate!.RawData,
                SecurityMode = e.Mode,
                SecurityPolicyUri = e.Policy.Uri,
                UserIdentityTokens = tokens.ToArray(),
                TransportProfileUri = UaUris.UaTcpTransport,
                SecurityLevel = (byte)(e.Mode == MessageSecurityMode.SignAndEncrypt ? 3 : 2),
            };
        }).ToArray();
        if (secure.Length > 0 && !_options.OfferNone)
            return secure;
        return [.. PlainEndpoints(), .. secure];
    }

    private EndpointDescription[] PlainEndpoints()
    {
        var tokens = new List<UserTokenPolicy>();
        if (_options.AllowAnonymous)
            tokens.Add(new UserTokenPolicy { PolicyId = "anonymous", TokenType = UserTokenType.Anonymous });
        if (_options.ValidateUser is not null)
        {
            // SecurityPolicy None on the token: the password travels in clear. Acceptable only because the whole
            // endpoint is None and this is configured on purpose (domain-defaults.md "OPC UA").
            tokens.Add(new UserTokenPolicy { PolicyId = "username", TokenType = UserTokenType.UserName, SecurityPolicyUri = UaUris.SecurityPolicyNone });
        }

        var security = _options.Security();
        return
        [
            new EndpointDescription
            {
                EndpointUrl = EndpointUrl,
                Server = Application(),
                SecurityMode = security.Mode,
                SecurityPolicyUri = security.PolicyUri,
                UserIdentityTokens = tokens.ToArray(),
                TransportProfileUri = UaUris.UaTcpTransport,
                SecurityLevel = 0,
            },
        ];
    }

    private ApplicationDescription Application() => new()
    {
        ApplicationUri = _options.ApplicationUri,
        ProductUri = _options.ProductUri,
        ApplicationName = new LocalizedText("en", _options.ApplicationName),
        ApplicationType = ApplicationType.Server,
        DiscoveryUrls = [EndpointUrl],
    };

    private static ResponseHeader Header(UaRequest request, StatusCode result = default) =>
        new() { Timestamp = DateTime.UtcNow, RequestHandle = request.RequestHeader.RequestHandle, ServiceResult = result };

    /// <inheritdoc />
    public async Task HandleAsync(UaServerChannel channel, uint requestId, UaRequest request)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(request);
        switch (request)
        {
            case GetEndpointsRequest r:
                await channel.SendResponseAsync(requestId, new GetEndpointsResponse { ResponseHeader = Header(r), Endpoints = Endpoints() });
                return;
            case FindServersRequest r:
                await channel.SendResponseAsync(requestId, new FindServersResponse { ResponseHeader = Header(r), Servers = [Application()] });
                return;
            case CreateSessionRequest r:
                await channel.SendResponseAsync(requestId, CreateSession(channel, r));
                return;
            case ActivateSessionRequest r:
                await channel.SendResponseAsync(requestId, ActivateSession(channel, r));
                return;
        }

        var session = FindSession(channel, request);
        session.Touch();
        switch (request)
        {
            case CloseSessionRequest r:
                RemoveSession(session, r.DeleteSubscriptions);
                await channel.SendResponseAsync(requestId, new CloseSessionResponse { ResponseHeader = Header(r) });
                return;
            case ReadRequest r:
                await channel.SendResponseAsync(requestId, Read(r));
                return;
            case WriteRequest r:
                await channel.SendResponseAsync(requestId, Write(r));
                return;
            case BrowseRequest r:
                await channel.SendResponseAsync(requestId, Browse(session, r));
                return;
            case BrowseNextRequest r:
                await channel.SendResponseAsync(requestId, BrowseNext(session, r));
                return;
            case TranslateBrowsePathsToNodeIdsRequest r:
                await channel.SendResponseAsync(requestId, Translate(r));
                return;
            case CreateSubscriptionRequest r:
                await channel.SendResponseAsync(requestId, CreateSubscription(session, r));
                return;
            case ModifySubscriptionRequest r:
                await channel.SendResponseAsync(requestId, ModifySubscription(session, r));
                return;
            case SetPublishingModeRequest r:
                await channel.SendResponseAsync(requestId, SetPublishingMode(session, r));
                return;
            case DeleteSubscriptionsRequest r:
                await channel.SendResponseAsync(requestId, DeleteSubscriptions(session, r));
                return;
            case CreateMonitoredItemsRequest r:
                await channel.SendResponseAsync(requestId, CreateMonitoredItems(session, r));
                return;
            case DeleteMonitoredItemsRequest r:
                await channel.SendResponseAsync(requestId, DeleteMonitoredItems(session, r));
                return;
            case PublishRequest r:
                await PublishAsync(session, channel, requestId, r);
                return;
            case RepublishRequest r:
                await channel.SendResponseAsync(requestId, Republish(session, r));
                return;
            case TransferSubscriptionsRequest r:
                await channel.SendResponseAsync(requestId, TransferSubscriptions(session, r));
                return;
            default:
                throw new UaException(StatusCodes.BadServiceUnsupported, $"{request.GetType().Name} is not supported");
        }
    }

    private UaServerSession FindSession(UaServerChannel channel, UaRequest request)
    {
        if (!_sessions.TryGetValue(request.RequestHeader.AuthenticationToken, out var session))
            throw new UaException(StatusCodes.BadSessionIdInvalid, "Unknown authentication token (OPC 10000-4 §5.6.2)");
        if (!session.Activated)
            throw new UaException(StatusCodes.BadSessionNotActivated, "Session not activated (OPC 10000-4 §5.6.3)");
        if (session.Channel != channel)
            throw new UaException(StatusCodes.BadSecureChannelIdInvalid, "Session is bound to another secure channel (OPC 10000-4 §5.6.3)");
        return session;
    }

    private CreateSessionResponse CreateSession(UaServerChannel channel, CreateSessionRequest request)
    {
        if (!SessionsAllowedOn(channel))
            throw new UaException(StatusCodes.BadSecurityPolicyRejected, "SecurityPolicy None serves discovery only on this server (OPC 10000-4 §5.4)");
        if (_sessions.Count >= _options.MaxSessions)
            throw new UaException(StatusCodes.BadTooManySessions, "Too many sessions");
        var rsa = channel.Security as UaRsaChannelSecurity;
        var serverSignature = new SignatureData();
        if (rsa is not null)
        {
            // The client certificate must be the channel's and carry the ApplicationUri the client claims (OPC 10000-4 §5.6.2.2).
            if (request.ClientCertificate is not { Length: > 0 } clientCertificate || !UaCertificates.LeafOf(clientCertificate).AsSpan().SequenceEqual(rsa.RemoteCertificate!.RawData))
                throw new UaException(StatusCodes.BadCertificateInvalid, "CreateSession names another client certificate than the secure channel");
            var uri = request.ClientDescription?.ApplicationUri;
            if (uri is null || !UaCertificates.Uris(rsa.RemoteCertificate).Contains(uri, StringComparer.Ordinal))
                throw new UaException(StatusCodes.BadCertificateUriInvalid, $"The client certificate does not carry ApplicationUri '{uri}'");
            if (request.ClientNonce is not { Length: >= 32 } clientNonce)
                throw new UaException(StatusCodes.BadNonceInvalid, "CreateSession needs a client nonce of at least 32 bytes (OPC 10000-4 §5.6.2)");
            serverSignature = rsa.SignData([.. clientCertificate, .. clientNonce]);
        }

        var timeout = TimeSpan.FromMilliseconds(Math.Clamp(double.IsNaN(request.RequestedSessionTimeout) ? 0 : request.RequestedSessionTimeout, _options.MinSessionTimeout.TotalMilliseconds, 3_600_000));
        var session = new UaServerSession(new NodeId(1, Guid.NewGuid()), new NodeId(0, RandomNumberGenerator.GetBytes(32)), timeout, channel)
        {
            ServerNonce = RandomNumberGenerator.GetBytes(32),
            ClientCertificate = rsa is null ? null : request.ClientCertificate,
            PolicyUri = channel.Security.PolicyUri,
        };
        _sessions[session.AuthenticationToken] = session;
        return new CreateSessionResponse
        {
            ResponseHeader = Header(request),
            SessionId = session.SessionId,
            AuthenticationToken = session.AuthenticationToken,
            RevisedSessionTimeout = timeout.TotalMilliseconds,
            ServerNonce = session.ServerNonce,
            ServerCertificate = rsa is null ? null : _options.Certificate!.RawData,
            ServerEndpoints = Endpoints(),
            ServerSignature = serverSignature,
            MaxRequestMessageSize = (uint)_options.Limits.MaxMessageSize,
        };
    }

    private ActivateSessionResponse ActivateSession(UaServerChannel channel, ActivateSessionRequest request)
    {
        if (!_sessions.TryGetValue(request.RequestHeader.AuthenticationToken, out var session))
            throw new UaException(StatusCodes.BadSessionIdInvalid, "Unknown authentication token (OPC 10000-4 §5.6.3)");
        if (!SessionsAllowedOn(channel))
            throw new UaException(StatusCodes.BadSecurityPolicyRejected, "SecurityPolicy None serves discovery only on this server (OPC 10000-4 §5.4)");
        if (!string.Equals(session.PolicyUri, channel.Security.PolicyUri, StringComparison.Ordinal))
            throw new UaException(StatusCodes.BadSecurityPolicyRejected, "A session is re-activated only on a channel with its own security policy");
        var rsa = channel.Security as UaRsaChannelSecurity;
        byte[] nonce;
        lock (session.Gate)
            nonce = session.ServerNonce;
        if (rsa is not null)
        {
            // ClientSignature over ServerCertificate + the last ServerNonce, with the channel's client certificate (OPC 10000-4 §5.6.3.2).
            if (session.ClientCertificate is null || !UaCertificates.LeafOf(session.ClientCertificate).AsSpan().SequenceEqual(rsa.RemoteCertificate!.RawData))
                throw new UaException(StatusCodes.BadApplicationSignatureInvalid, "The session was created with another client certificate");
            if (!rsa.VerifyData(request.ClientSignature, [.. _options.Certificate!.RawData, .. nonce]))
                throw new UaException(StatusCodes.BadApplicationSignatureInvalid, "The client's ActivateSession signature does not verify (OPC 10000-4 §5.6.3)");
        }

        string? user;
        switch (request.UserIdentityToken?.Body)
        {
            case null when _options.AllowAnonymous:
            case AnonymousIdentityToken when _options.AllowAnonymous:
                user = null;
                break;
            case UserNameIdentityToken token when _options.ValidateUser is not null && IsUserPolicy(token.PolicyId, rsa):
                var password = rsa is null ? ClearPassword(token) : DecryptPassword(token, rsa.Policy, nonce);
                if (!_options.ValidateUser(token.UserName ?? "", password))
                    throw new UaException(StatusCodes.BadUserAccessDenied, "User name or password rejected");
                user = token.UserName;
                break;
            default:
                throw new UaException(StatusCodes.BadIdentityTokenInvalid, "Identity token type not accepted (OPC 10000-4 §5.6.3)");
        }

        var next = RandomNumberGenerator.GetBytes(32);
        lock (session.Gate)
        {
            // Re-activation on a new channel (after a reconnect) must come from the same user (OPC 10000-4 §5.6.3.1).
            if (session.Activated && session.UserName != user)
                throw new UaException(StatusCodes.BadIdentityChangeNotSupported, "A re-activated session must keep its user");
            session.UserName = user;
            session.Channel = channel;
            session.Activated = true;
            session.ServerNonce = next;
            session.Touch();
        }

        return new ActivateSessionResponse { ResponseHeader = Header(request), ServerNonce = next, Results = [] };
    }

    private static bool IsUserPolicy(string? policyId, UaRsaChannelSecurity? rsa) =>
        string.Equals(policyId, rsa is null ? "username" : "username-" + rsa.Policy.Name, StringComparison.Ordinal);

    private static string ClearPassword(UserNameIdentityToken token)
    {
        if (token.EncryptionAlgorithm is { Length: > 0 })
            throw new UaException(StatusCodes.BadIdentityTokenInvalid, "The None endpoint's user token policy takes the password in clear (OPC 10000-4 §7.41.4)");
        return System.Text.Encoding.UTF8.GetString(token.Password ?? []);
    }

    /// <summary>
    /// Decrypts a UserNameIdentityToken password (OPC 10000-4 §7.41.2.2, legacy format): RSA-OAEP with our key, then
    /// UInt32 length | password | the server nonce last sent to this session.
    /// </summary>
    private string DecryptPassword(UserNameIdentityToken token, UaSecurityPolicy policy, byte[] nonce)
    {
        if (!string.Equals(token.EncryptionAlgorithm, policy.AsymmetricEncryptionUri, StringComparison.Ordinal))
            throw new UaException(StatusCodes.BadIdentityTokenInvalid, $"The password must be encrypted with {policy.AsymmetricEncryptionUri} (OPC 10000-4 §7.41.2.2)");
        using var key = _options.Certificate!.GetRSAPrivateKey()!;
        byte[] plain;
        try
        {
            plain = UaCrypto.RsaDecrypt(policy.AsymmetricEncryption, key, token.Password ?? []);
        }
        catch (UaException ex)
        {
            throw new UaException(StatusCodes.BadIdentityTokenInvalid, "The encrypted password does not decrypt", ex);
        }

        try
        {
            if (plain.Length < 4)
                throw new UaException(StatusCodes.BadIdentityTokenInvalid, "The encrypted password is too short");
            var length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(plain);
            if (length > plain.Length - 4 || length < nonce.Length)
                throw new UaException(StatusCodes.BadIdentityTokenInvalid, "The encrypted password has a wrong length field");
            var secret = plain.AsSpan(4, (int)length);
            if (!CryptographicOperations.FixedTimeEquals(secret[^nonce.Length..], nonce))
                throw new UaException(StatusCodes.BadIdentityTokenInvalid, "The encrypted password does not end with the server nonce (replayed token?)");
            return System.Text.Encoding.UTF8.GetString(secret[..^nonce.Length]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    private void RemoveSession(UaServerSession session, bool deleteSubscriptions)
    {
        if (!_sessions.TryRemove(session.AuthenticationToken, out _))
            return;
        foreach (var subscription in _subscriptions.Values.Where(s => s.Session == session).ToArray())
        {
            if (deleteSubscriptions)
                DeleteSubscription(subscription);
        }

        List<PendingPublish> parked;
        lock (session.Gate)
            parked = session.DrainPublishes();
        foreach (var p in parked)
            _ = SendQuietlyAsync(p.Channel, p.RequestId, new PublishResponse { ResponseHeader = new ResponseHeader { RequestHandle = p.Request.RequestHeader.RequestHandle, ServiceResult = StatusCodes.BadSessionClosed, Timestamp = DateTime.UtcNow } });
    }

    private static async Task SendQuietlyAsync(UaServerChannel channel, uint requestId, UaResponse response)
    {
        try
        {
            await channel.SendResponseAsync(requestId, response);
        }
        catch (UaException)
        {
            // The channel is gone; the client will re-publish after reconnecting.
        }
        catch (OperationCanceledException)
        {
        }
    }

    // ---- Attribute services (OPC 10000-4 §5.11) ----

    private ReadResponse Read(ReadRequest request)
    {
        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
            throw new UaException(StatusCodes.BadTimestampsToReturnInvalid, "Invalid TimestampsToReturn");
        if (request.MaxAge < 0)
            throw new UaException(StatusCodes.BadMaxAgeInvalid, "Negative MaxAge");
        var nodes = request.NodesToRead ?? [];
        if (nodes.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "Nothing to read");
        return new ReadResponse { ResponseHeader = Header(request), Results = nodes.Select(n => ReadAttribute(n, request.TimestampsToReturn)).ToArray() };
    }

    private DataValue ReadAttribute(ReadValueId id, TimestampsToReturn timestamps)
    {
        if (!AddressSpace.TryGetNode(id.NodeId, out var node))
            return new DataValue { Status = StatusCodes.BadNodeIdUnknown };
        if (!string.IsNullOrEmpty(id.IndexRange))
            return new DataValue { Status = StatusCodes.BadIndexRangeInvalid };
        var variable = node as UaVariableNode;
        if (id.AttributeId == Attributes.Value && variable is not null)
            return ApplyTimestamps(variable.Value, timestamps);
        Variant? value = id.AttributeId switch
        {
            Attributes.NodeId => new Variant(node!.NodeId),
            Attributes.NodeClass => new Variant((int)node!.NodeClass),
            Attributes.BrowseName => new Variant(node!.BrowseName),
            Attributes.DisplayName => new Variant(node!.DisplayName),
            Attributes.Description => new Variant(node!.Description ?? LocalizedText.Null),
            Attributes.WriteMask or Attributes.UserWriteMask => new Variant(0u),
            Attributes.EventNotifier when node is UaObjectNode o => new Variant(BuiltInType.Byte, o.EventNotifier),
            Attributes.DataType when variable is not null => new Variant(variable.DataType),
            Attributes.ValueRank when variable is not null => new Variant(variable.ValueRank),
            Attributes.ArrayDimensions when variable is not null => variable.ValueRank > 0 ? new Variant(new uint[] { 0 }) : Variant.Null,
            Attributes.AccessLevel or Attributes.UserAccessLevel when variable is not null => new Variant(BuiltInType.Byte, variable.AccessLevel),
            Attributes.MinimumSamplingInterval when variable is not null => new Variant(variable.MinimumSamplingInterval),
            Attributes.Historizing when variable is not null => new Variant(false),
            _ => null,
        };
        return value is null ? new DataValue { Status = StatusCodes.BadAttributeIdInvalid } : new DataValue(value.Value);
    }

    private static DataValue ApplyTimestamps(DataValue value, TimestampsToReturn timestamps) => timestamps switch
    {
        TimestampsToReturn.Source => value with { ServerTimestamp = null, ServerPicoseconds = 0 },
        TimestampsToReturn.Server => value with { SourceTimestamp = null, SourcePicoseconds = 0, ServerTimestamp = DateTime.UtcNow },
        TimestampsToReturn.Neither => value with { SourceTimestamp = null, ServerTimestamp = null, SourcePicoseconds = 0, ServerPicoseconds = 0 },
        _ => value with { ServerTimestamp = DateTime.UtcNow },
    };

    private WriteResponse Write(WriteRequest request)
    {
        var nodes = request.NodesToWrite ?? [];
        if (nodes.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "Nothing to write");
        return new WriteResponse { ResponseHeader = Header(request), Results = nodes.Select(WriteAttribute).ToArray() };
    }

    private StatusCode WriteAttribute(WriteValue write)
    {
        if (!AddressSpace.TryGetNode(write.NodeId, out var node))
            return StatusCodes.BadNodeIdUnknown;
        if (write.AttributeId != Attributes.Value)
            return node is UaVariableNode || write.AttributeId <= Attributes.UserExecutable ? StatusCodes.BadNotWritable : StatusCodes.BadAttributeIdInvalid;
        if (node is not UaVariableNode { Writable: true } variable)
            return StatusCodes.BadNotWritable;
        if (!string.IsNullOrEmpty(write.IndexRange))
            return StatusCodes.BadIndexRangeInvalid;
        var value = write.Value.Value;
        var expected = variable.DataType.NamespaceIndex == 0 && variable.DataType.IdType == IdType.Numeric && variable.DataType.NumericId is >= 1 and <= 25
            ? (BuiltInType)variable.DataType.NumericId
            : BuiltInType.Variant;
        if (expected != BuiltInType.Variant && (value.Type != expected || value.IsArray != variable.ValueRank > 0))
            return StatusCodes.BadTypeMismatch;
        var verdict = variable.OnWrite?.Invoke(value) ?? StatusCodes.Good;
        if (verdict.IsBad)
            return verdict;
        variable.SetValue(value, write.Value.Status, write.Value.SourceTimestamp);
        return StatusCodes.Good;
    }

    // ---- View services (OPC 10000-4 §5.9) ----

    private BrowseResponse Browse(UaServerSession session, BrowseRequest request)
    {
        var nodes = request.NodesToBrowse ?? [];
        if (nodes.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "Nothing to browse");
        var results = nodes.Select(d =>
        {
            if (d.BrowseDirection is < BrowseDirection.Forward or > BrowseDirection.Both)
                return new BrowseResult { StatusCode = StatusCodes.BadBrowseDirectionInvalid };
            if (!AddressSpace.TryGetNode(d.NodeId, out var node))
                return new BrowseResult { StatusCode = StatusCodes.BadNodeIdUnknown };
            var references = node!.References
                .Where(r => d.BrowseDirection == BrowseDirection.Both || r.IsForward == (d.BrowseDirection == BrowseDirection.Forward))
                .Where(r => d.ReferenceTypeId.IsNull || UaAddressSpace.IsReferenceOf(r.ReferenceTypeId, d.ReferenceTypeId, d.IncludeSubtypes))
                .Select(Describe)
                .Where(r => d.NodeClassMask == 0 || ((uint)r.NodeClass & d.NodeClassMask) != 0)
                .ToArray();
            return Page(session, references, request.RequestedMaxReferencesPerNode);
        }).ToArray();
        return new BrowseResponse { ResponseHeader = Header(request), Results = results };
    }

    private ReferenceDescription Describe(UaReference reference)
    {
        AddressSpace.TryGetNode(reference.TargetId, out var target);
        return new ReferenceDescription
        {
            ReferenceTypeId = reference.ReferenceTypeId,
            IsForward = reference.IsForward,
            NodeId = reference.TargetId,
            BrowseName = target?.BrowseName ?? QualifiedName.Null,
            DisplayName = target?.DisplayName ?? LocalizedText.Null,
            NodeClass = target?.NodeClass ?? NodeClass.Unspecified,
            TypeDefinition = target?.TypeDefinition is { } type ? type : ExpandedNodeId.Null,
        };
    }

    private static BrowseResult Page(UaServerSession session, ReferenceDescription[] references, uint max)
    {
        if (max == 0 || references.Length <= max)
            return new BrowseResult { References = references };
        lock (session.Gate)
        {
            if (session.ContinuationPoints.Count >= 10)
                return new BrowseResult { StatusCode = StatusCodes.BadNoContinuationPoints };
            var point = RandomNumberGenerator.GetBytes(16);
            session.ContinuationPoints[Convert.ToHexString(point)] = references[(int)max..];
            return new BrowseResult { References = references[..(int)max], ContinuationPoint = point };
        }
    }

    private BrowseNextResponse BrowseNext(UaServerSession session, BrowseNextRequest request)
    {
        var points = request.ContinuationPoints ?? [];
        if (points.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No continuation points");
        var results = points.Select(p =>
        {
            ReferenceDescription[]? rest;
            lock (session.Gate)
            {
                var key = Convert.ToHexString(p ?? []);
                if (!session.ContinuationPoints.Remove(key, out rest))
                    return new BrowseResult { StatusCode = StatusCodes.BadContinuationPointInvalid };
            }

            return request.ReleaseContinuationPoints ? new BrowseResult() : Page(session, rest, 2);
        }).ToArray();
        return new BrowseNextResponse { ResponseHeader = Header(request), Results = results };
    }

    private TranslateBrowsePathsToNodeIdsResponse Translate(TranslateBrowsePathsToNodeIdsRequest request)
    {
        var paths = request.BrowsePaths ?? [];
        if (paths.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No browse paths");
        var results = paths.Select(path =>
        {
            if (!AddressSpace.TryGetNode(path.StartingNode, out _))
                return new BrowsePathResult { StatusCode = StatusCodes.BadNodeIdUnknown };
            var elements = path.RelativePath.Elements ?? [];
            if (elements.Length == 0)
                return new BrowsePathResult { StatusCode = StatusCodes.BadNothingToDo };
            var current = new List<NodeId> { path.StartingNode };
            foreach (var element in elements)
            {
                if (element.TargetName.Name is null or "")
                    return new BrowsePathResult { StatusCode = StatusCodes.BadBrowseNameInvalid };
                current = current
                    .SelectMany(id => AddressSpace.TryGetNode(id, out var n) ? n!.References : [])
                    .Where(r => r.IsForward != element.IsInverse)
                    .Where(r => element.ReferenceTypeId.IsNull || UaAddressSpace.IsReferenceOf(r.ReferenceTypeId, element.ReferenceTypeId, element.IncludeSubtypes))
                    .Where(r => AddressSpace.TryGetNode(r.TargetId, out var t) && t!.BrowseName == element.TargetName)
                    .Select(r => r.TargetId)
                    .Distinct()
                    .ToList();
                if (current.Count == 0)
                    return new BrowsePathResult { StatusCode = StatusCodes.BadNoMatch };
            }

            return new BrowsePathResult { Targets = current.Select(t => new BrowsePathTarget { TargetId = t, RemainingPathIndex = uint.MaxValue }).ToArray() };
        }).ToArray();
        return new TranslateBrowsePathsToNodeIdsResponse { ResponseHeader = Header(request), Results = results };
    }

    // ---- Subscription services (OPC 10000-4 §5.12, §5.13) ----

    private UaServerSubscription GetSubscription(UaServerSession session, uint id) =>
        _subscriptions.TryGetValue(id, out var s) && s.Session == session
            ? s
            : throw new UaException(StatusCodes.BadSubscriptionIdInvalid, $"Subscription {id} is not in this session");

    private void Revise(UaServerSubscription s, double interval, uint keepAlive, uint lifetime, uint maxNotifications)
    {
        s.PublishingInterval = Math.Clamp(double.IsNaN(interval) ? 0 : interval, _options.MinPublishingInterval.TotalMilliseconds, 3_600_000);
        s.MaxKeepAliveCount = Math.Clamp(keepAlive, 1u, 10_000u);

        // The lifetime must be at least three keep-alive periods (OPC 10000-4 §5.13.2.2).
        s.LifetimeCount = Math.Max(lifetime, s.MaxKeepAliveCount * 3);
        s.MaxNotificationsPerPublish = maxNotifications;
    }

    private CreateSubscriptionResponse CreateSubscription(UaServerSession session, CreateSubscriptionRequest request)
    {
        var subscription = new UaServerSubscription((uint)Interlocked.Increment(ref _nextSubscriptionId), session)
        {
            PublishingEnabled = request.PublishingEnabled,
        };
        Revise(subscription, request.RequestedPublishingInterval, request.RequestedMaxKeepAliveCount, request.RequestedLifetimeCount, request.MaxNotificationsPerPublish);
        _subscriptions[subscription.Id] = subscription;
        _ = RunSubscriptionAsync(subscription);
        return new CreateSubscriptionResponse
        {
            ResponseHeader = Header(request),
            SubscriptionId = subscription.Id,
            RevisedPublishingInterval = subscription.PublishingInterval,
            RevisedLifetimeCount = subscription.LifetimeCount,
            RevisedMaxKeepAliveCount = subscription.MaxKeepAliveCount,
        };
    }

    private async Task RunSubscriptionAsync(UaServerSubscription subscription)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(subscription.PublishingInterval));
        try
        {
            while (await timer.WaitForNextTickAsync(subscription.Stop.Token))
            {
                var period = TimeSpan.FromMilliseconds(subscription.PublishingInterval);
                if (timer.Period != period)
                    timer.Period = period;
                (PendingPublish Publish, PublishResponse Response)? answer;
                bool expired;
                var session = subscription.Session;
                lock (session.Gate)
                {
                    answer = subscription.Tick();
                    expired = subscription.Expired;
                }

                if (answer is { } a)
                    await SendQuietlyAsync(a.Publish.Channel, a.Publish.RequestId, a.Response);
                if (expired)
                {
                    DeleteSubscription(subscription);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void DeleteSubscription(UaServerSubscription subscription)
    {
        if (!_subscriptions.TryRemove(subscription.Id, out _))
            return;
        subscription.Stop.Cancel();
        var session = subscription.Session;
        List<PendingPublish> orphaned = [];
        lock (session.Gate)
        {
            foreach (var item in subscription.Items)
                Detach(item);

            // Parked Publish requests of a session without subscriptions are answered BadNoSubscription (OPC 10000-4 §5.13.5).
            if (!_subscriptions.Values.Any(s => s.Session == session))
                orphaned = session.DrainPublishes();
        }

        foreach (var p in orphaned)
            _ = SendQuietlyAsync(p.Channel, p.RequestId, new PublishResponse { ResponseHeader = Header(p.Request, StatusCodes.BadNoSubscription), Results = p.AckResults });
    }

    private ModifySubscriptionResponse ModifySubscription(UaServerSession session, ModifySubscriptionRequest request)
    {
        var subscription = GetSubscription(session, request.SubscriptionId);
        lock (session.Gate)
        {
            Revise(subscription, request.RequestedPublishingInterval, request.RequestedMaxKeepAliveCount, request.RequestedLifetimeCount, request.MaxNotificationsPerPublish);
            subscription.ResetLifetime();
        }

        return new ModifySubscriptionResponse
        {
            ResponseHeader = Header(request),
            RevisedPublishingInterval = subscription.PublishingInterval,
            RevisedLifetimeCount = subscription.LifetimeCount,
            RevisedMaxKeepAliveCount = subscription.MaxKeepAliveCount,
        };
    }

    private SetPublishingModeResponse SetPublishingMode(UaServerSession session, SetPublishingModeRequest request)
    {
        var results = (request.SubscriptionIds ?? []).Select(id =>
        {
            if (!_subscriptions.TryGetValue(id, out var s) || s.Session != session)
                return StatusCodes.BadSubscriptionIdInvalid;
            lock (session.Gate)
                s.PublishingEnabled = request.PublishingEnabled;
            return StatusCodes.Good;
        }).ToArray();
        return new SetPublishingModeResponse { ResponseHeader = Header(request), Results = results };
    }

    private DeleteSubscriptionsResponse DeleteSubscriptions(UaServerSession session, DeleteSubscriptionsRequest request)
    {
        var ids = request.SubscriptionIds ?? [];
        if (ids.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No subscriptions");
        var results = ids.Select(id =>
        {
            if (!_subscriptions.TryGetValue(id, out var s) || s.Session != session)
                return StatusCodes.BadSubscriptionIdInvalid;
            DeleteSubscription(s);
            return StatusCodes.Good;
        }).ToArray();
        return new DeleteSubscriptionsResponse { ResponseHeader = Header(request), Results = results };
    }

    private CreateMonitoredItemsResponse CreateMonitoredItems(UaServerSession session, CreateMonitoredItemsRequest request)
    {
        var subscription = GetSubscription(session, request.SubscriptionId);
        var items = request.ItemsToCreate ?? [];
        if (items.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No items");
        if (request.TimestampsToReturn is < TimestampsToReturn.Source or > TimestampsToReturn.Neither)
            throw new UaException(StatusCodes.BadTimestampsToReturnInvalid, "Invalid TimestampsToReturn");
        var results = new MonitoredItemCreateResult[items.Length];
        for (var i = 0; i < items.Length; i++)
            results[i] = CreateItem(subscription, items[i], request.TimestampsToReturn);
        return new CreateMonitoredItemsResponse { ResponseHeader = Header(request), Results = results };
    }

    private MonitoredItemCreateResult CreateItem(UaServerSubscription subscription, MonitoredItemCreateRequest request, TimestampsToReturn timestamps)
    {
        var target = request.ItemToMonitor;
        if (!AddressSpace.TryGetNode(target.NodeId, out var node))
            return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadNodeIdUnknown };
        if (target.AttributeId is 0 or > Attributes.UserExecutable)
            return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadAttributeIdInvalid };
        var variable = node as UaVariableNode;
        if (target.AttributeId == Attributes.Value && variable is null)
            return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadAttributeIdInvalid };
        if (request.MonitoringMode is < MonitoringMode.Disabled or > MonitoringMode.Reporting)
            return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadMonitoringModeInvalid };
        DataChangeFilter? filter = null;
        var parameters = request.RequestedParameters;
        if (parameters.Filter is not null)
        {
            if (parameters.Filter.Body is not DataChangeFilter dataChange || target.AttributeId != Attributes.Value)
                return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadMonitoredItemFilterUnsupported };
            if (dataChange.DeadbandType > 2 || dataChange.DeadbandValue < 0)
                return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadDeadbandFilterInvalid };
            if (dataChange.DeadbandType != 0 && variable!.Value.Value.AsDouble() is null)
                return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadFilterNotAllowed };
            if (dataChange.DeadbandType == (uint)DeadbandType.Percent && variable!.EuRange is null)
                return new MonitoredItemCreateResult { StatusCode = StatusCodes.BadMonitoredItemFilterUnsupported };
            filter = dataChange;
        }

        var sampling = parameters.SamplingInterval < 0 ? subscription.PublishingInterval : Math.Max(parameters.SamplingInterval, variable?.MinimumSamplingInterval ?? 0);
        var item = new UaServerMonitoredItem((uint)Interlocked.Increment(ref _nextMonitoredItemId), variable, target, parameters, timestamps, filter, sampling)
        {
            Mode = request.MonitoringMode,
        };
        lock (subscription.Session.Gate)
        {
            subscription.Add(item);

            // The first notification carries the current value (OPC 10000-4 §5.12.1.2).
            item.Offer(Initial(item, node!), force: true);
            if (variable is not null && target.AttributeId == Attributes.Value && variable.Getter is null)
                Attach(subscription, item, variable);
        }

        return new MonitoredItemCreateResult { StatusCode = StatusCodes.Good, MonitoredItemId = item.Id, RevisedSamplingInterval = sampling, RevisedQueueSize = item.QueueSize };
    }

    private DataValue Initial(UaServerMonitoredItem item, UaNode node) =>
        item.ItemToMonitor.AttributeId == Attributes.Value && node is UaVariableNode v
            ? ApplyTimestamps(v.Value, item.Timestamps)
            : ReadAttribute(item.ItemToMonitor, item.Timestamps);

    private readonly ConcurrentDictionary<UaServerMonitoredItem, Action<UaVariableNode, DataValue>> _handlers = new();

    private void Attach(UaServerSubscription subscription, UaServerMonitoredItem item, UaVariableNode variable)
    {
        void OnChange(UaVariableNode _, DataValue value)
        {
            lock (subscription.Session.Gate)
                item.Offer(ApplyTimestamps(value, item.Timestamps));
        }

        _handlers[item] = OnChange;
        variable.ValueChanged += OnChange;
    }

    private void Detach(UaServerMonitoredItem item)
    {
        if (item.Node is not null && _handlers.TryRemove(item, out var handler))
            item.Node.ValueChanged -= handler;
    }

    private DeleteMonitoredItemsResponse DeleteMonitoredItems(UaServerSession session, DeleteMonitoredItemsRequest request)
    {
        var subscription = GetSubscription(session, request.SubscriptionId);
        var ids = request.MonitoredItemIds ?? [];
        if (ids.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No items");
        var results = ids.Select(id =>
        {
            lock (session.Gate)
            {
                if (!subscription.Remove(id, out var item))
                    return StatusCodes.BadMonitoredItemIdInvalid;
                Detach(item!);
                return StatusCodes.Good;
            }
        }).ToArray();
        return new DeleteMonitoredItemsResponse { ResponseHeader = Header(request), Results = results };
    }

    private async Task PublishAsync(UaServerSession session, UaServerChannel channel, uint requestId, PublishRequest request)
    {
        var mine = _subscriptions.Values.Where(s => s.Session == session).ToArray();
        var sends = new List<(UaServerChannel Channel, uint RequestId, UaResponse Response)>();
        lock (session.Gate)
        {
            var acks = request.SubscriptionAcknowledgements ?? [];
            var ackResults = acks.Select(a =>
            {
                var s = mine.FirstOrDefault(x => x.Id == a.SubscriptionId);
                if (s is null)
                    return StatusCodes.BadSubscriptionIdInvalid;
                return s.Acknowledge(a.SequenceNumber) ? StatusCodes.Good : StatusCodes.BadSequenceNumberUnknown;
            }).ToArray();
            if (mine.Length == 0)
            {
                sends.Add((channel, requestId, new PublishResponse { ResponseHeader = Header(request, StatusCodes.BadNoSubscription), Results = ackResults }));
            }
            else
            {
                session.EnqueuePublish(new PendingPublish(channel, requestId, request, ackResults, DateTime.UtcNow));
                while (session.PendingPublishCount > _options.MaxPublishRequestsPerSession && session.TryDequeuePublish(out var oldest))
                    sends.Add((oldest.Channel, oldest.RequestId, new PublishResponse { ResponseHeader = Header(oldest.Request, StatusCodes.BadTooManyPublishRequests) }));
                foreach (var s in mine)
                {
                    if (s.TryPublishLate() is { } late)
                    {
                        sends.Add((late.Publish.Channel, late.Publish.RequestId, late.Response));
                        break;
                    }
                }
            }
        }

        foreach (var (c, id, response) in sends)
            await SendQuietlyAsync(c, id, response);
    }

    private RepublishResponse Republish(UaServerSession session, RepublishRequest request)
    {
        var subscription = GetSubscription(session, request.SubscriptionId);
        NotificationMessage? message;
        lock (session.Gate)
            message = subscription.Find(request.RetransmitSequenceNumber);
        return message is null
            ? throw new UaException(StatusCodes.BadMessageNotAvailable, $"Sequence number {request.RetransmitSequenceNumber} is not available")
            : new RepublishResponse { ResponseHeader = Header(request), NotificationMessage = message };
    }

    private TransferSubscriptionsResponse TransferSubscriptions(UaServerSession session, TransferSubscriptionsRequest request)
    {
        var ids = request.SubscriptionIds ?? [];
        if (ids.Length == 0)
            throw new UaException(StatusCodes.BadNothingToDo, "No subscriptions");
        var results = ids.Select(id =>
        {
            if (!_subscriptions.TryGetValue(id, out var s))
                return new TransferResult { StatusCode = StatusCodes.BadSubscriptionIdInvalid };
            var old = s.Session;
            if (old.UserName != session.UserName)
                return new TransferResult { StatusCode = StatusCodes.BadUserAccessDenied };

            // Move the subscription; take both gates in a fixed order to avoid deadlocks.
            var first = string.CompareOrdinal(old.SessionId.ToString(), session.SessionId.ToString()) < 0 ? old : session;
            var second = ReferenceEquals(first, old) ? session : old;
            lock (first.Gate)
            {
                lock (second.Gate)
                {
                    s.Session = session;
                    s.ResetLifetime();
                    if (request.SendInitialValues)
                    {
                        foreach (var item in s.Items)
                        {
                            if (item.Node is not null)
                                item.Offer(ApplyTimestamps(item.Node.Value, item.Timestamps), force: true);
                        }
                    }

                    return new TransferResult { StatusCode = StatusCodes.Good, AvailableSequenceNumbers = s.AvailableSequenceNumbers };
                }
            }
        }).ToArray();
        return new TransferSubscriptionsResponse { ResponseHeader = Header(request), Results = results };
    }

    /// <summary>
    /// Drops every TCP connection without closing sessions or subscriptions, as a network fault would
    /// (simulators and recovery tests); clients may re-activate their sessions on new channels.
    /// </summary>
    public void DropConnections()
    {
        foreach (var channel in _channels.Keys.ToArray())
            channel.Break(new UaException(StatusCodes.BadCommunicationError, "Connection dropped by the server"));
    }

    /// <summary>
    /// Closes every session but keeps its subscriptions, as CloseSession with DeleteSubscriptions=false would
    /// (OPC 10000-4 §5.6.4); clients can take them over with TransferSubscriptions. For simulators and tests.
    /// </summary>
    public void CloseSessionsKeepingSubscriptions()
    {
        foreach (var session in _sessions.Values.ToArray())
            RemoveSession(session, deleteSubscriptions: false);
    }

    /// <summary>
    /// Deletes every subscription but keeps the sessions, as a subscription whose lifetime ran out leaves its
    /// session (OPC 10000-4 §5.13.1.1). For simulators and tests.
    /// </summary>
    public void DeleteSubscriptionsKeepingSessions()
    {
        foreach (var subscription in _subscriptions.Values.ToArray())
            DeleteSubscription(subscription);
    }

    /// <summary>Stops listening, closes every connection and subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync();
        _listener?.Stop();
        foreach (var s in _subscriptions.Values.ToArray())
            DeleteSubscription(s);
        foreach (var channel in _channels.Keys.ToArray())
            channel.Break(new UaException(StatusCodes.BadServerHalted, "Server stopped"));
        var tasks = _channels.Values.Append(_acceptLoop ?? Task.CompletedTask).Append(_janitor ?? Task.CompletedTask).ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
    }
}
