using EdgeCollector.OpcUa.Encoding;
using EdgeCollector.OpcUa.Messages;

namespace EdgeCollector.OpcUa.Server;

/// <summary>A monitored item on the server (OPC 10000-4 §5.12): filter, queue and last reported value.</summary>
internal sealed class UaServerMonitoredItem
{
    private readonly Queue<DataValue> _queue = new();
    private DataValue? _lastReported;

    public UaServerMonitoredItem(uint id, UaVariableNode? node, ReadValueId itemToMonitor, MonitoringParameters parameters, TimestampsToReturn timestamps, DataChangeFilter? filter, double samplingInterval)
    {
        Id = id;
        Node = node;
        ItemToMonitor = itemToMonitor;
        ClientHandle = parameters.ClientHandle;
        QueueSize = Math.Max(1u, Math.Min(parameters.QueueSize, 1000u));
        DiscardOldest = parameters.DiscardOldest;
        Timestamps = timestamps;
        Filter = filter;
        SamplingInterval = samplingInterval;
    }

    public uint Id { get; }

    public UaVariableNode? Node { get; }

    public ReadValueId ItemToMonitor { get; }

    public uint ClientHandle { get; }

    public uint QueueSize { get; }

    public bool DiscardOldest { get; }

    public TimestampsToReturn Timestamps { get; }

    public DataChangeFilter? Filter { get; }

    public double SamplingInterval { get; }

    public MonitoringMode Mode { get; set; } = MonitoringMode.Reporting;

    /// <summary>Offers a sampled value; queued when it passes the filter (call under the session gate).</summary>
    public void Offer(DataValue value, bool force = false)
    {
        if (Mode == MonitoringMode.Disabled)
            return;
        if (!force && _lastReported is not null && !Passes(_lastReported, value))
            return;
        _lastReported = value;
        if (_queue.Count >= QueueSize)
        {
            if (DiscardOldest)
                _queue.Dequeue();
            else
                return;
        }

        _queue.Enqueue(value);
    }

    public void Drain(List<MonitoredItemNotification> into)
    {
        if (Mode != MonitoringMode.Reporting)
            return;
        while (_queue.TryDequeue(out var value))
            into.Add(new MonitoredItemNotification { ClientHandle = ClientHandle, Value = value });
    }

    // DataChangeFilter (OPC 10000-4 §7.22.2): the trigger decides which fields count, the deadband how far a
    // numeric value must move from the last reported one.
    private bool Passes(DataValue last, DataValue next)
    {
        var trigger = Filter?.Trigger ?? DataChangeTrigger.StatusValue;
        if (last.Status != next.Status)
            return true;
        if (trigger == DataChangeTrigger.Status)
            return false;
        if (trigger == DataChangeTrigger.StatusValueTimestamp && last.SourceTimestamp != next.SourceTimestamp)
            return true;
        var deadband = (DeadbandType)(Filter?.DeadbandType ?? 0);
        if (deadband == DeadbandType.None)
            return !last.Value.Equals(next.Value);
        var a = last.Value.AsDouble();
        var b = next.Value.AsDouble();
        if (a is null || b is null)
            return !last.Value.Equals(next.Value);
        var limit = Filter!.DeadbandValue;
        if (deadband == DeadbandType.Percent && Node?.EuRange is { } range)
            limit = Filter.DeadbandValue / 100.0 * (range.High - range.Low);
        return Math.Abs(b.Value - a.Value) > limit;
    }
}

/// <summary>A subscription on the server (OPC 10000-4 §5.13): publishing timer, keep-alive and lifetime counters, retransmission queue.</summary>
internal sealed class UaServerSubscription
{
    private readonly Dictionary<uint, UaServerMonitoredItem> _items = [];
    private readonly LinkedList<NotificationMessage> _retransmission = new();
    private readonly List<MonitoredItemNotification> _pending = [];
    private uint _nextSequenceNumber = 1;
    private uint _keepAliveCounter;
    private uint _lifetimeCounter;
    private bool _sentFirstMessage;

    public UaServerSubscription(uint id, UaServerSession session)
    {
        Id = id;
        Session = session;
    }

    public uint Id { get; }

    public UaServerSession Session { get; set; }

    public double PublishingInterval { get; set; }

    public uint MaxKeepAliveCount { get; set; }

    public uint LifetimeCount { get; set; }

    public uint MaxNotificationsPerPublish { get; set; }

    public bool PublishingEnabled { get; set; } = true;

    public bool Expired { get; private set; }

    public CancellationTokenSource Stop { get; } = new();

    public IEnumerable<UaServerMonitoredItem> Items => _items.Values;

    public void Add(UaServerMonitoredItem item) => _items[item.Id] = item;

    public bool Remove(uint id, out UaServerMonitoredItem? item) => _items.Remove(id, out item);

    public uint[] AvailableSequenceNumbers => _retransmission.Select(m => m.SequenceNumber).ToArray();

    /// <summary>Removes an acknowledged message from the retransmission queue.</summary>
    public bool Acknowledge(uint sequenceNumber)
    {
        for (var node = _retransmission.First; node is not null; node = node.Next)
        {
            if (node.Value.SequenceNumber == sequenceNumber)
            {
                _retransmission.Remove(node);
                return true;
            }
        }

        return false;
    }

    public NotificationMessage? Find(uint sequenceNumber) => _retransmission.FirstOrDefault(m => m.SequenceNumber == sequenceNumber);

    public void ResetLifetime() => _lifetimeCounter = 0;

    /// <summary>
    /// One publishing cycle (call under the session gate): sample computed values, collect notifications and
    /// answer a parked Publish with data, or with a keep-alive after MaxKeepAliveCount empty cycles
    /// (OPC 10000-4 §5.13.1.1 state table). Returns the response to send, if any.
    /// </summary>
    public (PendingPublish Publish, PublishResponse Response)? Tick()
    {
        foreach (var item in _items.Values)
        {
            if (item.Node?.Getter is not null)
                item.Offer(item.Node.Value);
            item.Drain(_pending);
        }

        var hasData = PublishingEnabled && _pending.Count > 0;
        if (hasData || !_sentFirstMessage || ++_keepAliveCounter >= MaxKeepAliveCount)
        {
            if (Session.TryDequeuePublish(out var publish))
            {
                _lifetimeCounter = 0;
                _keepAliveCounter = 0;
                _sentFirstMessage = true;
                return (publish, BuildResponse(publish, hasData));
            }

            if (++_lifetimeCounter >= LifetimeCount)
                Expired = true;
        }

        return null;
    }

    /// <summary>Answers a newly parked Publish at once when notifications are waiting (late state).</summary>
    public (PendingPublish Publish, PublishResponse Response)? TryPublishLate()
    {
        if (!PublishingEnabled || _pending.Count == 0 || !Session.TryDequeuePublish(out var publish))
            return null;
        _lifetimeCounter = 0;
        _keepAliveCounter = 0;
        _sentFirstMessage = true;
        return (publish, BuildResponse(publish, true));
    }

    private PublishResponse BuildResponse(PendingPublish publish, bool withData)
    {
        NotificationMessage message;
        var more = false;
        if (withData)
        {
            var count = MaxNotificationsPerPublish == 0 ? _pending.Count : (int)Math.Min(MaxNotificationsPerPublish, (uint)_pending.Count);
            var batch = _pending.GetRange(0, count);
            _pending.RemoveRange(0, count);
            more = _pending.Count > 0;
            message = new NotificationMessage
            {
                SequenceNumber = _nextSequenceNumber,
                PublishTime = DateTime.UtcNow,
                NotificationData = [new ExtensionObject(new DataChangeNotification { MonitoredItems = batch.ToArray() })],
            };
            _nextSequenceNumber = _nextSequenceNumber == uint.MaxValue ? 1 : _nextSequenceNumber + 1;
            _retransmission.AddLast(message);
            while (_retransmission.Count > 20)
                _retransmission.RemoveFirst();
        }
        else
        {
            // A keep-alive carries the next sequence number without consuming it (OPC 10000-4 §5.13.1.1).
            message = new NotificationMessage { SequenceNumber = _nextSequenceNumber, PublishTime = DateTime.UtcNow, NotificationData = [] };
        }

        return new PublishResponse
        {
            ResponseHeader = new ResponseHeader { Timestamp = DateTime.UtcNow, RequestHandle = publish.Request.RequestHeader.RequestHandle },
            SubscriptionId = Id,
            AvailableSequenceNumbers = AvailableSequenceNumbers,
            MoreNotifications = more,
            NotificationMessage = message,
            Results = publish.AckResults,
        };
    }
}
