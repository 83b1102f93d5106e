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
    private readonly SemaphoreSlim _wake = new(0);
    private int _wakePending;
    private readonly Channel<long> _acked = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<long, byte> _ackedNotDeleted = new();
    private readonly CancellationTokenSource _stop = new();
    private Task _publishLoop = Task.CompletedTask;
    private Task _deleteLoop = Task.CompletedTask;
    private long _published;
    private long _rejected;

    /// <param name="client">A client kept connected by <see cref="MqttClient.StartAsync"/>.</param>
    /// <param name="outbox">The durable store.</param>
    /// <param name="maxInFlight">
    /// Most messages handed to the client and not yet settled (acknowledged or failed) at once; the client's own
    /// MaxInFlight (or the broker's Receive Maximum) bounds how many of them are on the wire awaiting PUBACK.
    /// </param>
    /// <param name="log">Optional log sink.</param>
    public OutboxPublisher(MqttClient client, MqttOutbox outbox, int maxInFlight = 256, MqttLogCallback? log = null)
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

    /// <summary>
    /// Publish latency of every acknowledged message: from its commit to the outbox to the broker's PUBACK
    /// (wall clock), so time spent waiting out a broker outage is included.
    /// </summary>
    public LatencyHistogram PublishLatency { get; } = new();

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
        // One release per wait of the publish loop; a burst of enqueues does not pile up releases.
        if (Interlocked.Exchange(ref _wakePending, 1) == 0) _wake.Release();
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

    /// <summary>
    /// Publishes from the oldest stored message on while this connection lives. Up to <c>maxInFlight</c> messages
    /// are handed to the client at once (it keeps its own window toward the broker and writes whatever is queued
    /// in one socket write); the stored messages are read in chunks of at least a quarter of that, and each
    /// publish is followed by a callback rather than an awaiting task, so a message costs no task or thread hop
    /// of its own here.
    /// </summary>
    private async Task DrainOneConnectionAsync(long epoch, CancellationToken stop)
    {
        var scope = new DrainScope(this);
        int refill = Math.Max(1, _maxInFlight / 4);
        long cursor = 0;
        try
        {
            while (!scope.Lost && !stop.IsCancellationRequested && _client.ConnectionEpoch == epoch && _client.State == MqttConnectionState.Connected)
            {
                int free = _maxInFlight - Volatile.Read(ref scope.Outstanding);
                if (free < refill)
                {
                    // Wait for completions to free a chunk of the window (the last one to do so releases the signal).
                    await scope.Freed.WaitAsync(TimeSpan.FromMilliseconds(250), stop);
                    continue;
                }
                var batch = await _outbox.ReadAfterAsync(cursor, free, stop);
                if (batch.Count == 0)
                {
                    // Nothing stored beyond the cursor: wait for an enqueue. The flag is cleared before the next read,
                    // so an enqueue committed after that read signals again.
                    if (await _wake.WaitAsync(TimeSpan.FromMilliseconds(250), stop)) Volatile.Write(ref _wakePending, 0);
                    continue;
                }
                foreach (var message in batch)
                {
                    cursor = message.Seq;
                    if (scope.Lost) break;
                    if (_ackedNotDeleted.ContainsKey(message.Seq)) continue;
                    scope.Start(message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: what is in flight still settles below (acknowledged, or failed with the connection).
        }
        finally
        {
            // This connection is done (lost, replaced, stopping, or the store failed): wait until every handed-over
            // publish has settled, so the next round does not send a message that is still in flight here. The
            // client fails them all when its connection breaks; a stop waits at most 10 s.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Volatile.Read(ref scope.Outstanding) > 0 && (!stop.IsCancellationRequested || DateTime.UtcNow < deadline))
                await scope.Freed.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None);
        }
    }

    /// <summary>The publishes handed to one connection: how many are outstanding, and whether the connection was lost.</summary>
    private sealed class DrainScope(OutboxPublisher owner)
    {
        private static readonly Action<Task, object?> s_onSettled = (task, state) => ((Pending)state!).Scope.OnSettled(task, ((Pending)state!).Message);

        public int Outstanding;
        private volatile bool _lost;
        public bool Lost => _lost;

        /// <summary>Released when the outstanding count falls to the refill mark or to zero, or the connection is lost.</summary>
        public SemaphoreSlim Freed { get; } = new(0);

        private sealed record Pending(DrainScope Scope, OutboxMessage Message);

        public void Start(OutboxMessage message)
        {
            Interlocked.Increment(ref Outstanding);
            Task task;
            try
            {
                task = owner._client.PublishAsync(message.Topic, message.Payload, MqttQualityOfService.AtLeastOnce, message.Retain, dup: false, CancellationToken.None);
            }
            catch (Exception ex)
            {
                task = Task.FromException(ex);
            }
            task.ContinueWith(s_onSettled, new Pending(this, message), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        private void OnSettled(Task task, OutboxMessage message)
        {
            if (!owner.Settle(task, message)) _lost = true;
            int left = Interlocked.Decrement(ref Outstanding);
            if (_lost || left == 0 || left == owner._maxInFlight - Math.Max(1, owner._maxInFlight / 4)) Freed.Release();
        }
    }

    /// <summary>
    /// Books the outcome of one publish: acknowledged (or refused for good) → deleted; connection lost or not
    /// sendable now → stays stored. Returns false when this connection should stop sending.
    /// </summary>
    private bool Settle(Task task, OutboxMessage message)
    {
        if (task.IsCompletedSuccessfully)
        {
            Interlocked.Increment(ref _published);
            if (message.EnqueuedAtUnixMs > 0)
            {
                PublishLatency.Record((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - message.EnqueuedAtUnixMs) / 1000.0);
            }
            Acknowledged(message.Seq);
            return true;
        }
        var ex = task.Exception?.InnerException ?? new OperationCanceledException();
        switch (ex)
        {
            case MqttPublishRejectedException:
                Interlocked.Increment(ref _rejected);
                _log?.Invoke(MqttLogLevel.Error, $"Broker rejected outbox message seq {message.Seq} on '{message.Topic}'; it is removed: {ex.Message}", ex);
                Acknowledged(message.Seq);
                return true;
            case MqttConnectionLostException or OperationCanceledException:
                // Stays stored; re-sent on the next connection.
                return false;
            case NotSupportedException:
                // The broker cannot take it as stored (e.g. v5 Maximum QoS 0): keep it, say so once per connection.
                _log?.Invoke(MqttLogLevel.Error, $"Outbox message seq {message.Seq} on '{message.Topic}' kept: {ex.Message}", ex);
                return false;
            case ArgumentException:
                // Cannot be encoded (e.g. larger than the broker's maximum packet size): it would never go out.
                Interlocked.Increment(ref _rejected);
                _log?.Invoke(MqttLogLevel.Error, $"Outbox message seq {message.Seq} on '{message.Topic}' cannot be sent and is removed: {ex.Message}", ex);
                Acknowledged(message.Seq);
                return true;
            default:
                _log?.Invoke(MqttLogLevel.Error, $"Outbox message seq {message.Seq} on '{message.Topic}' failed; it stays stored: {ex.Message}", ex);
                return false;
        }
    }

    private void Acknowledged(long seq)
    {
        _ackedNotDeleted.TryAdd(seq, 0);
        _acked.Writer.TryWrite(seq);
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
