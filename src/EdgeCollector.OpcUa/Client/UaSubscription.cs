using System.Collections.Concurrent;
using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Client;

/// <summary>Parameters of a subscription (OPC 10000-4 §5.13.2).</summary>
public sealed record UaSubscriptionOptions
{
    /// <summary>Publishing interval.</summary>
    public TimeSpan PublishingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Publishing intervals without data before the server sends a keep-alive.</summary>
    public uint MaxKeepAliveCount { get; init; } = 10;

    /// <summary>Publishing intervals without a publish request before the server drops the subscription (≥ 3 × keep-alive).</summary>
    public uint LifetimeCount { get; init; } = 60;

    /// <summary>Most notifications per publish (0 = no limit).</summary>
    public uint MaxNotificationsPerPublish { get; init; }

    /// <summary>Relative priority.</summary>
    public byte Priority { get; init; }
}

/// <summary>One item to monitor (OPC 10000-4 §5.12.2).</summary>
public sealed record UaMonitoredItemRequest
{
    /// <summary>The node; its Value attribute is monitored.</summary>
    public required NodeId NodeId { get; init; }

    /// <summary>Sampling interval; null uses the publishing interval.</summary>
    public TimeSpan? SamplingInterval { get; init; }

    /// <summary>Queue size on the server.</summary>
    public uint QueueSize { get; init; } = 1;

    /// <summary>Deadband kind.</summary>
    public DeadbandType Deadband { get; init; } = DeadbandType.None;

    /// <summary>Deadband value (engineering units for Absolute, percent of EURange for Percent).</summary>
    public double DeadbandValue { get; init; }

    /// <summary>What counts as a change.</summary>
    public DataChangeTrigger Trigger { get; init; } = DataChangeTrigger.StatusValue;
}

/// <summary>A data change delivered to a subscription callback.</summary>
/// <param name="NodeId">The monitored node.</param>
/// <param name="Value">Value, StatusCode and source/server timestamps as sent by the server.</param>
/// <param name="AfterGap">True for the first value of each item after data may have been lost (reconnect, server restart, missing sequence numbers).</param>
public sealed record UaDataChange(NodeId NodeId, DataValue Value, bool AfterGap);

/// <summary>The server-side state of one monitored item as created.</summary>
/// <param name="Request">What was asked for.</param>
/// <param name="ClientHandle">The handle the server echoes.</param>
/// <param name="MonitoredItemId">Server id (changes when recreated).</param>
/// <param name="Status">Result of CreateMonitoredItems.</param>
public sealed record UaMonitoredItem(UaMonitoredItemRequest Request, uint ClientHandle, uint MonitoredItemId, StatusCode Status);

/// <summary>
/// A subscription owned by a <see cref="UaClient"/>. Values arrive through the callback given to
/// <see cref="UaClient.SubscribeAsync"/>; keep-alives through <see cref="KeepAlive"/>. Survives reconnects:
/// the client re-activates, transfers or recreates it and flags the gap.
/// </summary>
public sealed class UaSubscription
{
    private readonly ConcurrentDictionary<uint, UaMonitoredItem> _items = new();
    private readonly ConcurrentDictionary<uint, bool> _gapPending = new();
    private readonly Action<UaDataChange> _callback;
    private uint _lastSequenceNumber;
    private long _lastMessageTicks;

    internal UaSubscription(UaSubscriptionOptions options, Action<UaDataChange> callback)
    {
        Options = options;
        _callback = callback;
        Touch();
    }

    /// <summary>Requested parameters.</summary>
    public UaSubscriptionOptions Options { get; }

    /// <summary>Server id of the subscription (changes when recreated).</summary>
    public uint SubscriptionId { get; internal set; }

    /// <summary>Publishing interval revised by the server.</summary>
    public TimeSpan RevisedPublishingInterval { get; internal set; }

    /// <summary>Keep-alive count revised by the server.</summary>
    public uint RevisedMaxKeepAliveCount { get; internal set; }

    /// <summary>Lifetime count revised by the server.</summary>
    public uint RevisedLifetimeCount { get; internal set; }

    /// <summary>The monitored items by client handle.</summary>
    public IReadOnlyCollection<UaMonitoredItem> Items => _items.Values.ToArray();

    /// <summary>Times a gap was flagged (reconnect, recreate or lost notifications).</summary>
    public int GapCount { get; private set; }

    /// <summary>UTC time of the last publish response (data or keep-alive) for this subscription.</summary>
    public DateTime LastMessageAt => new(Interlocked.Read(ref _lastMessageTicks), DateTimeKind.Utc);

    /// <summary>
    /// Raised on each keep-alive and each data message with its publish time, so a source can re-report
    /// unchanged values of a live subscription (product.md "Unchanged values are still readings").
    /// </summary>
    public event Action<UaSubscription, DateTime>? KeepAlive;

    /// <summary>Raised when a gap is flagged, with the reason.</summary>
    public event Action<UaSubscription, string>? Gap;

    /// <summary>How long without any publish response before the watchdog declares the subscription dead.</summary>
    public TimeSpan WatchdogTimeout
    {
        get
        {
            var interval = RevisedPublishingInterval > TimeSpan.Zero ? RevisedPublishingInterval : Options.PublishingInterval;
            var keepAlive = Math.Max(1u, RevisedMaxKeepAliveCount > 0 ? RevisedMaxKeepAliveCount : Options.MaxKeepAliveCount);
            return interval * keepAlive * 1.5 + TimeSpan.FromSeconds(2);
        }
    }

    internal uint LastSequenceNumber => _lastSequenceNumber;

    internal void Touch() => Interlocked.Exchange(ref _lastMessageTicks, DateTime.UtcNow.Ticks);

    internal void AddItem(UaMonitoredItem item) => _items[item.ClientHandle] = item;

    internal void ResetItems() => _items.Clear();

    internal void FlagGap(string reason)
    {
        GapCount++;
        foreach (var handle in _items.Keys)
            _gapPending[handle] = true;
        Gap?.Invoke(this, reason);
    }

    internal void ResetSequence() => _lastSequenceNumber = 0;

    /// <summary>
    /// Processes one NotificationMessage. Returns the missing sequence numbers when the sequence skipped
    /// (the caller may Republish them); a keep-alive carries the next number without consuming it.
    /// </summary>
    internal IReadOnlyList<uint> Process(NotificationMessage message, bool isKeepAlive)
    {
        Touch();
        var missing = new List<uint>();
        if (!isKeepAlive)
        {
            if (_lastSequenceNumber != 0 && message.SequenceNumber > _lastSequenceNumber + 1)
            {
                for (var s = _lastSequenceNumber + 1; s < message.SequenceNumber && missing.Count < 100; s++)
                    missing.Add(s);
            }

            if (message.SequenceNumber > _lastSequenceNumber)
                _lastSequenceNumber = message.SequenceNumber;
            Deliver(message);
        }
        else if (_lastSequenceNumber != 0 && message.SequenceNumber > _lastSequenceNumber + 1)
        {
            // A keep-alive names the next sequence number to be used (OPC 10000-4 §5.13.1.1).
            for (var s = _lastSequenceNumber + 1; s < message.SequenceNumber && missing.Count < 100; s++)
                missing.Add(s);
        }

        KeepAlive?.Invoke(this, message.PublishTime);
        return missing;
    }

    internal void Deliver(NotificationMessage message)
    {
        foreach (var data in message.NotificationData ?? [])
        {
            if (data?.Body is not DataChangeNotification change)
                continue;
            foreach (var n in change.MonitoredItems ?? [])
            {
                if (!_items.TryGetValue(n.ClientHandle, out var item))
                    continue;
                var gap = _gapPending.TryRemove(n.ClientHandle, out _);
                _callback(new UaDataChange(item.Request.NodeId, n.Value, gap));
            }
        }
    }
}
