using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Channel;

/// <summary>Options of a client secure channel.</summary>
public sealed record UaClientChannelOptions
{
    /// <summary>Buffer sizes and limits offered in Hello.</summary>
    public UaChannelLimits Limits { get; init; } = new();

    /// <summary>Requested token lifetime; the channel renews at 75 % of the revised lifetime.</summary>
    public TimeSpan RequestedLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Timeout for connect, Hello and OpenSecureChannel.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Default timeout of a service call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Creates the security policy of each new channel (keys are per channel); None unless configured.</summary>
    public Func<IUaChannelSecurity> Security { get; init; } = static () => UaSecurityNone.Instance;
}

/// <summary>
/// Client side of a UA TCP secure channel: Hello/Acknowledge, OpenSecureChannel (issue and renew at 75 % of
/// the revised lifetime), CloseSecureChannel, and a dispatcher matching responses to requests by request id
/// and request handle (OPC 10000-4 §5.5, OPC 10000-6 §6.7, §7.1).
/// </summary>
public sealed class UaClientChannel : UaSecureChannel
{
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<IUaEncodeable>> _pending = new();
    private readonly UaClientChannelOptions _options;
    private int _nextRequestId;
    private Task? _receiveLoop;
    private Task? _renewLoop;

    private UaClientChannel(Stream stream, string endpointUrl, UaClientChannelOptions options)
        : base(stream, options.Limits, options.Security())
    {
        EndpointUrl = endpointUrl;
        _options = options;
    }

    /// <summary>The endpoint URL given in Hello.</summary>
    public string EndpointUrl { get; }

    /// <summary>Revised lifetime of the current token.</summary>
    public TimeSpan TokenLifetime { get; private set; }

    /// <summary>When the current token was created (local clock).</summary>
    public DateTime TokenCreatedAt { get; private set; }

    /// <summary>
    /// Sees every message in wire order, on the receive loop, before the waiting request is completed.
    /// Used to process publish responses strictly in the order the server sent them; must not block.
    /// </summary>
    public Action<IUaEncodeable>? ResponseObserver { get; set; }

    /// <summary>Raised after each successful renewal (for diagnostics and tests).</summary>
    public event Action<UaClientChannel>? TokenRenewed;

    /// <summary>Splits <c>opc.tcp://host:port/path</c> into host and port (default 4840).</summary>
    public static (string Host, int Port) ParseEndpointUrl(string endpointUrl)
    {
        ArgumentNullException.ThrowIfNull(endpointUrl);
        if (!Uri.TryCreate(endpointUrl, UriKind.Absolute, out var uri) || !string.Equals(uri.Scheme, "opc.tcp", StringComparison.OrdinalIgnoreCase))
            throw new UaException(StatusCodes.BadTcpEndpointUrlInvalid, $"'{endpointUrl}' is not an opc.tcp:// URL");
        return (uri.Host, uri.Port > 0 ? uri.Port : 4840);
    }

    /// <summary>Connects, exchanges Hello/Acknowledge and opens the secure channel.</summary>
    public static async Task<UaClientChannel> ConnectAsync(string endpointUrl, UaClientChannelOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new UaClientChannelOptions();
        var (host, port) = ParseEndpointUrl(endpointUrl);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        UaClientChannel? channel = null;
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token);
            channel = new UaClientChannel(new NetworkStream(socket, ownsSocket: true), endpointUrl, options);
            await channel.HandshakeAsync(timeout.Token);
            channel._receiveLoop = channel.ReceiveLoopAsync();
            await channel.OpenAsync(SecurityTokenRequestType.Issue, timeout.Token);
            channel._renewLoop = channel.RenewLoopAsync();
            return channel;
        }
        catch (Exception ex)
        {
            if (channel is not null)
                await channel.DisposeAsync();
            else
                socket.Dispose();
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new UaException(StatusCodes.BadTimeout, $"Connecting to {endpointUrl} timed out", ex);
            if (ex is SocketException se)
                throw new UaException(StatusCodes.BadNotConnected, $"Cannot connect to {endpointUrl}: {se.Message}", ex);
            if (ex is UaException && channel?.BreakReason is UaException broken && !ReferenceEquals(broken, ex))
                throw broken;
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        var hello = new UaHello
        {
            ProtocolVersion = 0,
            ReceiveBufferSize = (uint)Limits.ReceiveBufferSize,
            SendBufferSize = (uint)Limits.SendBufferSize,
            MaxMessageSize = (uint)Limits.MaxMessageSize,
            MaxChunkCount = (uint)Limits.EffectiveMaxChunkCount,
            EndpointUrl = EndpointUrl,
        };
        await WriteRawAsync(hello.ToBytes(), cancellationToken);
        var chunk = await ReadChunkAsync(cancellationToken);
        if (chunk.MessageType == UaMessageType.Error)
        {
            var error = UaError.DecodeBody(chunk.Data.AsSpan(UaTcpFraming.HeaderSize));
            throw new UaException(error.Error, "Server refused Hello: " + error.Reason);
        }

        if (chunk.MessageType != UaMessageType.Acknowledge)
            throw new UaException(StatusCodes.BadTcpMessageTypeInvalid, $"Expected Acknowledge, got {chunk.MessageType} (OPC 10000-6 §7.1.2.4)");
        var ack = UaAcknowledge.Decode(chunk.Data);

        // The server's receive buffer bounds what we send, its send buffer what we receive (OPC 10000-6 §7.1.2.4).
        SendChunkSize = (int)Math.Min(ack.ReceiveBufferSize, (uint)Limits.SendBufferSize);
        ReceiveChunkSize = (int)Math.Min(ack.SendBufferSize, (uint)Limits.ReceiveBufferSize);
        MaxSendMessageSize = (int)Math.Min(ack.MaxMessageSize, int.MaxValue);
        MaxSendChunkCount = (int)Math.Min(ack.MaxChunkCount, int.MaxValue);
        SetState(UaChannelState.Handshaken);
    }

    private async Task OpenAsync(SecurityTokenRequestType type, CancellationToken cancellationToken)
    {
        var clientNonce = Security.CreateNonce();
        var request = new OpenSecureChannelRequest
        {
            ClientProtocolVersion = 0,
            RequestType = type,
            SecurityMode = Security.Mode,
            ClientNonce = clientNonce,
            RequestedLifetime = (uint)_options.RequestedLifetime.TotalMilliseconds,
        };
        var response = await SendAsync<OpenSecureChannelResponse>(UaMessageType.OpenChannel, request, _options.ConnectTimeout, cancellationToken);
        var token = response.SecurityToken;
        if (type == SecurityTokenRequestType.Issue)
            ChannelId = token.ChannelId;
        else if (token.ChannelId != ChannelId)
            throw new UaException(StatusCodes.BadSecureChannelIdInvalid, $"Renewed token names channel {token.ChannelId}, not {ChannelId} (OPC 10000-4 §5.5.2)");
        Security.OnTokenIssued(token.TokenId, clientNonce, response.ServerNonce, isClient: true);
        PreviousTokenId = type == SecurityTokenRequestType.Renew ? TokenId : null;
        TokenId = token.TokenId;
        TokenLifetime = TimeSpan.FromMilliseconds(Math.Max(1000, token.RevisedLifetime));
        TokenCreatedAt = DateTime.UtcNow;
        SetState(UaChannelState.Open);
    }

    private async Task RenewLoopAsync()
    {
        try
        {
            while (!Lifetime.IsCancellationRequested)
            {
                // Renew once 75 % of the revised lifetime has passed (OPC 10000-4 §5.5.2.1).
                var due = TokenCreatedAt + TokenLifetime * 0.75 - DateTime.UtcNow;
                if (due > TimeSpan.Zero)
                    await Task.Delay(due, Lifetime);
                await OpenAsync(SecurityTokenRequestType.Renew, Lifetime);
                TokenRenewed?.Invoke(this);
            }
        }
        catch (OperationCanceledException) when (Lifetime.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Break(ex is UaException ? ex : new UaException(StatusCodes.BadSecureChannelClosed, "Token renewal failed: " + ex.Message, ex));
        }
    }

    /// <summary>
    /// Sends a service request and waits for its response. Throws <see cref="UaServiceException"/> for a
    /// ServiceFault or a Bad ServiceResult, <see cref="UaException"/> (BadTimeout) on timeout, and the break
    /// reason when the channel fails meanwhile.
    /// </summary>
    public Task<TResponse> SendRequestAsync<TResponse>(UaRequest request, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TResponse : UaResponse =>
        SendAsync<TResponse>(UaMessageType.Message, request, timeout ?? _options.RequestTimeout, cancellationToken);

    private async Task<TResponse> SendAsync<TResponse>(UaMessageType type, UaRequest request, TimeSpan timeout, CancellationToken cancellationToken)
        where TResponse : UaResponse
    {
        ArgumentNullException.ThrowIfNull(request);
        if (State is UaChannelState.Broken or UaChannelState.Closed)
            throw BreakReason as UaException ?? new UaException(StatusCodes.BadSecureChannelClosed, "The secure channel is closed");
        var id = (uint)Interlocked.Increment(ref _nextRequestId);
        request.RequestHeader.RequestHandle = id;
        request.RequestHeader.Timestamp = DateTime.UtcNow;
        request.RequestHeader.TimeoutHint = (uint)Math.Min(timeout.TotalMilliseconds, uint.MaxValue);
        var pending = new TaskCompletionSource<IUaEncodeable>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = pending;
        try
        {
            if (State is UaChannelState.Broken or UaChannelState.Closed)
                throw BreakReason as UaException ?? new UaException(StatusCodes.BadSecureChannelClosed, "The secure channel is closed");
            await SendMessageAsync(type, id, request, StatusCodes.BadRequestTooLarge, cancellationToken);
            IUaEncodeable message;
            try
            {
                message = await pending.Task.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new UaException(StatusCodes.BadTimeout, $"{request.GetType().Name} got no response within {timeout.TotalMilliseconds:F0} ms");
            }

            if (message is ServiceFault fault)
                throw new UaServiceException(fault.ResponseHeader.ServiceResult, $"{request.GetType().Name} failed");
            if (message is not TResponse response)
                throw new UaException(StatusCodes.BadUnknownResponse, $"{request.GetType().Name} was answered by {message.GetType().Name}");
            if (response.ResponseHeader.RequestHandle != id)
                throw new UaException(StatusCodes.BadUnknownResponse, $"Response handle {response.ResponseHeader.RequestHandle} does not match request {id} (OPC 10000-4 §7.33)");
            if (response.ResponseHeader.ServiceResult.IsBad)
                throw new UaServiceException(response.ResponseHeader.ServiceResult, $"{request.GetType().Name} failed");
            return response;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <inheritdoc />
    protected override void ValidateChannel(UaMessageType type, uint channelId, uint tokenId)
    {
        if (type == UaMessageType.OpenChannel && ChannelId == 0)
            return;
        if (channelId != ChannelId)
            throw new UaException(StatusCodes.BadSecureChannelIdInvalid, $"Chunk for channel {channelId}, this is {ChannelId} (OPC 10000-6 §6.7.2.2)");
        if (type != UaMessageType.OpenChannel && tokenId != TokenId && tokenId != PreviousTokenId)
            throw new UaException(StatusCodes.BadSecureChannelTokenUnknown, $"Token {tokenId} is not in force (OPC 10000-6 §6.7.2.3)");
    }

    /// <inheritdoc />
    protected override ValueTask OnMessageAsync(UaMessageType type, uint requestId, IUaEncodeable message)
    {
        // A response to a request that already timed out is dropped.
        if (!_pending.TryGetValue(requestId, out var pending))
            return ValueTask.CompletedTask;
        ResponseObserver?.Invoke(message);
        pending.TrySetResult(message);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override void OnAbort(uint requestId, UaError error)
    {
        if (_pending.TryGetValue(requestId, out var pending))
            pending.TrySetException(new UaServiceException(error.Error, "Server aborted the response: " + error.Reason));
    }

    /// <inheritdoc />
    protected override ValueTask OnUndecodableMessageAsync(UaMessageType type, uint requestId, ReadOnlyMemory<byte> body, UaDecodingException error)
    {
        if (_pending.TryGetValue(requestId, out var pending))
            pending.TrySetException(error);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override void OnClosed(Exception reason)
    {
        foreach (var pending in _pending.Values)
            pending.TrySetException(reason);
    }

    /// <summary>Sends CloseSecureChannel (no response is expected) and closes the socket.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (State == UaChannelState.Open)
        {
            BeginClose();
            try
            {
                var id = (uint)Interlocked.Increment(ref _nextRequestId);
                var request = new CloseSecureChannelRequest();
                request.RequestHeader.RequestHandle = id;
                request.RequestHeader.Timestamp = DateTime.UtcNow;
                await SendMessageAsync(UaMessageType.CloseChannel, id, request, StatusCodes.BadRequestTooLarge, cancellationToken);
            }
            catch (UaException)
            {
                // Closing anyway.
            }
        }

        CloseQuietly();
        await WaitLoopsAsync();
    }

    private async Task WaitLoopsAsync()
    {
        foreach (var loop in new[] { _receiveLoop, _renewLoop })
        {
            if (loop is not null)
                await loop.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default);
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await WaitLoopsAsync();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"UaClientChannel {EndpointUrl} channel={ChannelId.ToString(CultureInfo.InvariantCulture)} token={TokenId.ToString(CultureInfo.InvariantCulture)} {State}";
}
