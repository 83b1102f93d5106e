using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;
using EdgeCollector.OpcUa.Transport;

namespace EdgeCollector.OpcUa.Channel;

/// <summary>Life cycle of one UA TCP connection and its secure channel.</summary>
public enum UaChannelState
{
    /// <summary>Socket connected, Hello/Acknowledge not yet exchanged.</summary>
    Connecting,

    /// <summary>Hello/Acknowledge done, waiting for OpenSecureChannel.</summary>
    Handshaken,

    /// <summary>A security token is in force; messages may flow.</summary>
    Open,

    /// <summary>Closed on purpose (CloseSecureChannel or dispose).</summary>
    Closed,

    /// <summary>Failed; see <see cref="UaSecureChannel.BreakReason"/>.</summary>
    Broken,
}

/// <summary>Buffer sizes and limits offered in Hello / Acknowledge (OPC 10000-6 §7.1.2.3).</summary>
public sealed record UaChannelLimits
{
    /// <summary>Largest chunk we accept.</summary>
    public int ReceiveBufferSize { get; init; } = 65535;

    /// <summary>Largest chunk we send.</summary>
    public int SendBufferSize { get; init; } = 65535;

    /// <summary>Largest reassembled message body we accept.</summary>
    public int MaxMessageSize { get; init; } = 16 << 20;

    /// <summary>Most chunks per message we accept (0 derives it from size / buffer).</summary>
    public int MaxChunkCount { get; init; }

    /// <summary>Bounds for decoding message bodies.</summary>
    public UaDecodingLimits Decoding { get; init; } = UaDecodingLimits.Default;

    internal int EffectiveMaxChunkCount => MaxChunkCount > 0 ? MaxChunkCount : MaxMessageSize / Math.Max(1, ReceiveBufferSize - 64) + 2;
}

/// <summary>
/// One UA TCP connection carrying one secure channel (OPC 10000-6 §6.7, §7.1): chunking and reassembly with
/// the negotiated sizes, sequence numbers, a single serialized writer and a single failure path
/// (<see cref="Break"/>). The client and server sides derive from this class.
/// </summary>
public abstract class UaSecureChannel : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<uint, PartialMessage> _partials = [];
    private volatile bool _closing;
    private uint _sendSequence;
    private uint? _lastReceivedSequence;
    private int _state;

    /// <summary>Creates the channel over a connected stream.</summary>
    protected UaSecureChannel(Stream stream, UaChannelLimits limits, IUaChannelSecurity security)
    {
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 65536, leaveOpen: true));
        Limits = limits;
        Security = security;
        ReceiveChunkSize = limits.ReceiveBufferSize;
        SendChunkSize = limits.SendBufferSize;
        MaxReceiveMessageSize = limits.MaxMessageSize;
        MaxReceiveChunkCount = limits.EffectiveMaxChunkCount;
        _state = (int)UaChannelState.Connecting;
    }

    /// <summary>Local limits.</summary>
    public UaChannelLimits Limits { get; }

    /// <summary>The security policy of this channel (a server picks it from the first OpenSecureChannel header).</summary>
    public IUaChannelSecurity Security { get; protected set; }

    /// <summary>The token used to secure outgoing chunks (a server keeps the old one until the client uses the new one).</summary>
    protected virtual uint SendTokenId => TokenId;

    /// <summary>Current state.</summary>
    public UaChannelState State => (UaChannelState)Volatile.Read(ref _state);

    /// <summary>Why the channel broke, when it did.</summary>
    public Exception? BreakReason { get; private set; }

    /// <summary>Completes when the channel is closed or broken.</summary>
    public Task Completion => _completion.Task;

    /// <summary>The SecureChannelId assigned by the server.</summary>
    public uint ChannelId { get; protected set; }

    /// <summary>The current security token id.</summary>
    public uint TokenId { get; protected set; }

    /// <summary>The token replaced by the last renewal; still accepted until the peer uses the new one.</summary>
    protected uint? PreviousTokenId { get; set; }

    /// <summary>Negotiated size of the chunks we send.</summary>
    public int SendChunkSize { get; protected set; }

    /// <summary>Negotiated size of the chunks we receive.</summary>
    public int ReceiveChunkSize { get; protected set; }

    /// <summary>Largest message body the peer accepts (0 = no limit).</summary>
    public int MaxSendMessageSize { get; protected set; }

    /// <summary>Most chunks per message the peer accepts (0 = no limit).</summary>
    public int MaxSendChunkCount { get; protected set; }

    /// <summary>Largest message body we accept.</summary>
    protected int MaxReceiveMessageSize { get; set; }

    /// <summary>Most chunks per message we accept.</summary>
    protected int MaxReceiveChunkCount { get; set; }

    /// <summary>Cancelled when the channel closes or breaks.</summary>
    protected CancellationToken Lifetime => _lifetime.Token;

    /// <summary>Moves to a new state unless already closed or broken.</summary>
    protected void SetState(UaChannelState state)
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current is (int)UaChannelState.Closed or (int)UaChannelState.Broken)
                return;
            if (Interlocked.CompareExchange(ref _state, (int)state, current) == current)
                return;
        }
    }

    /// <summary>
    /// The single failure path: marks the channel broken, closes the socket, fails everything waiting on it.
    /// Safe to call more than once and from any thread; only the first call counts.
    /// </summary>
    public void Break(Exception reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        if (_closing)
        {
            // The peer closing the socket after our CloseSecureChannel is the expected end, not a failure.
            CloseQuietly();
            return;
        }

        if (!TryEnterFinalState(UaChannelState.Broken))
            return;
        BreakReason = reason;
        Shutdown(reason);
    }

    /// <summary>Marks an orderly close in progress (before sending CloseSecureChannel).</summary>
    protected void BeginClose() => _closing = true;

    /// <summary>Closes without error (after CloseSecureChannel or on dispose).</summary>
    protected void CloseQuietly()
    {
        if (!TryEnterFinalState(UaChannelState.Closed))
            return;
        Shutdown(new UaException(StatusCodes.BadSecureChannelClosed, "Secure channel closed"));
    }

    private bool TryEnterFinalState(UaChannelState final)
    {
        while (true)
        {
            var current = Volatile.Read(ref _state);
            if (current is (int)UaChannelState.Closed or (int)UaChannelState.Broken)
                return false;
            if (Interlocked.CompareExchange(ref _state, (int)final, current) == current)
                return true;
        }
    }

    private void Shutdown(Exception reason)
    {
        try
        {
            _lifetime.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered on the lifetime token threw; the channel is going down anyway.
        }

        _stream.Dispose();
        try
        {
            OnClosed(reason);
        }
        finally
        {
            _completion.TrySetResult();
        }
    }

    /// <summary>Called once when the channel closes or breaks, to fail pending work.</summary>
    protected virtual void OnClosed(Exception reason)
    {
    }

    /// <summary>Reads the next complete chunk (bounded by <see cref="ReceiveChunkSize"/>).</summary>
    protected async Task<UaChunk> ReadChunkAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var complete = false;
            try
            {
                complete = UaTcpFraming.TryReadChunk(ref buffer, ReceiveChunkSize, out var chunk);
                if (complete)
                    return chunk!;
                if (result.IsCompleted || result.IsCanceled)
                    throw new UaException(StatusCodes.BadConnectionClosed, "The peer closed the connection");
            }
            finally
            {
                // After a whole chunk only what was consumed counts as examined, so the next read returns at
                // once when another chunk is already buffered; after a partial chunk wait for more bytes.
                if (complete)
                    _reader.AdvanceTo(buffer.Start);
                else
                    _reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    /// <summary>Writes raw bytes (HEL/ACK/ERR) through the serialized writer.</summary>
    protected async Task WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
            await _stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Encodes a message (type id + body) and sends it as one or more chunks, all under the write lock so
    /// chunks of different messages never interleave and sequence numbers rise on the wire
    /// (OPC 10000-6 §6.7.2). Throws <see cref="UaException"/> with <paramref name="tooLarge"/> when the peer's
    /// limits would be exceeded; the channel stays open in that case.
    /// </summary>
    protected async Task SendMessageAsync(UaMessageType type, uint requestId, IUaEncodeable message, StatusCode tooLarge, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(1024);
        new UaBinaryWriter(body).WriteMessage(message);
        var asymmetric = type == UaMessageType.OpenChannel;

        // Security header: OPN 00-03 policy uri length + uri, sender certificate, receiver thumbprint;
        // MSG/CLO 00-03 TokenId (OPC 10000-6 §6.7.2.3, §6.7.2.4).
        var securityHeader = new ArrayBufferWriter<byte>(128);
        var sw = new UaBinaryWriter(securityHeader);
        if (asymmetric)
        {
            sw.WriteString(Security.PolicyUri);
            sw.WriteByteString(Security.LocalCertificate);
            sw.WriteByteString(Security.RemoteCertificateThumbprint);
        }

        var headerSize = UaTcpFraming.HeaderSize + 4 + securityHeader.WrittenCount + (asymmetric ? 0 : 4) + 8;
        var maxBody = Security.MaxBodySize(SendChunkSize, headerSize, asymmetric);
        if (maxBody <= 0)
            throw new UaException(StatusCodes.BadTcpInternalError, "Negotiated chunk size too small for the headers (OPC 10000-6 §6.7.2)");
        var total = body.WrittenCount;
        var chunkCount = Math.Max(1, (total + maxBody - 1) / maxBody);
        if ((MaxSendChunkCount > 0 && chunkCount > MaxSendChunkCount) || (MaxSendMessageSize > 0 && total > MaxSendMessageSize))
            throw new UaException(tooLarge, $"Message of {total} bytes in {chunkCount} chunks exceeds the peer's limits ({MaxSendMessageSize} bytes, {MaxSendChunkCount} chunks; OPC 10000-6 §6.7.2)");
        if (asymmetric && chunkCount > 1)
            throw new UaException(tooLarge, "OpenSecureChannel must fit one chunk (OPC 10000-6 §6.7.2.2)");

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            var offset = 0;
            for (var i = 0; i < chunkCount; i++)
            {
                var size = Math.Min(maxBody, total - offset);
                var tokenId = SendTokenId;
                var length = Security.ProtectedLength(headerSize - 8, headerSize + size, asymmetric);
                var chunk = new byte[Math.Max(length, headerSize + size)];
                var p = UaTcpFraming.HeaderSize;
                BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(p), ChannelId);
                p += 4;
                securityHeader.WrittenSpan.CopyTo(chunk.AsSpan(p));
                p += securityHeader.WrittenCount;
                if (!asymmetric)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(p), tokenId);
                    p += 4;
                }

                var securityHeaderEnd = p;

                // Sequence header: 00-03 SequenceNumber, 04-07 RequestId (OPC 10000-6 §6.7.2.4).
                BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(p), NextSequenceNumber());
                BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(p + 4), requestId);
                p += 8;
                body.WrittenSpan.Slice(offset, size).CopyTo(chunk.AsSpan(p));
                offset += size;
                // The signature covers the header, so the final size goes in before protecting (OPC 10000-6 §6.7.2.2).
                UaTcpFraming.WriteHeader(chunk, type, i == chunkCount - 1 ? (byte)'F' : (byte)'C', length);
                Security.Protect(chunk, securityHeaderEnd, p + size, asymmetric, tokenId);
                await _stream.WriteAsync(chunk.AsMemory(0, length), cancellationToken);
            }

            await _stream.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            var failure = new UaException(StatusCodes.BadCommunicationError, "Sending failed: " + ex.Message, ex);
            Break(failure);
            throw failure;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private uint NextSequenceNumber()
    {
        // Sequence numbers wrap to a value below 1024 after UInt32.MaxValue - 1024 (OPC 10000-6 §6.7.2.4).
        _sendSequence = _sendSequence >= uint.MaxValue - 1024 ? 1 : _sendSequence + 1;
        return _sendSequence;
    }

    /// <summary>Runs the receive loop until the channel closes; every failure goes through <see cref="Break"/>.</summary>
    protected async Task ReceiveLoopAsync()
    {
        try
        {
            while (!Lifetime.IsCancellationRequested)
            {
                var chunk = await ReadChunkAsync(Lifetime);
                switch (chunk.MessageType)
                {
                    case UaMessageType.Error:
                        var error = UaError.DecodeBody(chunk.Data.AsSpan(UaTcpFraming.HeaderSize));
                        throw new UaException(error.Error, "Peer sent Error: " + error.Reason);
                    case UaMessageType.Hello:
                    case UaMessageType.Acknowledge:
                    case UaMessageType.ReverseHello:
                        throw new UaException(StatusCodes.BadTcpMessageTypeInvalid, $"Unexpected {chunk.MessageType} on an open connection (OPC 10000-6 §7.1.2)");
                    default:
                        await HandleSecureChunkAsync(chunk);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (Lifetime.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            var failure = ex as UaException ?? new UaException(StatusCodes.BadCommunicationError, ex.Message, ex);
            await OnFatalErrorAsync(failure);
            Break(failure);
        }
    }

    /// <summary>Called before a receive failure breaks the channel; the server side sends an Error message (OPC 10000-6 §7.1.2.5).</summary>
    protected virtual Task OnFatalErrorAsync(UaException error) => Task.CompletedTask;

    private async Task HandleSecureChunkAsync(UaChunk chunk)
    {
        var (requestId, body, complete) = ParseSecureChunk(chunk);
        if (chunk.ChunkType == 'A')
        {
            OnAbort(requestId, UaError.DecodeBody(body.Span));
            return;
        }

        if (!complete)
            return;
        IUaEncodeable message;
        try
        {
            message = DecodeMessage(body.Span, Limits.Decoding);
        }
        catch (UaDecodingException ex)
        {
            await OnUndecodableMessageAsync(chunk.MessageType, requestId, body, ex);
            return;
        }

        await OnMessageAsync(chunk.MessageType, requestId, message);
    }

    private static IUaEncodeable DecodeMessage(ReadOnlySpan<byte> body, UaDecodingLimits limits)
    {
        var reader = new UaBinaryReader(body, limits);
        return reader.ReadMessage();
    }

    // 00-07 message header; 08-0B SecureChannelId; security header (asymmetric for OPN, TokenId otherwise);
    // then SequenceNumber, RequestId and the body part (OPC 10000-6 §6.7.2.2).
    private (uint RequestId, ReadOnlyMemory<byte> Body, bool Complete) ParseSecureChunk(UaChunk chunk)
    {
        var asymmetric = chunk.MessageType == UaMessageType.OpenChannel;
        uint channelId;
        uint tokenId = 0;
        int securityHeaderEnd;
        {
            var r = new UaBinaryReader(chunk.Data.AsSpan(UaTcpFraming.HeaderSize));
            channelId = r.ReadUInt32();
            if (asymmetric)
            {
                var policy = r.ReadString() ?? "";
                var senderCertificate = r.ReadByteString();
                var receiverThumbprint = r.ReadByteString();
                SelectSecurity(policy);
                if (!string.Equals(policy, Security.PolicyUri, StringComparison.Ordinal))
                    throw new UaException(StatusCodes.BadSecurityPolicyRejected, $"Security policy '{policy}' is not '{Security.PolicyUri}' (OPC 10000-6 §6.7.2.3)");
                Security.OnAsymmetricHeader(policy, senderCertificate, receiverThumbprint);
            }
            else
            {
                tokenId = r.ReadUInt32();
            }

            securityHeaderEnd = UaTcpFraming.HeaderSize + r.Position;
        }

        ValidateChannel(chunk.MessageType, channelId, tokenId);
        var range = Security.Unprotect(chunk.Data, securityHeaderEnd, asymmetric, tokenId);
        var plain = chunk.Data.AsMemory(range);
        if (plain.Length < 8)
            throw new UaDecodingException("Chunk too short for the sequence header (OPC 10000-6 §6.7.2.4)");
        var sequence = BinaryPrimitives.ReadUInt32LittleEndian(plain.Span);
        var requestId = BinaryPrimitives.ReadUInt32LittleEndian(plain.Span[4..]);
        CheckSequence(sequence);
        var part = plain[8..];
        if (chunk.ChunkType == 'A')
        {
            _partials.Remove(requestId);
            return (requestId, part, false);
        }

        _partials.TryGetValue(requestId, out var partial);
        if (partial is null && chunk.ChunkType == 'F')
            return (requestId, part, true);
        partial ??= _partials[requestId] = new PartialMessage();
        partial.Chunks++;
        partial.Buffer.Write(part.Span);
        if (partial.Chunks > MaxReceiveChunkCount || partial.Buffer.WrittenCount > MaxReceiveMessageSize)
        {
            _partials.Remove(requestId);
            throw new UaException(StatusCodes.BadTcpMessageTooLarge, $"Message {requestId} exceeds {MaxReceiveChunkCount} chunks or {MaxReceiveMessageSize} bytes (OPC 10000-6 §6.7.2.2)");
        }

        if (chunk.ChunkType == 'C')
            return (requestId, default, false);
        _partials.Remove(requestId);
        return (requestId, partial.Buffer.WrittenMemory, true);
    }

    private void CheckSequence(uint sequence)
    {
        if (_lastReceivedSequence is { } last)
        {
            var expected = last + 1;
            var wrapped = last >= uint.MaxValue - 1024 && sequence < 1024;
            if (sequence != expected && !wrapped)
                throw new UaException(StatusCodes.BadSequenceNumberInvalid, $"Sequence number {sequence} after {last} (OPC 10000-6 §6.7.2.4)");
        }

        _lastReceivedSequence = sequence;
    }

    /// <summary>Called with the SecurityPolicyUri of every received OpenSecureChannel chunk; a server picks its policy here.</summary>
    protected virtual void SelectSecurity(string policyUri)
    {
    }

    /// <summary>Checks the SecureChannelId and TokenId of a received chunk; throws to break the channel.</summary>
    protected abstract void ValidateChannel(UaMessageType type, uint channelId, uint tokenId);

    /// <summary>A complete message arrived.</summary>
    protected abstract ValueTask OnMessageAsync(UaMessageType type, uint requestId, IUaEncodeable message);

    /// <summary>The peer aborted a multi-chunk message.</summary>
    protected abstract void OnAbort(uint requestId, UaError error);

    /// <summary>A complete message could not be decoded; the channel stays open.</summary>
    protected abstract ValueTask OnUndecodableMessageAsync(UaMessageType type, uint requestId, ReadOnlyMemory<byte> body, UaDecodingException error);

    /// <summary>Closes the socket and ends the channel without sending anything.</summary>
    public virtual ValueTask DisposeAsync()
    {
        CloseQuietly();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private sealed class PartialMessage
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new();

        public int Chunks { get; set; }
    }
}
