using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using EdgeCollector.OpcUa.Channel;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Security;

namespace EdgeCollector.OpcUa.Client;

/// <summary>
/// An OPC UA client session over opc.tcp: connect to an endpoint URL, resolve NodeIds (including
/// <c>nsu=</c>), Read, Write, Browse, TranslateBrowsePaths and Subscribe with a callback. When the connection
/// breaks it reconnects in the background, re-activates or recreates the session, transfers or recreates
/// subscriptions and flags the gap on the next value of every monitored item (<see cref="UaDataChange.AfterGap"/>).
/// A watchdog breaks the connection when a subscription stops delivering data or keep-alives.
/// </summary>
public sealed class UaClient : IAsyncDisposable
{
    private readonly UaClientOptions _options;
    private readonly CancellationTokenSource _disposed = new();
    private readonly SemaphoreSlim _subscriptionSignal = new(0, int.MaxValue);
    private readonly ConcurrentDictionary<uint, UaSubscription> _byServerId = new();
    private readonly List<UaSubscription> _subscriptions = [];
    private readonly ConcurrentQueue<SubscriptionAcknowledgement> _acks = new();
    // Publish responses in wire order for DispatchNotificationsAsync. Synchronous continuations: when the dispatcher
    // is idle, the receive loop that writes a response runs it on the spot (no thread-pool hop per response) up to
    // its first real await (a Republish), after which it continues on its own and later responses queue behind it.
    private readonly System.Threading.Channels.Channel<PublishResponse> _notifications =
        System.Threading.Channels.Channel.CreateUnbounded<PublishResponse>(new System.Threading.Channels.UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
    private readonly List<Task> _background = [];
    private readonly object _gate = new();
    private long _recreatedSubscriptions;
    private int _noSubscriptionReplies;
    private TaskCompletionSource<UaClientChannel> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private UaClientChannel? _channel;
    private NodeId _authenticationToken = NodeId.Null;
    private byte[]? _serverNonce;
    private byte[]? _serverCertificate;
    private string[] _namespaceArray = [UaUris.OpcUaNamespace];
    private DateTime _lastSessionActivity = DateTime.UtcNow;
    private long _rejectedNotifications;
    private string? _lastRejection;

    private UaClient(UaClientOptions options)
    {
        _options = options;
    }

    /// <summary>The endpoint URL.</summary>
    public string EndpointUrl => _options.EndpointUrl;

    /// <summary>The session id assigned by the server.</summary>
    public NodeId SessionId { get; private set; } = NodeId.Null;

    /// <summary>The endpoint the session runs on (from CreateSession / GetEndpoints).</summary>
    public EndpointDescription? Endpoint { get; private set; }

    /// <summary>The server's NamespaceArray as last read.</summary>
    public IReadOnlyList<string> NamespaceArray => Volatile.Read(ref _namespaceArray);

    /// <summary>True while a channel and session are usable.</summary>
    public bool IsConnected => _channel is { State: UaChannelState.Open } && _ready.Task.IsCompletedSuccessfully;

    /// <summary>Number of successful reconnects.</summary>
    public int ReconnectCount { get; private set; }

    /// <summary>Subscriptions found missing on a restored session (or left half-made by a failed recovery) and created again.</summary>
    public long RecreatedSubscriptionCount => Interlocked.Read(ref _recreatedSubscriptions);

    /// <summary>Raised when a reconnect attempt fails, with the delay before the next one (from a background thread).</summary>
    public event Action<UaClient, Exception, TimeSpan>? ReconnectFailed;

    /// <summary>Failures an operator has to fix (certificates and trust, security policy / mode, signatures, user identity).</summary>
    public static bool IsSecurityFailure(StatusCode status) =>
        status == StatusCodes.BadCertificateUntrusted || status == StatusCodes.BadCertificateTimeInvalid || status == StatusCodes.BadCertificateHostNameInvalid
        || status == StatusCodes.BadCertificateUriInvalid || status == StatusCodes.BadCertificateUseNotAllowed || status == StatusCodes.BadCertificateInvalid
        || status == StatusCodes.BadSecurityPolicyRejected || status == StatusCodes.BadSecurityModeRejected || status == StatusCodes.BadApplicationSignatureInvalid
        || status == StatusCodes.BadUserAccessDenied || status == StatusCodes.BadIdentityTokenRejected || status == StatusCodes.BadIdentityTokenInvalid;

    /// <summary>Publish and Republish responses refused as malformed (their notifications are republished or flagged as a gap).</summary>
    public long RejectedNotificationCount => Interlocked.Read(ref _rejectedNotifications);

    /// <summary>Why the last malformed Publish or Republish response was refused, if any.</summary>
    public string? LastRejection => Volatile.Read(ref _lastRejection);

    /// <summary>Raised (from a background thread) for each Publish or Republish response refused as malformed.</summary>
    public event Action<UaClient, UaDecodingException>? NotificationRejected;

    /// <summary>Raised on connection state changes (from a background thread).</summary>
    public event Action<UaClient, UaConnectionState>? ConnectionChanged;

    /// <summary>Connects, creates and activates a session, reads the NamespaceArray and starts the background loops.</summary>
    public static async Task<UaClient> ConnectAsync(UaClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var client = new UaClient(options);
        try
        {
            await client.EstablishAsync(reconnect: false, cancellationToken);
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }

        client._background.Add(client.SuperviseAsync());
        client._background.Add(client.WatchdogAsync());
        client._background.Add(client.DispatchNotificationsAsync());
        for (var i = 0; i < Math.Max(1, options.PublishRequestCount); i++)
            client._background.Add(client.PublishLoopAsync());
        return client;
    }

    /// <summary>Queries the endpoints of a server without creating a session (OPC 10000-4 §5.4.4).</summary>
    public static async Task<EndpointDescription[]> GetEndpointsAsync(string endpointUrl, UaClientChannelOptions? channelOptions = null, CancellationToken cancellationToken = default)
    {
        var channel = await UaClientChannel.ConnectAsync(endpointUrl, channelOptions, cancellationToken);
        try
        {
            var response = await channel.SendRequestAsync<GetEndpointsResponse>(
                new GetEndpointsRequest { EndpointUrl = endpointUrl, ProfileUris = [UaUris.UaTcpTransport] }, null, cancellationToken);
            return response.Endpoints ?? [];
        }
        finally
        {
            await channel.CloseAsync(CancellationToken.None);
        }
    }

    private async Task EstablishAsync(bool reconnect, CancellationToken cancellationToken)
    {
        var channel = await OpenChannelAsync(cancellationToken);

        // Several Publish requests are outstanding; their responses are queued in wire order and handled by one
        // dispatcher, so notifications reach the callback in sequence-number order (OPC 10000-4 §5.13.1).
        channel.ResponseObserver = message =>
        {
            if (message is PublishResponse { ResponseHeader.ServiceResult.IsBad: false } publish)
                _notifications.Writer.TryWrite(publish);
        };
        try
        {
            var restored = false;
            if (!SessionId.IsNull)
                restored = await TryActivateAsync(channel, cancellationToken);
            if (!restored)
            {
                await CreateSessionAsync(channel, cancellationToken);
                await ActivateAsync(channel, cancellationToken);
            }

            var previousNamespaces = NamespaceArray;
            await ReadNamespaceArrayAsync(channel, cancellationToken);
            if (!restored && _subscriptions.Count > 0)
                await RestoreSubscriptionsAsync(channel, previousNamespaces, cancellationToken);
            else if (restored && _subscriptions.Count > 0)
                await RecreateLostSubscriptionsAsync(channel, cancellationToken);
            lock (_gate)
            {
                _channel = channel;
                foreach (var s in _subscriptions)
                    s.Touch();
                _ready.TrySetResult(channel);
            }

            if (reconnect)
                ConnectionChanged?.Invoke(this, restored ? UaConnectionState.SessionRestored : UaConnectionState.SessionRecreated);
            else
                ConnectionChanged?.Invoke(this, UaConnectionState.Connected);
            _subscriptionSignal.Release(Math.Max(1, _options.PublishRequestCount));
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Opens the secure channel. With <see cref="UaClientOptions.Security"/>: discovery over a None channel
    /// (GetEndpoints, OPC 10000-4 §5.4.4), the endpoint with the configured policy and mode, the server certificate
    /// checked against the PKI store (trust, validity, host name, ApplicationUri, key usage), then the secure channel.
    /// </summary>
    private async Task<UaClientChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        var security = _options.Security;
        if (security is null)
            return await UaClientChannel.ConnectAsync(_options.EndpointUrl, _options.Channel, cancellationToken);
        if (security.Mode is not (MessageSecurityMode.Sign or MessageSecurityMode.SignAndEncrypt))
            throw new UaException(StatusCodes.BadSecurityModeRejected, $"Security mode {security.Mode} needs no certificates; leave UaClientOptions.Security null for None");
        var discovery = _options.Channel with { Security = static () => UaSecurityNone.Instance };
        var endpoints = await GetEndpointsAsync(_options.EndpointUrl, discovery, cancellationToken);
        var endpoint = endpoints.FirstOrDefault(e => e.SecurityMode == security.Mode && string.Equals(e.SecurityPolicyUri, security.Policy.Uri, StringComparison.Ordinal));
        if (endpoint is null)
        {
            var offered = string.Join(", ", endpoints.Select(e => $"{e.SecurityPolicyUri?.Split('#').Last()}/{e.SecurityMode}").Distinct(StringComparer.Ordinal));
            throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"{_options.EndpointUrl} offers no endpoint with {security.Policy.Name}/{security.Mode}; it offers {offered}");
        }

        if (endpoint.ServerCertificate is not { Length: > 0 } der)
            throw new UaException(StatusCodes.BadCertificateInvalid, $"The {security.Policy.Name} endpoint of {_options.EndpointUrl} carries no server certificate");
        var serverCertificate = UaCertificates.Load(der);
        var (host, _) = UaClientChannel.ParseEndpointUrl(_options.EndpointUrl);
        security.Store.Validate(serverCertificate, UaPeerRole.Server, endpoint.Server?.ApplicationUri, host);
        var options = _options.Channel with { Security = () => new UaRsaChannelSecurity(security.Policy, security.Mode, security.Certificate, serverCertificate) };
        return await UaClientChannel.ConnectAsync(_options.EndpointUrl, options, cancellationToken);
    }

    private async Task CreateSessionAsync(UaClientChannel channel, CancellationToken cancellationToken)
    {
        var rsa = channel.Security as UaRsaChannelSecurity;
        var clientNonce = RandomNumberGenerator.GetBytes(32);
        var request = new CreateSessionRequest
        {
            ClientDescription = new ApplicationDescription
            {
                ApplicationUri = _options.ApplicationUri,
                ProductUri = "urn:edgecollector",
                ApplicationName = new LocalizedText("en", _options.ApplicationName),
                ApplicationType = ApplicationType.Client,
            },
            EndpointUrl = _options.EndpointUrl,
            SessionName = _options.SessionName,
            ClientNonce = clientNonce,
            ClientCertificate = rsa?.LocalCertificate,
            RequestedSessionTimeout = _options.SessionTimeout.TotalMilliseconds,
            MaxResponseMessageSize = (uint)channel.Limits.MaxMessageSize,
        };
        var response = await channel.SendRequestAsync<CreateSessionResponse>(request, null, cancellationToken);
        if (rsa is not null)
        {
            // The server proves it holds the key of its certificate: ServerSignature over ClientCertificate + ClientNonce (OPC 10000-4 §5.6.2.2).
            if (response.ServerCertificate is not { Length: > 0 } sent || !UaCertificates.LeafOf(sent).AsSpan().SequenceEqual(rsa.RemoteCertificate!.RawData))
                throw new UaException(StatusCodes.BadCertificateInvalid, "CreateSession names another server certificate than the secure channel");
            if (!rsa.VerifyData(response.ServerSignature, [.. rsa.LocalCertificate!, .. clientNonce]))
                throw new UaException(StatusCodes.BadApplicationSignatureInvalid, "The server's CreateSession signature does not verify (OPC 10000-4 §5.6.2)");
            if (response.ServerNonce is not { Length: >= 32 })
                throw new UaException(StatusCodes.BadNonceInvalid, "CreateSession returned no 32-byte server nonce (OPC 10000-4 §5.6.2)");
        }

        _serverNonce = response.ServerNonce;
        _serverCertificate = response.ServerCertificate;
        SessionId = response.SessionId;
        _authenticationToken = response.AuthenticationToken;
        var endpoints = response.ServerEndpoints;
        if (endpoints is not { Length: > 0 })
        {
            endpoints = (await channel.SendRequestAsync<GetEndpointsResponse>(
                new GetEndpointsRequest { EndpointUrl = _options.EndpointUrl }, null, cancellationToken)).Endpoints ?? [];
        }

        Endpoint = endpoints.FirstOrDefault(e => e.SecurityMode == channel.Security.Mode
                && string.Equals(e.SecurityPolicyUri, channel.Security.PolicyUri, StringComparison.Ordinal))
            ?? throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"The server offers no endpoint with {channel.Security.PolicyUri} / {channel.Security.Mode}");
    }

    private async Task ActivateAsync(UaClientChannel channel, CancellationToken cancellationToken)
    {
        // The client proves it holds the key of its certificate: ClientSignature over ServerCertificate + the last ServerNonce (OPC 10000-4 §5.6.3.2).
        var rsa = channel.Security as UaRsaChannelSecurity;
        var signature = rsa is null ? new SignatureData() : rsa.SignData([.. _serverCertificate ?? rsa.RemoteCertificate!.RawData, .. _serverNonce ?? []]);
        var request = new ActivateSessionRequest
        {
            ClientSignature = signature,
            UserTokenSignature = new SignatureData(),
            LocaleIds = ["en"],
            UserIdentityToken = new ExtensionObject(CreateIdentityToken()),
        };
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        ActivateSessionResponse response;
        try
        {
            response = await channel.SendRequestAsync<ActivateSessionResponse>(request, null, cancellationToken);
        }
        catch (UaServiceException ex) when (_options.User is not null
            && (ex.Status == StatusCodes.BadUserAccessDenied || ex.Status == StatusCodes.BadIdentityTokenRejected || ex.Status == StatusCodes.BadIdentityTokenInvalid))
        {
            throw new UaServiceException(ex.Status, $"The server refused user '{_options.User.UserName}' (wrong user name or password, or a user token policy it does not accept)");
        }

        if (response.ServerNonce is { Length: > 0 } next)
            _serverNonce = next;
    }

    /// <summary>
    /// Builds the identity token (OPC 10000-4 §7.41). The password is encrypted with the asymmetric encryption algorithm of
    /// the user token policy's SecurityPolicy (the endpoint's when the token policy names none), also over a None channel
    /// when the server asks: plaintext = UInt32 length | password (UTF-8) | last server nonce, RSA-OAEP with the server
    /// certificate's key (§7.41.2.2, legacy format). It goes in clear only when the effective policy is None.
    /// </summary>
    private IUaEncodeable CreateIdentityToken()
    {
        var policies = Endpoint?.UserIdentityTokens ?? [];
        if (_options.User is null)
        {
            var anonymous = policies.FirstOrDefault(p => p.TokenType == UserTokenType.Anonymous);
            if (anonymous is null && policies.Length > 0)
                throw new UaException(StatusCodes.BadIdentityTokenRejected, "The endpoint does not allow anonymous users");
            return new AnonymousIdentityToken { PolicyId = anonymous?.PolicyId ?? "anonymous" };
        }

        UserTokenPolicy? policy = null;
        UaSecurityPolicy? tokenPolicy = null;
        UaException? refused = null;
        foreach (var candidate in policies.Where(p => p.TokenType == UserTokenType.UserName))
        {
            try
            {
                tokenPolicy = UaSecurityPolicy.Find(string.IsNullOrEmpty(candidate.SecurityPolicyUri) ? Endpoint!.SecurityPolicyUri : candidate.SecurityPolicyUri);
                policy = candidate;
                break;
            }
            catch (UaException ex)
            {
                refused = ex;
            }
        }

        if (policy is null)
        {
            throw refused is null
                ? new UaException(StatusCodes.BadIdentityTokenRejected, "The endpoint does not accept user name tokens")
                : new UaException(StatusCodes.BadIdentityTokenRejected, "No user name token policy of the endpoint can be used: " + refused.Message, refused);
        }

        var password = System.Text.Encoding.UTF8.GetBytes(_options.User.Password);
        if (tokenPolicy is null)
            return new UserNameIdentityToken { PolicyId = policy.PolicyId, UserName = _options.User.UserName, Password = password };

        var certificateBytes = Endpoint!.ServerCertificate is { Length: > 0 } fromEndpoint ? fromEndpoint : _serverCertificate;
        if (certificateBytes is not { Length: > 0 })
            throw new UaException(StatusCodes.BadCertificateInvalid, $"User token policy '{policy.PolicyId}' asks for {tokenPolicy.Name} but the server sent no certificate to encrypt with");
        if (_serverNonce is not { Length: >= 32 } nonce)
            throw new UaException(StatusCodes.BadNonceInvalid, "The server sent no nonce to encrypt the password with (OPC 10000-4 §7.41.2.2)");
        using var certificate = UaCertificates.Load(certificateBytes);
        using var key = certificate.GetRSAPublicKey() ?? throw new UaException(StatusCodes.BadCertificateInvalid, "The server certificate has no RSA key");
        var plain = new byte[4 + password.Length + nonce.Length];
        try
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(plain, (uint)(password.Length + nonce.Length));
            password.CopyTo(plain, 4);
            nonce.CopyTo(plain, 4 + password.Length);
            return new UserNameIdentityToken
            {
                PolicyId = policy.PolicyId,
                UserName = _options.User.UserName,
                Password = UaCrypto.RsaEncrypt(tokenPolicy.AsymmetricEncryption, key, plain, allowPartial: true),
                EncryptionAlgorithm = tokenPolicy.AsymmetricEncryptionUri,
            };
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
            CryptographicOperations.ZeroMemory(password);
        }
    }

    private async Task<bool> TryActivateAsync(UaClientChannel channel, CancellationToken cancellationToken)
    {
        try
        {
            // The session outlives the channel: ActivateSession on the new channel re-binds it (OPC 10000-4 §5.6.3).
            await ActivateAsync(channel, cancellationToken);
            return true;
        }
        catch (UaServiceException)
        {
            SessionId = NodeId.Null;
            _authenticationToken = NodeId.Null;
            return false;
        }
    }

    private async Task ReadNamespaceArrayAsync(UaClientChannel channel, CancellationToken cancellationToken)
    {
        var request = new ReadRequest
        {
            TimestampsToReturn = TimestampsToReturn.Neither,
            NodesToRead = [new ReadValueId { NodeId = WellKnownNodes.NamespaceArray, AttributeId = Attributes.Value }],
        };
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        var response = await channel.SendRequestAsync<ReadResponse>(request, null, cancellationToken);
        if (response.Results is [{ Value.Value: string?[] uris }, ..])
            Volatile.Write(ref _namespaceArray, uris.Select(u => u ?? "").ToArray());
    }

    private async Task RestoreSubscriptionsAsync(UaClientChannel channel, IReadOnlyList<string> previousNamespaces, CancellationToken cancellationToken)
    {
        // A restarted server may order its namespaces differently (a PLC after a firmware update): move every
        // NodeId to the index its namespace URI has now (domain-defaults.md "OPC UA").
        var current = NamespaceArray;
        NodeId Remap(NodeId id)
        {
            if (id.NamespaceIndex == 0 || id.NamespaceIndex >= previousNamespaces.Count)
                return id;
            var index = current.ToList().IndexOf(previousNamespaces[id.NamespaceIndex]);
            return index < 0 || index == id.NamespaceIndex ? id : ExpandedNodeId.WithNamespace(id, (ushort)index);
        }

        UaSubscription[] all;
        lock (_gate)
            all = _subscriptions.ToArray();

        // First try to move the subscriptions to the new session (OPC 10000-4 §5.13.7); after a server
        // restart this fails and they are recreated with their monitored items.
        var transferred = new HashSet<UaSubscription>();
        try
        {
            var request = new TransferSubscriptionsRequest { SubscriptionIds = all.Select(s => s.SubscriptionId).ToArray(), SendInitialValues = true };
            request.RequestHeader.AuthenticationToken = _authenticationToken;
            var response = await channel.SendRequestAsync<TransferSubscriptionsResponse>(request, null, cancellationToken);
            for (var i = 0; i < all.Length && i < (response.Results?.Length ?? 0); i++)
            {
                if (response.Results![i].StatusCode.IsGood)
                    transferred.Add(all[i]);
            }
        }
        catch (UaServiceException)
        {
            // BadNothingToDo / BadServiceUnsupported / BadSubscriptionIdInvalid: recreate all.
        }

        foreach (var s in all)
        {
            s.FlagGap(transferred.Contains(s) ? "session recreated, subscription transferred" : "session recreated, subscription recreated");
            if (transferred.Contains(s))
                continue;
            await RecreateAsync(channel, s, cancellationToken, Remap);
        }
    }

    /// <summary>
    /// Creates a subscription again with its monitored items, keeping its client handles. The items are kept
    /// until the server has them: a recovery that fails half way (a timeout between CreateSubscription and
    /// CreateMonitoredItems) retries with all of them, never with an empty subscription.
    /// </summary>
    private async Task RecreateAsync(UaClientChannel channel, UaSubscription s, CancellationToken cancellationToken, Func<NodeId, NodeId>? remap = null)
    {
        _byServerId.TryRemove(s.SubscriptionId, out _);
        var items = s.PendingRecreate ??= s.Items.Select(i => (i.ClientHandle, i.Request)).ToArray();
        s.ResetItems();
        s.ResetSequence();
        await CreateOnServerAsync(channel, s, items, cancellationToken, remap);
        s.PendingRecreate = null;
    }

    /// <summary>
    /// A session restored on a new channel may have lost subscriptions meanwhile: a subscription whose lifetime
    /// ran out while no Publish request reached the server, or one a recovery failed to finish. Without this check
    /// such a session delivers nothing, the watchdog breaks the channel, the session is restored again — a loop
    /// that never recovers. SetPublishingMode (OPC 10000-4 §5.13.4) answers per subscription; a missing one
    /// (Bad_SubscriptionIdInvalid) is created again and its gap flagged.
    /// </summary>
    private async Task RecreateLostSubscriptionsAsync(UaClientChannel channel, CancellationToken cancellationToken)
    {
        UaSubscription[] all;
        lock (_gate)
            all = _subscriptions.ToArray();
        var lost = all.Where(s => s.PendingRecreate is not null).ToList();
        var check = all.Where(s => s.PendingRecreate is null).ToArray();
        if (check.Length > 0)
        {
            var request = new SetPublishingModeRequest { PublishingEnabled = true, SubscriptionIds = check.Select(s => s.SubscriptionId).ToArray() };
            request.RequestHeader.AuthenticationToken = _authenticationToken;
            try
            {
                var response = await channel.SendRequestAsync<SetPublishingModeResponse>(request, null, cancellationToken);
                var results = response.Results ?? [];
                for (var i = 0; i < check.Length; i++)
                {
                    if (i >= results.Length || results[i] == StatusCodes.BadSubscriptionIdInvalid)
                        lost.Add(check[i]);
                }
            }
            catch (UaServiceException ex) when (ex.Status == StatusCodes.BadServiceUnsupported)
            {
                // A server without SetPublishingMode: the publish loop notices Bad_NoSubscription instead.
            }
        }

        foreach (var s in lost)
        {
            s.FlagGap("session restored without this subscription, subscription recreated");
            await RecreateAsync(channel, s, cancellationToken);
        }

        Interlocked.Add(ref _recreatedSubscriptions, lost.Count);
    }

    private async Task SuperviseAsync()
    {
        var stop = _disposed.Token;
        while (!stop.IsCancellationRequested)
        {
            var channel = _channel!;
            await Task.WhenAny(channel.Completion, Task.Delay(Timeout.Infinite, stop));
            if (stop.IsCancellationRequested || !_options.AutoReconnect)
                return;
            lock (_gate)
            {
                if (_ready.Task.IsCompleted)
                    _ready = new TaskCompletionSource<UaClientChannel>(TaskCreationOptions.RunContinuationsAsynchronously);
                foreach (var s in _subscriptions)
                    s.FlagGap("connection lost: " + (channel.BreakReason?.Message ?? "closed"));
            }

            ConnectionChanged?.Invoke(this, UaConnectionState.Reconnecting);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await EstablishAsync(reconnect: true, stop);
                    ReconnectCount++;
                    break;
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // A certificate, policy or user failure does not heal in half a second: wait longer (no retry storm).
                    var delay = ex is UaException ua && IsSecurityFailure(ua.Status) ? _options.SecurityRetryDelay : _options.ReconnectDelay;
                    ReconnectFailed?.Invoke(this, ex, delay);
                    await Task.Delay(delay, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    // A quarter of the shortest subscription watchdog timeout, between 250 ms and 1 s: a stall is noticed at most
    // 25 % late, without waking the client 4 times a second for subscriptions that publish once a second.
    private TimeSpan WatchdogPeriod()
    {
        var shortest = TimeSpan.FromSeconds(4);
        lock (_gate)
        {
            foreach (var s in _subscriptions)
            {
                if (s.WatchdogTimeout < shortest)
                    shortest = s.WatchdogTimeout;
            }
        }

        return TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(250).Ticks, shortest.Ticks / 4));
    }

    private async Task WatchdogAsync()
    {
        var stop = _disposed.Token;
        while (!stop.IsCancellationRequested)
        {
            await Task.Delay(WatchdogPeriod(), stop).ContinueWith(static _ => { }, TaskScheduler.Default);
            var channel = _channel;
            if (channel is not { State: UaChannelState.Open } || !_ready.Task.IsCompletedSuccessfully)
                continue;
            UaSubscription[] all;
            lock (_gate)
                all = _subscriptions.ToArray();
            if (all.Length == 0 && DateTime.UtcNow - _lastSessionActivity > _options.SessionTimeout / 3)
            {
                // Without subscriptions nothing keeps the session alive: read the server state now and then
                // (OPC 10000-4 §5.6.2); a failure here starts recovery.
                _lastSessionActivity = DateTime.UtcNow;
                try
                {
                    await ReadValueAsync(WellKnownNodes.ServerStatusState, stop);
                }
                catch (UaException ex) when (ex is not UaServiceException)
                {
                    channel.Break(ex);
                }
                catch (UaServiceException)
                {
                    // Session loss is already handled by CallAsync.
                }
                catch (OperationCanceledException)
                {
                }

                continue;
            }

            foreach (var s in all)
            {
                if (DateTime.UtcNow - s.LastMessageAt > s.WatchdogTimeout)
                {
                    // No data and no keep-alive for longer than the keep-alive period allows (OPC 10000-4 §5.13.1.1):
                    // treat the connection as dead and let the supervisor recover it.
                    channel.Break(new UaException(StatusCodes.BadTimeout, $"Subscription {s.SubscriptionId} delivered nothing for {s.WatchdogTimeout.TotalSeconds:F1} s"));
                    break;
                }
            }
        }
    }

    private async Task PublishLoopAsync()
    {
        var stop = _disposed.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (_subscriptions.Count == 0)
                {
                    await _subscriptionSignal.WaitAsync(stop);
                    continue;
                }

                var channel = await _ready.Task.WaitAsync(stop);
                SubscriptionAcknowledgement[]? acks = null;
                var count = 0;
                while (count < 100 && _acks.TryDequeue(out var ack))
                {
                    acks ??= new SubscriptionAcknowledgement[Math.Min(100, _acks.Count + 1)];
                    if (count == acks.Length)
                        Array.Resize(ref acks, Math.Min(100, acks.Length * 2));
                    acks[count++] = ack;
                }

                if (acks is not null && count != acks.Length)
                    Array.Resize(ref acks, count);
                var request = new PublishRequest { SubscriptionAcknowledgements = acks ?? [] };
                request.RequestHeader.AuthenticationToken = _authenticationToken;
                // The response itself is handled by DispatchNotificationsAsync (in wire order).
                await channel.SendRequestAsync<PublishResponse>(request, PublishTimeout(), stop);
                Volatile.Write(ref _noSubscriptionReplies, 0);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (UaServiceException ex) when (ex.Status == StatusCodes.BadNoSubscription)
            {
                // The server holds none of this session's subscriptions although the client has some (e.g. their
                // lifetime ran out). Three answers in a row (not a race with a subscription being created): break
                // the channel; the recovery restores the session and recreates what the server lost.
                if (Interlocked.Increment(ref _noSubscriptionReplies) >= 3 && _subscriptions.Count > 0 && _channel is { State: UaChannelState.Open } open)
                {
                    Interlocked.Exchange(ref _noSubscriptionReplies, 0);
                    open.Break(new UaException(StatusCodes.BadNoSubscription, "The server holds none of this session's subscriptions"));
                }

                await Task.Delay(200, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
            catch (UaServiceException ex) when (ex.Status == StatusCodes.BadTooManyPublishRequests)
            {
                await Task.Delay(200, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
            catch (UaDecodingException ex)
            {
                // A malformed Publish response: its notifications are lost for now; the next response shows the
                // sequence gap and Republish is tried (a gap is flagged if that fails too).
                CountRejected(ex);
            }
            catch (UaException)
            {
                // Channel broken or request timed out: wait for the supervisor (or retry on the same channel).
                await Task.Delay(100, stop).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    private TimeSpan PublishTimeout()
    {
        var longest = TimeSpan.Zero;
        lock (_gate)
        {
            foreach (var s in _subscriptions)
            {
                var t = s.WatchdogTimeout;
                if (t > longest)
                    longest = t;
            }
        }

        return (longest > TimeSpan.Zero ? longest : TimeSpan.FromSeconds(30)) * 2;
    }

    private void CountRejected(UaDecodingException ex)
    {
        Interlocked.Increment(ref _rejectedNotifications);
        Volatile.Write(ref _lastRejection, ex.Message);
        NotificationRejected?.Invoke(this, ex);
    }

    private async Task DispatchNotificationsAsync()
    {
        var stop = _disposed.Token;
        try
        {
            await foreach (var response in _notifications.Reader.ReadAllAsync(stop))
            {
                try
                {
                    if (_channel is { } channel)
                        await HandlePublishAsync(channel, response, stop);
                }
                catch (UaException)
                {
                    // Republish failed with the channel; the gap is flagged by the reconnect.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HandlePublishAsync(UaClientChannel channel, PublishResponse response, CancellationToken cancellationToken)
    {
        if (!_byServerId.TryGetValue(response.SubscriptionId, out var subscription))
            return;
        var message = response.NotificationMessage;
        var keepAlive = message.NotificationData is null or { Length: 0 };
        var sequence0 = message.SequenceNumber;
        var missing = subscription.Process(message, keepAlive);
        if (!keepAlive)
            _acks.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = response.SubscriptionId, SequenceNumber = sequence0 });
        if (missing.Count == 0)
            return;
        var lost = false;
        foreach (var sequence in missing)
        {
            try
            {
                // Ask for what we missed (OPC 10000-4 §5.13.6); delivered late but not lost.
                var request = new RepublishRequest { SubscriptionId = response.SubscriptionId, RetransmitSequenceNumber = sequence };
                request.RequestHeader.AuthenticationToken = _authenticationToken;
                var republished = await channel.SendRequestAsync<RepublishResponse>(request, null, cancellationToken);
                subscription.Deliver(republished.NotificationMessage);
                _acks.Enqueue(new SubscriptionAcknowledgement { SubscriptionId = response.SubscriptionId, SequenceNumber = sequence });
            }
            catch (UaServiceException)
            {
                lost = true;
            }
            catch (UaDecodingException ex)
            {
                CountRejected(ex);
                lost = true;
            }
        }

        if (lost)
            subscription.FlagGap("notifications lost (Republish failed)");
    }

    private async Task<UaClientChannel> ReadyChannelAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        Task<UaClientChannel> ready;
        lock (_gate)
            ready = _ready.Task;
        return await ready.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends any service request on the current session (the authentication token is filled in) and returns
    /// its response; waits for a reconnect in progress.
    /// </summary>
    public async Task<TResponse> CallAsync<TResponse>(UaRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TResponse : UaResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        var channel = await ReadyChannelAsync(cancellationToken);
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        try
        {
            var response = await channel.SendRequestAsync<TResponse>(request, timeout, cancellationToken);
            _lastSessionActivity = DateTime.UtcNow;
            return response;
        }
        catch (UaServiceException ex) when (IsSessionLost(ex.Status))
        {
            // The server dropped the session while the channel lives on: recover it like a lost connection.
            channel.Break(ex);
            throw;
        }
    }

    private static bool IsSessionLost(StatusCode status) =>
        status == StatusCodes.BadSessionIdInvalid || status == StatusCodes.BadSessionClosed || status == StatusCodes.BadSessionNotActivated;

    /// <summary>
    /// Parses a NodeId in text form and resolves <c>nsu=</c> through the server's NamespaceArray
    /// (re-read once if the URI is not known yet). <c>ns=3;s="DB_F1"."GasTotal"</c> keeps its quotes.
    /// </summary>
    public async Task<NodeId> ResolveNodeIdAsync(string text, CancellationToken cancellationToken = default)
    {
        var expanded = ExpandedNodeId.Parse(text);
        if (expanded.NamespaceUri is null)
            return expanded.NodeId;
        if (!NamespaceArray.Contains(expanded.NamespaceUri))
            await ReadNamespaceArrayAsync(await ReadyChannelAsync(cancellationToken), cancellationToken);
        return expanded.Resolve(NamespaceArray);
    }

    /// <summary>Reads attributes (OPC 10000-4 §5.11.2); one DataValue per node, in order.</summary>
    public async Task<DataValue[]> ReadAsync(IReadOnlyList<ReadValueId> nodes, TimestampsToReturn timestamps = TimestampsToReturn.Both, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var response = await CallAsync<ReadResponse>(new ReadRequest { TimestampsToReturn = timestamps, NodesToRead = nodes.ToArray() }, null, cancellationToken);
        var results = response.Results ?? [];
        if (results.Length != nodes.Count)
            throw new UaException(StatusCodes.BadUnknownResponse, $"Read returned {results.Length} results for {nodes.Count} nodes");
        return results;
    }

    /// <summary>Reads the Value attribute of nodes.</summary>
    public Task<DataValue[]> ReadValuesAsync(IEnumerable<NodeId> nodes, CancellationToken cancellationToken = default) =>
        ReadAsync(nodes.Select(n => new ReadValueId { NodeId = n, AttributeId = Attributes.Value }).ToArray(), TimestampsToReturn.Both, cancellationToken);

    /// <summary>Reads the Value attribute of one node.</summary>
    public async Task<DataValue> ReadValueAsync(NodeId node, CancellationToken cancellationToken = default) =>
        (await ReadValuesAsync([node], cancellationToken))[0];

    /// <summary>Writes attributes (OPC 10000-4 §5.11.4); one status per node.</summary>
    public async Task<StatusCode[]> WriteAsync(IReadOnlyList<WriteValue> values, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var response = await CallAsync<WriteResponse>(new WriteRequest { NodesToWrite = values.ToArray() }, null, cancellationToken);
        return response.Results ?? [];
    }

    /// <summary>Writes the Value attribute of one node (value only, no timestamps).</summary>
    public async Task<StatusCode> WriteValueAsync(NodeId node, Variant value, CancellationToken cancellationToken = default) =>
        (await WriteAsync([new WriteValue { NodeId = node, AttributeId = Attributes.Value, Value = new DataValue(value) }], cancellationToken))[0];

    /// <summary>
    /// Browses the references of a node (OPC 10000-4 §5.9.2), following continuation points with BrowseNext.
    /// By default: forward hierarchical references including subtypes, all result fields.
    /// </summary>
    public async Task<IReadOnlyList<ReferenceDescription>> BrowseAsync(NodeId node, BrowseDirection direction = BrowseDirection.Forward,
        NodeId? referenceTypeId = null, uint maxReferencesPerNode = 0, CancellationToken cancellationToken = default)
    {
        var request = new BrowseRequest
        {
            RequestedMaxReferencesPerNode = maxReferencesPerNode,
            NodesToBrowse =
            [
                new BrowseDescription
                {
                    NodeId = node,
                    BrowseDirection = direction,
                    ReferenceTypeId = referenceTypeId ?? WellKnownNodes.HierarchicalReferences,
                    IncludeSubtypes = true,
                    ResultMask = 63,
                },
            ],
        };
        var response = await CallAsync<BrowseResponse>(request, null, cancellationToken);
        var result = response.Results is [var first, ..] ? first : throw new UaException(StatusCodes.BadUnknownResponse, "Browse returned no result");
        var references = new List<ReferenceDescription>();
        while (true)
        {
            if (result.StatusCode.IsBad)
                throw new UaServiceException(result.StatusCode, $"Browse of {node} failed");
            references.AddRange(result.References ?? []);
            if (result.ContinuationPoint is not { Length: > 0 } continuation)
                return references;
            var next = await CallAsync<BrowseNextResponse>(new BrowseNextRequest { ContinuationPoints = [continuation] }, null, cancellationToken);
            result = next.Results is [var r, ..] ? r : throw new UaException(StatusCodes.BadUnknownResponse, "BrowseNext returned no result");
        }
    }

    /// <summary>Translates browse paths to node ids (OPC 10000-4 §5.9.4).</summary>
    public async Task<BrowsePathResult[]> TranslateBrowsePathsAsync(IReadOnlyList<BrowsePath> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var response = await CallAsync<TranslateBrowsePathsToNodeIdsResponse>(new TranslateBrowsePathsToNodeIdsRequest { BrowsePaths = paths.ToArray() }, null, cancellationToken);
        return response.Results ?? [];
    }

    /// <summary>
    /// Creates a subscription with monitored items on the Value attribute; <paramref name="callback"/> receives
    /// each data change (node, value with source timestamp and StatusCode, gap flag), in the server's order and
    /// usually on the connection's receive loop, so it must not block. Items that the server refused are listed in
    /// <see cref="UaSubscription.Items"/> with their Bad status.
    /// </summary>
    public Task<UaSubscription> SubscribeAsync(UaSubscriptionOptions options, IReadOnlyList<UaMonitoredItemRequest> items,
        Action<UaDataChange> callback, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(callback);
        return SubscribeAsync(new UaSubscription(options, callback), items, cancellationToken);
    }

    /// <summary>
    /// Creates a subscription as the other overload does, delivering each data change to <paramref name="handler"/>
    /// as a struct: no allocation per value for scalar numbers, Booleans, DateTimes and StatusCodes. The item's
    /// <see cref="UaMonitoredItem.ClientHandle"/> is 1 + its index in <paramref name="items"/>.
    /// </summary>
    public Task<UaSubscription> SubscribeAsync(UaSubscriptionOptions options, IReadOnlyList<UaMonitoredItemRequest> items,
        UaValueHandler handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        return SubscribeAsync(new UaSubscription(options, handler), items, cancellationToken);
    }

    private async Task<UaSubscription> SubscribeAsync(UaSubscription subscription, IReadOnlyList<UaMonitoredItemRequest> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var channel = await ReadyChannelAsync(cancellationToken);
        await CreateOnServerAsync(channel, subscription, AssignHandles(subscription, items), cancellationToken);
        lock (_gate)
            _subscriptions.Add(subscription);
        _subscriptionSignal.Release(Math.Max(1, _options.PublishRequestCount));
        return subscription;
    }

    /// <summary>Adds monitored items to an existing subscription (their client handles follow the existing ones).</summary>
    public async Task AddItemsAsync(UaSubscription subscription, IReadOnlyList<UaMonitoredItemRequest> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        ArgumentNullException.ThrowIfNull(items);
        var channel = await ReadyChannelAsync(cancellationToken);
        await CreateItemsAsync(channel, subscription, AssignHandles(subscription, items), cancellationToken);
    }

    private static (uint Handle, UaMonitoredItemRequest Request)[] AssignHandles(UaSubscription subscription, IReadOnlyList<UaMonitoredItemRequest> items)
    {
        var first = subscription.ReserveHandles(items.Count);
        var handles = new (uint, UaMonitoredItemRequest)[items.Count];
        for (var i = 0; i < handles.Length; i++)
            handles[i] = (first + (uint)i, items[i]);
        return handles;
    }

    private async Task CreateOnServerAsync(UaClientChannel channel, UaSubscription subscription, (uint Handle, UaMonitoredItemRequest Request)[] items,
        CancellationToken cancellationToken, Func<NodeId, NodeId>? remap = null)
    {
        var options = subscription.Options;
        var request = new CreateSubscriptionRequest
        {
            RequestedPublishingInterval = options.PublishingInterval.TotalMilliseconds,
            RequestedLifetimeCount = options.LifetimeCountFor(options.PublishingInterval, options.MaxKeepAliveCount),
            RequestedMaxKeepAliveCount = options.MaxKeepAliveCount,
            MaxNotificationsPerPublish = options.MaxNotificationsPerPublish,
            PublishingEnabled = true,
            Priority = options.Priority,
        };
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        var response = await channel.SendRequestAsync<CreateSubscriptionResponse>(request, null, cancellationToken);
        subscription.SubscriptionId = response.SubscriptionId;
        subscription.RevisedPublishingInterval = TimeSpan.FromMilliseconds(response.RevisedPublishingInterval);
        subscription.RevisedMaxKeepAliveCount = response.RevisedMaxKeepAliveCount;
        subscription.RevisedLifetimeCount = response.RevisedLifetimeCount;
        subscription.Touch();
        _byServerId[subscription.SubscriptionId] = subscription;
        await CreateItemsAsync(channel, subscription, items, cancellationToken, remap);
    }

    private async Task CreateItemsAsync(UaClientChannel channel, UaSubscription subscription, (uint Handle, UaMonitoredItemRequest Request)[] items,
        CancellationToken cancellationToken, Func<NodeId, NodeId>? remap = null)
    {
        if (items.Length == 0)
            return;
        var request = new CreateMonitoredItemsRequest
        {
            SubscriptionId = subscription.SubscriptionId,
            TimestampsToReturn = TimestampsToReturn.Both,
            ItemsToCreate = items.Select(i => new MonitoredItemCreateRequest
            {
                ItemToMonitor = new ReadValueId { NodeId = remap?.Invoke(i.Request.NodeId) ?? i.Request.NodeId, AttributeId = Attributes.Value },
                MonitoringMode = MonitoringMode.Reporting,
                RequestedParameters = new MonitoringParameters
                {
                    ClientHandle = i.Handle,
                    SamplingInterval = i.Request.SamplingInterval?.TotalMilliseconds ?? -1,
                    QueueSize = i.Request.QueueSize,
                    DiscardOldest = true,
                    Filter = i.Request.Deadband == DeadbandType.None && i.Request.Trigger == DataChangeTrigger.StatusValue
                        ? null
                        : new ExtensionObject(new DataChangeFilter { Trigger = i.Request.Trigger, DeadbandType = (uint)i.Request.Deadband, DeadbandValue = i.Request.DeadbandValue }),
                },
            }).ToArray(),
        };
        request.RequestHeader.AuthenticationToken = _authenticationToken;
        var response = await channel.SendRequestAsync<CreateMonitoredItemsResponse>(request, null, cancellationToken);
        var results = response.Results ?? [];
        for (var i = 0; i < items.Length; i++)
        {
            var result = i < results.Length ? results[i] : new MonitoredItemCreateResult { StatusCode = StatusCodes.BadUnknownResponse };
            subscription.AddItem(new UaMonitoredItem(items[i].Request, items[i].Handle, result.MonitoredItemId, result.StatusCode));
        }
    }

    /// <summary>Changes the publishing parameters of a subscription (OPC 10000-4 §5.13.3).</summary>
    public async Task ModifySubscriptionAsync(UaSubscription subscription, TimeSpan publishingInterval, uint maxKeepAliveCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        var response = await CallAsync<ModifySubscriptionResponse>(new ModifySubscriptionRequest
        {
            SubscriptionId = subscription.SubscriptionId,
            RequestedPublishingInterval = publishingInterval.TotalMilliseconds,
            RequestedMaxKeepAliveCount = maxKeepAliveCount,
            RequestedLifetimeCount = subscription.Options.LifetimeCountFor(publishingInterval, maxKeepAliveCount),
        }, null, cancellationToken);
        subscription.RevisedPublishingInterval = TimeSpan.FromMilliseconds(response.RevisedPublishingInterval);
        subscription.RevisedMaxKeepAliveCount = response.RevisedMaxKeepAliveCount;
        subscription.RevisedLifetimeCount = response.RevisedLifetimeCount;
        subscription.Touch();
    }

    /// <summary>Deletes a subscription on the server (OPC 10000-4 §5.13.8) and stops delivering its values.</summary>
    public async Task DeleteSubscriptionAsync(UaSubscription subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        lock (_gate)
            _subscriptions.Remove(subscription);
        _byServerId.TryRemove(subscription.SubscriptionId, out _);
        await CallAsync<DeleteSubscriptionsResponse>(new DeleteSubscriptionsRequest { SubscriptionIds = [subscription.SubscriptionId] }, null, cancellationToken);
    }

    /// <summary>Closes the session (deleting its subscriptions) and the secure channel.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_disposed.IsCancellationRequested)
            return;
        await _disposed.CancelAsync();
        var channel = _channel;
        if (channel is { State: UaChannelState.Open })
        {
            try
            {
                var request = new CloseSessionRequest { DeleteSubscriptions = true };
                request.RequestHeader.AuthenticationToken = _authenticationToken;
                await channel.SendRequestAsync<CloseSessionResponse>(request, TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (UaException)
            {
                // Closing anyway.
            }

            await channel.CloseAsync(cancellationToken);
        }

        await StopBackgroundAsync();
        ConnectionChanged?.Invoke(this, UaConnectionState.Closed);
    }

    private async Task StopBackgroundAsync()
    {
        lock (_gate)
            _ready.TrySetException(new ObjectDisposedException(nameof(UaClient)));
        if (_channel is { } channel)
            await channel.DisposeAsync();
        await Task.WhenAll(_background).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_disposed.IsCancellationRequested)
        {
            await _disposed.CancelAsync();
            await StopBackgroundAsync();
        }

        _ = _ready.Task.Exception;
    }
}
