using System.Buffers;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Channel;

/// <summary>Handles the service requests arriving on server channels.</summary>
public interface IUaRequestHandler
{
    /// <summary>Handles one request; the handler answers through <see cref="UaServerChannel.SendResponseAsync"/>.</summary>
    Task HandleAsync(UaServerChannel channel, uint requestId, UaRequest request);
}

/// <summary>
/// Server side of a UA TCP secure channel: answers Hello with Acknowledge, issues and renews security
/// tokens, hands service requests to an <see cref="IUaRequestHandler"/> and sends their responses through the
/// one serialized writer (OPC 10000-6 §6.7, §7.1).
/// </summary>
public sealed class UaServerChannel : UaSecureChannel
{
    private static int _nextTokenId;
    private readonly IUaRequestHandler _handler;
    private readonly uint _assignedChannelId;
    private readonly TimeSpan _helloTimeout;
    private readonly Func<string, IUaChannelSecurity?>? _selectSecurity;
    private readonly Func<string, MessageSecurityMode, bool>? _modeOffered;

    /// <summary>Creates the channel over an accepted connection.</summary>
    /// <param name="stream">The accepted connection.</param>
    /// <param name="handler">Handles service requests.</param>
    /// <param name="channelId">The SecureChannelId to assign.</param>
    /// <param name="limits">Buffer sizes and limits.</param>
    /// <param name="helloTimeout">How long to wait for Hello and OpenSecureChannel.</param>
    /// <param name="security">The policy when only one is offered.</param>
    /// <param name="selectSecurity">Picks a fresh policy instance for the SecurityPolicyUri of the first OpenSecureChannel (null: refused).</param>
    /// <param name="modeOffered">Whether an endpoint offers this policy with this mode.</param>
    public UaServerChannel(Stream stream, IUaRequestHandler handler, uint channelId, UaChannelLimits limits, TimeSpan helloTimeout, IUaChannelSecurity? security = null,
        Func<string, IUaChannelSecurity?>? selectSecurity = null, Func<string, MessageSecurityMode, bool>? modeOffered = null)
        : base(stream, limits, security ?? UaSecurityNone.Instance)
    {
        _handler = handler;
        _assignedChannelId = channelId;
        _helloTimeout = helloTimeout;
        _selectSecurity = selectSecurity;
        _modeOffered = modeOffered;
    }

    /// <inheritdoc />
    protected override uint SendTokenId => PreviousTokenId ?? TokenId;

    /// <inheritdoc />
    protected override void SelectSecurity(string policyUri)
    {
        if (_selectSecurity is null || State != UaChannelState.Handshaken)
            return;
        Security = _selectSecurity(policyUri)
            ?? throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{policyUri}' is not offered by this server (OPC 10000-6 §6.7.2.3)");
    }

    /// <summary>The endpoint URL the client sent in Hello.</summary>
    public string? EndpointUrl { get; private set; }

    /// <summary>When the current token expires (UTC).</summary>
    public DateTime TokenExpiresAt { get; private set; }

    /// <summary>Runs the connection until it closes: Hello, then the receive loop.</summary>
    public async Task RunAsync()
    {
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Lifetime))
            {
                timeout.CancelAfter(_helloTimeout);
                var chunk = await ReadChunkAsync(timeout.Token);
                if (chunk.MessageType != UaMessageType.Hello)
                    throw new UaException(StatusCodes.BadTcpMessageTypeInvalid, $"Expected Hello, got {chunk.MessageType} (OPC 10000-6 §7.1.2.3)");
                var hello = UaHello.Decode(chunk.Data);
                EndpointUrl = hello.EndpointUrl;

                // Revise the buffer sizes down to what both sides can do (OPC 10000-6 §7.1.2.4).
                var ack = new UaAcknowledge
                {
                    ProtocolVersion = 0,
                    ReceiveBufferSize = Math.Min((uint)Limits.ReceiveBufferSize, hello.SendBufferSize),
                    SendBufferSize = Math.Min((uint)Limits.SendBufferSize, hello.ReceiveBufferSize),
                    MaxMessageSize = (uint)Limits.MaxMessageSize,
                    MaxChunkCount = (uint)Limits.EffectiveMaxChunkCount,
                };
                ReceiveChunkSize = (int)ack.ReceiveBufferSize;
                SendChunkSize = (int)ack.SendBufferSize;
                MaxSendMessageSize = (int)Math.Min(hello.MaxMessageSize, int.MaxValue);
                MaxSendChunkCount = (int)Math.Min(hello.MaxChunkCount, int.MaxValue);
                await WriteRawAsync(ack.ToBytes(), timeout.Token);
                SetState(UaChannelState.Handshaken);
            }

            // A connection that never opens a secure channel is dropped like one that never says Hello.
            _ = Task.Delay(_helloTimeout, Lifetime).ContinueWith(
                _ =>
                {
                    if (State == UaChannelState.Handshaken)
                        Break(new UaException(StatusCodes.BadTimeout, "No OpenSecureChannel after Hello (OPC 10000-6 §7.1.2)"));
                },
                CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

            await ReceiveLoopAsync();
        }
        catch (Exception ex) when (ex is UaException or OperationCanceledException or IOException)
        {
            var failure = ex as UaException ?? new UaException(StatusCodes.BadTimeout, "No Hello within the timeout", ex);
            await OnFatalErrorAsync(failure);
            Break(failure);
        }
    }

    /// <inheritdoc />
    protected override async Task OnFatalErrorAsync(UaException error)
    {
        if (State is UaChannelState.Closed or UaChannelState.Broken)
            return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await WriteRawAsync(new UaError(error.Status, error.Message).ToBytes(), timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer is gone; nothing to tell it.
        }
    }

    /// <inheritdoc />
    protected override void ValidateChannel(UaMessageType type, uint channelId, uint tokenId)
    {
        if (type == UaMessageType.OpenChannel && State == UaChannelState.Handshaken)
            return;
        if (State != UaChannelState.Open)
            throw new UaException(StatusCodes.BadSecureChannelIdInvalid, $"{type} before OpenSecureChannel (OPC 10000-6 §6.7.2)");
        if (channelId != ChannelId)
            throw new UaException(StatusCodes.BadSecureChannelIdInvalid, $"Chunk for channel {channelId}, this is {ChannelId} (OPC 10000-6 §6.7.2.2)");
        if (type == UaMessageType.OpenChannel)
            return;
        if (tokenId == TokenId)
        {
            // The client switched to the renewed token: the old one is no longer accepted (OPC 10000-4 §5.5.2.1).
            PreviousTokenId = null;
        }
        else if (tokenId != PreviousTokenId)
        {
            throw new UaException(StatusCodes.BadSecureChannelTokenUnknown, $"Token {tokenId} is not in force (OPC 10000-6 §6.7.2.3)");
        }

        if (DateTime.UtcNow > TokenExpiresAt)
            throw new UaException(StatusCodes.BadSecureChannelTokenUnknown, "The security token expired without renewal (OPC 10000-4 §5.5.2.1)");
    }

    /// <inheritdoc />
    protected override async ValueTask OnMessageAsync(UaMessageType type, uint requestId, IUaEncodeable message)
    {
        switch (type)
        {
            case UaMessageType.OpenChannel when message is OpenSecureChannelRequest open:
                await OpenAsync(requestId, open);
                return;
            case UaMessageType.CloseChannel:
                CloseQuietly();
                return;
            case UaMessageType.Message when message is UaRequest request:
                // Requests run concurrently (Publish requests are parked); responses go through the serialized writer.
                _ = Task.Run(() => HandleSafelyAsync(requestId, request));
                return;
            default:
                throw new UaException(StatusCodes.BadTcpMessageTypeInvalid, $"{message.GetType().Name} in a {type} chunk (OPC 10000-6 §6.7.2)");
        }
    }

    private async Task HandleSafelyAsync(uint requestId, UaRequest request)
    {
        try
        {
            await _handler.HandleAsync(this, requestId, request);
        }
        catch (UaException ex) when (State == UaChannelState.Open)
        {
            await SendFaultAsync(requestId, request.RequestHeader.RequestHandle, ex.Status);
        }
        catch (Exception ex) when (ex is not UaException && State == UaChannelState.Open)
        {
            await SendFaultAsync(requestId, request.RequestHeader.RequestHandle, StatusCodes.BadInternalError);
        }
        catch (UaException)
        {
            // Channel already gone.
        }
    }

    private async Task OpenAsync(uint requestId, OpenSecureChannelRequest request)
    {
        if (request.RequestType == SecurityTokenRequestType.Issue && State != UaChannelState.Handshaken)
            throw new UaException(StatusCodes.BadRequestTypeInvalid, "Issue on an open channel (OPC 10000-4 §5.5.2)");
        if (request.RequestType == SecurityTokenRequestType.Renew && State != UaChannelState.Open)
            throw new UaException(StatusCodes.BadRequestTypeInvalid, "Renew before Issue (OPC 10000-4 §5.5.2)");
        if (request.RequestType == SecurityTokenRequestType.Issue && _modeOffered is not null && Security is IUaModeSelectable selectable)
        {
            if (!_modeOffered(Security.PolicyUri, request.SecurityMode))
                throw new UaException(StatusCodes.BadSecurityModeRejected, $"Security mode {request.SecurityMode} is not offered with {Security.PolicyUri} (OPC 10000-4 §5.5.2)");
            selectable.Mode = request.SecurityMode;
        }

        if (request.SecurityMode != Security.Mode)
            throw new UaException(StatusCodes.BadSecurityModeRejected, $"Security mode {request.SecurityMode} is not offered (OPC 10000-4 §5.5.2)");
        var lifetime = request.RequestedLifetime == 0 ? 3_600_000u : Math.Clamp(request.RequestedLifetime, 1_000u, 3_600_000u);
        var tokenId = (uint)Interlocked.Increment(ref _nextTokenId);
        var serverNonce = Security.CreateNonce();
        if (request.RequestType == SecurityTokenRequestType.Issue)
            ChannelId = _assignedChannelId;
        var response = new OpenSecureChannelResponse
        {
            ResponseHeader = new ResponseHeader { Timestamp = DateTime.UtcNow, RequestHandle = request.RequestHeader.RequestHandle },
            ServerProtocolVersion = 0,
            SecurityToken = new ChannelSecurityToken { ChannelId = ChannelId, TokenId = tokenId, CreatedAt = DateTime.UtcNow, RevisedLifetime = lifetime },
            ServerNonce = serverNonce,
        };
        Security.OnTokenIssued(tokenId, request.ClientNonce, serverNonce, isClient: false);
        if (request.RequestType == SecurityTokenRequestType.Renew)
            PreviousTokenId = TokenId;
        TokenId = tokenId;

        // A token stays usable for 25 % beyond its lifetime so a late renewal is not fatal (OPC 10000-4 §5.5.2.1).
        TokenExpiresAt = DateTime.UtcNow + TimeSpan.FromMilliseconds(lifetime * 1.25);
        SetState(UaChannelState.Open);
        await SendMessageAsync(UaMessageType.OpenChannel, requestId, response, StatusCodes.BadResponseTooLarge, Lifetime);
    }

    /// <summary>Sends a response; when it exceeds the client's limits a ServiceFault (BadResponseTooLarge) goes instead.</summary>
    public async Task SendResponseAsync(uint requestId, UaResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            await SendMessageAsync(UaMessageType.Message, requestId, response, StatusCodes.BadResponseTooLarge, Lifetime);
        }
        catch (UaException ex) when (ex.Status == StatusCodes.BadResponseTooLarge && State == UaChannelState.Open)
        {
            await SendFaultAsync(requestId, response.ResponseHeader.RequestHandle, StatusCodes.BadResponseTooLarge);
        }
    }

    /// <summary>Sends a ServiceFault for a request.</summary>
    public Task SendFaultAsync(uint requestId, uint requestHandle, StatusCode status) =>
        SendMessageAsync(UaMessageType.Message, requestId, new ServiceFault
        {
            ResponseHeader = new ResponseHeader { Timestamp = DateTime.UtcNow, RequestHandle = requestHandle, ServiceResult = status },
        }, StatusCodes.BadResponseTooLarge, Lifetime);

    /// <inheritdoc />
    protected override void OnAbort(uint requestId, UaError error)
    {
        // The partial request was dropped; nothing was started for it.
    }

    /// <inheritdoc />
    protected override async ValueTask OnUndecodableMessageAsync(UaMessageType type, uint requestId, ReadOnlyMemory<byte> body, UaDecodingException error)
    {
        if (type != UaMessageType.Message)
            throw error;
        var handle = TryReadRequestHandle(body.Span);
        var status = error.Status == StatusCodes.BadDataTypeIdUnknown ? StatusCodes.BadServiceUnsupported : error.Status;
        await SendFaultAsync(requestId, handle, status);
    }

    // Every request starts with its type NodeId and the RequestHeader (OPC 10000-4 §7.32), so the handle
    // can be recovered for the fault even when the rest is unknown or malformed.
    private static uint TryReadRequestHandle(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new UaBinaryReader(body);
            reader.ReadNodeId();
            return reader.ReadEncodeable<RequestHeader>().RequestHandle;
        }
        catch (UaDecodingException)
        {
            return 0;
        }
    }
}
