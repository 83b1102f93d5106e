using System.Collections.Concurrent;
using System.Threading.Channels;
using EdgeCollector.Mqtt.Client;
using EdgeCollector.Mqtt.Packets;

namespace EdgeCollector.Mqtt.Outbox;

/// <summary>
/// Ties an <see cref="MqttClient"/> to an <see cref="MqttOutbox"/>: every message is enqueued durably, then a
/// background loop publishes the stored messages at QoS 1, oldest seq first, keeping up to
/// <c>maxInFlight</c> unacknowledged, and deletes each one after its PUBACK. On every new connection the loop
/// starts again from the oldest stored message, so a backlog drains first and live messages queue behind it.
/// A message may therefore arrive twice (at-least-once), always with identical bytes.
/// </summary>
public sealed class OutboxPublisher : IAsyncDisposable
{
    private readonly MqttClient _client;
    private readonly MqttOutbox _outbox;
    private readonly int _maxInFlight;
    private readonly MqttLogCallback? _log;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly Channel<long> _acked = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, byte> _ackedNotDeleted = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _publishLoop = Task.CompletedTask;
    private Task _deleteLoop = Task.CompletedTask;
    private long _published;
    private long _rejected;

    /// <param name="client">A client kept connected by <see cref="MqttClient.StartAsync"/>.</param>
    /// <param name="outbox">The durable store.</param>
    /// <param name="maxInFlight">Most messages awaiting PUBACK at once.</param>
    /// <param name="log">Optional log sink.</param>
    public OutboxPublisher(MqttClient client, MqttOutbox outbox, int maxInFlight = 32, MqttLogCallback? log = null)
    {
        _client = client;
        _outbox = outbox;
        _maxInFlight = Math.Max(1, maxInFlight);
        _log = log;
    }

    /// <summary>Messages acknowledged by the broker and deleted (or about to be).</summary>
    public long PublishedCount => Interlocked.Read(ref _published);

    /// <summary>Messages the broker refused with a v5 reason code ≥ 0x80; they are logged and deleted.</summary>
    public long RejectedCount => Interlocked.Read(ref _rejected);

    /// <summary>The underlying outbox (counts, drops).</summary>
    public MqttOutbox Outbox => _outbox;

    /// <summary>Starts the publish and delete loops.</summary>
    public void Start()
    {
        _publishLoop = Task.Run(() => PublishLoopAsync(_stop.Token));
        _deleteLoop = Task.Run(() => DeleteLoopAsync(_stop.Token));
    }

    /// <summary>Stores the message durably and returns its seq once committed (-1 if the full outbox dropped it).</summary>
    public async Task<long> EnqueueAsync(string topic, ReadOnlyMemory<byte> payload, bool retain, OutboxPriority priority, CancellationToken cancellationToken = default)
    {
        long seq = await _outbox.EnqueueAsync(topic, payload, retain, priority, cancellationToken);
        Wake();
        return seq;
    }

    /// <summary>As the other overload, building the payload from the seq assigned to it (so the seq is inside the stored bytes).</summary>
    public async Task<long> EnqueueAsync(string topic, Func<long, byte[]> buildPayload, bool retain, OutboxPriority priority, CancellationToken cancellationToken = default)
    {
        long seq = await _outbox.EnqueueAsync(topic, buildPayload, retain, priority, cancellationToken);
        Wake();
        return seq;
    }

    /// <summary>Stores several messages in one transaction (see <see cref="MqttOutbox.EnqueueBatchAsync"/>).</summary>
    public async Task<long[]> EnqueueBatchAsync(IReadOnlyList<(string Topic, ReadOnlyMemory<byte> Payload, bool Retain, OutboxPriority Priority)> messages, CancellationToken cancellationToken = default)
    {
        long[] seqs = await _outbox.EnqueueBatchAsync(messages, cancellationToken);
        Wake();
        return seqs;
    }

    /// <summary>Waits until every stored message has been acknowledged and deleted; false on timeout.</summary>
    public async Task<bool> WaitUntilEmptyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_outbox.Count == 0) return true;
            await Task.Delay(25, cancellationToken);
        }
        return _outbox.Count == 0;
    }

    private void Wake()
    {
        try { _wake.Release(); } catch (SemaphoreFullException) { }
    }

    private async Task PublishLoopAsync(CancellationToken stop)
    {
        long brokenEpoch = -1;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _client.WaitConnectedAsync(stop);
                long epoch = _client.ConnectionEpoch;
                if (epoch == brokenEpoch || _client.State != MqttConnectionState.Connected)
                {
                    await Task.Delay(50, stop);
                    continue;
                }
                await DrainOneConnectionAsync(epoch, stop);
                brokenEpoch = epoch;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log?.Invoke(MqttLogLevel.Error, "Outbox publish loop fault; retrying", ex);
                try { await Task.Delay(500, stop); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Publishes from the oldest stored message on while this connection lives.</summary>
    private async Task DrainOneConnectionAsync(long epoch, CancellationToken stop)
    {
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var inFlight = new List<Task>();
        long cursor = 0;
        try
        {
            while (!lost.IsCancellationRequested && _client.ConnectionEpoch == epoch && _client.State == MqttConnectionState.Connected)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                if (inFlight.Count >= _maxInFlight)
                {
                    await Task.WhenAny(inFlight).WaitAsync(lost.Token);
                    continue;
                }
                var batch = await _outbox.ReadAfterAsync(cursor, _maxInFlight - inFlight.Count, stop);
                if (batch.Count == 0)
                {
                    await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), lost.Token);
                    continue;
                }
                foreach (var message in batch)
                {
                    cursor = message.Seq;
                    if (_ackedNotDeleted.ContainsKey(message.Seq)) continue;
                    inFlight.Add(PublishOneAsync(message, lost));
                }
            }
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // This connection is gone; the next one starts again from the oldest message.
        }
        try { await Task.WhenAll(inFlight); } catch (Exception) { /* each task logs its own outcome */ }
    }

    private async Task PublishOneAsync(OutboxMessage message, CancellationTokenSource connectionLost)
    {
        try
        {
            await _client.PublishAsync(message.Topic, message.Payload, MqttQualityOfService.AtLeastOnce, message.Retain, connectionLost.Token);
            Interlocked.Increment(ref _published);
            _ackedNotDeleted.TryAdd(message.Seq, 0);
            _acked.Writer.TryWrite(message.Seq);
        }
        catch (MqttPublishRejectedException ex)
        {
            Interlocked.Increment(ref _rejected);
            _log?.Invoke(MqttLogLevel.Error, $"Broker rejected outbox message seq {message.Seq} on '{message.Topic}'; it is removed: {ex.Message}", ex);
            _ackedNotDeleted.TryAdd(message.Seq, 0);
            _acked.Writer.TryWrite(message.Seq);
        }
        catch (Exception ex) when (ex is MqttConnectionLostException or OperationCanceledException)
        {
            // Stays stored; re-sent on the next connection.
            try { await connectionLost.CancelAsync(); } catch (ObjectDisposedException) { }
        }
        catch (NotSupportedException ex)
        {
            // The broker cannot take it as stored (e.g. v5 Maximum QoS 0): keep it, say so once per connection.
            _log?.Invoke(MqttLogLevel.Error, $"Outbox message seq {message.Seq} on '{message.Topic}' kept: {ex.Message}", ex);
            try { await connectionLost.CancelAsync(); } catch (ObjectDisposedException) { }
        }
        catch (ArgumentException ex)
        {
            // Cannot be encoded (e.g. larger than the broker's maximum packet size): it would never go out.
            Interlocked.Increment(ref _rejected);
            _log?.Invoke(MqttLogLevel.Error, $"Outbox message seq {message.Seq} on '{message.Topic}' cannot be sent and is removed: {ex.Message}", ex);
            _ackedNotDeleted.TryAdd(message.Seq, 0);
            _acked.Writer.TryWrite(message.Seq);
        }
    }

    private async Task DeleteLoopAsync(CancellationToken stop)
    {
        var batch = new List<long>();
        try
        {
            while (await _acked.Reader.WaitToReadAsync(stop))
            {
                while (batch.Count < 1000 && _acked.Reader.TryRead(out long seq)) batch.Add(seq);
                try
                {
                    await _outbox.DeleteAsync(batch, CancellationToken.None);
                    foreach (long seq in batch) _ackedNotDeleted.TryRemove(seq, out _);
                }
                catch (Exception ex)
                {
                    // Not deleted: they stay stored and may be sent once more (identical bytes).
                    _log?.Invoke(MqttLogLevel.Error, "Outbox delete failed", ex);
                    foreach (long seq in batch) _ackedNotDeleted.TryRemove(seq, out _);
                }
                batch.Clear();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops the loops. Stored messages stay in the outbox for the next start.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _publishLoop; } catch (OperationCanceledException) { }
        // Deletes for messages already acknowledged are still written.
        _acked.Writer.TryComplete();
        var remaining = new List<long>();
        while (_acked.Reader.TryRead(out long seq)) remaining.Add(seq);
        try { await _deleteLoop; } catch (OperationCanceledException) { }
        if (remaining.Count > 0) await _outbox.DeleteAsync(remaining);
        _stop.Dispose();
    }
}
