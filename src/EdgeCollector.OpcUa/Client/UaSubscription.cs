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

    /// <summary>
    /// The least time the subscription outlives its client on the server: the requested lifetime count is raised
    /// to cover it. With a fast publishing interval 60 intervals are gone within one reconnect (at 17 ms ≈ 1 s),
    /// and a server that drops the subscription meanwhile leaves a restored session without it.
    /// </summary>
    public TimeSpan MinLifetime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The lifetime count requested for a publishing interval: the largest of <see cref="LifetimeCount"/>, 3 × keep-alive and <see cref="MinLifetime"/>.</summary>
    public uint LifetimeCountFor(TimeSpan publishingInterval, uint maxKeepAliveCount)
    {
        var count = Math.Max(LifetimeCount, maxKeepAliveCount * 3);
        if (publishingInterval > TimeSpan.Zero && MinLifetime > TimeSpan.Zero)
            count = (uint)Math.Min(uint.MaxValue, Math.Max(count, Math.Ceiling(MinLifetime / publishingInterval)));
        return count;
    }

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

/// <summary>
/// Receives each data change of a subscription without an allocation per value (see
/// <see cref="UaClient.SubscribeAsync(UaSubscriptionOptions, IReadOnlyList{UaMonitoredItemRequest}, UaValueHandler, CancellationToken)"/>).
/// Called one value at a time in the server's order, usually on the connection's receive loop: it must not block
/// (hand values over to another thread or a channel), since nothing else is received on the connection meanwhile.
/// </summary>
/// <param name="item">The monitored item; its <see cref="UaMonitoredItem.ClientHandle"/> is 1 + its position in the
/// order the items were added to the subscription, so it can index the caller's own arrays.</param>
/// <param name="value">Value, StatusCode and timestamps; valid only during the call.</param>
/// <param name="afterGap">True for the first value of the item after data may have been lost.</param>
public delegate void UaValueHandler(UaMonitoredItem item, in UaValue value, bool afterGap);

/// <summary>The server-side state of one monitored item as created.</summary>
/// <param name="Request">What was asked for.</param>
/// <param name="ClientHandle">The handle the server echoes: 1 + the item's position in the order items were added to its subscription.</param>
/// <param name="MonitoredItemId">Server id (changes when recreated).</param>
/// <param name="Status">Result of CreateMonitoredItems.</param>
public sealed record UaMonitoredItem(UaMonitoredItemRequest Request, uint ClientHandle, uint MonitoredItemId, StatusCode Status);

/// <summary>
/// A subscription owned by a <see cref="UaClient"/>. Values arrive through the callback given to
/// <see cref="UaClient.SubscribeAsync(UaSubscriptionOptions, IReadOnlyList{UaMonitoredItemRequest}, Action{UaDataChange}, CancellationToken)"/>;
/// keep-alives through <see cref="KeepAlive"/>. Survives reconnects: the client re-activates, transfers or
/// recreates it and flags the gap.
/// </summary>
public sealed class UaSubscription
{
    private static readonly uint[] NoneMissing = [];

    // Items by client handle - 1 (handles are assigned by this subscription, 1, 2, 3…), with a gap flag per item.
    // Replaced as a whole (under _gate) when it grows; the notification thread reads the current table lock-free.
    private sealed class ItemTable(int capacity)
    {
        public readonly UaMonitoredItem?[] Items = new UaMonitoredItem?[capacity];
        public readonly int[] GapPending = new int[capacity];
    }

    private readonly object _gate = new();
    private readonly Action<UaDataChange>? _callback;
    private readonly UaValueHandler? _handler;
    private ItemTable _table = new(0);
    private int _handleCount;
    private int _gapsPending;
    private uint _lastSequenceNumber;
    private long _lastMessageTicks;
    private long _unknownHandles;
    private long _callbackErrors;

    internal UaSubscription(UaSubscriptionOptions options, Action<UaDataChange> callback)
    {
        Options = options;
        _callback = callback;
        Touch();
    }

    internal UaSubscription(UaSubscriptionOptions options, UaValueHandler handler)
    {
        Options = options;
        _handler = handler;
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

    /// <summary>The monitored items, in client handle order.</summary>
    public IReadOnlyCollection<UaMonitoredItem> Items
    {
        get
        {
            var table = Volatile.Read(ref _table);
            return table.Items.Where(i => i is not null).ToArray()!;
        }
    }

    /// <summary>Times a gap was flagged (reconnect, recreate or lost notifications).</summary>
    public int GapCount { get; private set; }

    /// <summary>Values received for a client handle that is not an item of this subscription (dropped).</summary>
    public long UnknownHandleCount => Interlocked.Read(ref _unknownHandles);

    /// <summary>Values whose callback threw (the exception is swallowed so the other values are still delivered).</summary>
    public long CallbackErrorCount => Interlocked.Read(ref _callbackErrors);

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

    /// <summary>Reserves <paramref name="count"/> consecutive client handles and returns the first.</summary>
    internal uint ReserveHandles(int count)
    {
        lock (_gate)
        {
            var first = (uint)_handleCount + 1;
            _handleCount = checked(_handleCount + count);
            var table = _table;
            if (_handleCount > table.Items.Length)
            {
                var grown = new ItemTable(Math.Max(_handleCount, table.Items.Length * 2));
                table.Items.CopyTo(grown.Items, 0);
                table.GapPending.CopyTo(grown.GapPending, 0);
                Volatile.Write(ref _table, grown);
            }

            return first;
        }
    }

    internal void AddItem(UaMonitoredItem item)
    {
        lock (_gate)
        {
            var slot = (int)item.ClientHandle - 1;
            if (slot < 0 || slot >= _handleCount)
                throw new ArgumentOutOfRangeException(nameof(item), $"Client handle {item.ClientHandle} was not reserved");
            Volatile.Write(ref _table.Items[slot], item);
        }
    }

    internal void ResetItems()
    {
        lock (_gate)
            Array.Clear(_table.Items);
    }

    internal void FlagGap(string reason)
    {
        lock (_gate)
        {
            GapCount++;
            var table = _table;
            for (var i = 0; i < table.Items.Length; i++)
            {
                if (table.Items[i] is not null && Interlocked.Exchange(ref table.GapPending[i], 1) == 0)
                    Interlocked.Increment(ref _gapsPending);
            }
        }

        Gap?.Invoke(this, reason);
    }

    internal void ResetSequence() => _lastSequenceNumber = 0;

    /// <summary>The items of a recreation that has not finished yet (null when the server has them all).</summary>
    internal (uint Handle, UaMonitoredItemRequest Request)[]? PendingRecreate { get; set; }

    /// <summary>
    /// Processes one NotificationMessage. Returns the missing sequence numbers when the sequence skipped
    /// (the caller may Republish them); a keep-alive carries the next number without consuming it.
    /// </summary>
    internal IReadOnlyList<uint> Process(NotificationMessage message, bool isKeepAlive)
    {
        Touch();
        IReadOnlyList<uint> missing = NoneMissing;
        if (_lastSequenceNumber != 0 && message.SequenceNumber > _lastSequenceNumber + 1)
        {
            // A keep-alive names the next sequence number to be used (OPC 10000-4 §5.13.1.1).
            var list = new List<uint>();
            for (var s = _lastSequenceNumber + 1; s < message.SequenceNumber && list.Count < 100; s++)
                list.Add(s);
            missing = list;
        }

        if (!isKeepAlive)
        {
            if (message.SequenceNumber > _lastSequenceNumber)
                _lastSequenceNumber = message.SequenceNumber;
            Deliver(message);
        }

        KeepAlive?.Invoke(this, message.PublishTime);
        return missing;
    }

    /// <summary>
    /// Hands every data change of <paramref name="message"/> to the callback, then returns the pooled buffers of its
    /// DataChangeNotifications (the message is empty afterwards).
    /// </summary>
    internal void Deliver(NotificationMessage message)
    {
        foreach (var data in message.NotificationData ?? [])
        {
            if (data?.Body is not DataChangeNotification change)
                continue;
            Deliver(change.Values);
            change.ReleaseValues();
        }
    }

    private void Deliver(ReadOnlySpan<MonitoredItemValue> values)
    {
        var table = Volatile.Read(ref _table);
        var items = table.Items;
        foreach (ref readonly var n in values)
        {
            var slot = n.ClientHandle - 1;
            var item = slot < (uint)items.Length ? Volatile.Read(ref items[slot]) : null;
            if (item is null)
            {
                Interlocked.Increment(ref _unknownHandles);
                continue;
            }

            var gap = false;
            if (Volatile.Read(ref _gapsPending) != 0 && Interlocked.Exchange(ref table.GapPending[slot], 0) != 0)
            {
                gap = true;
                Interlocked.Decrement(ref _gapsPending);
            }

            try
            {
                if (_handler is not null)
                    _handler(item, in n.Value, gap);
                else
                    _callback!(new UaDataChange(item.Request.NodeId, n.Value.ToDataValue(), gap));
            }
            catch (Exception)
            {
                // A failing consumer must not stop the notification thread or cost the other items their values.
                Interlocked.Increment(ref _callbackErrors);
            }
        }
    }
}
