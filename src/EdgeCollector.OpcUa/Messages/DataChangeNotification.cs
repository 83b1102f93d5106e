using System.Buffers;
using EdgeCollector.OpcUa.Encoding;

namespace EdgeCollector.OpcUa.Messages;

/// <summary>One entry of a DataChangeNotification: the item's client handle and its value (OPC 10000-4 §7.25.2).</summary>
/// <param name="clientHandle">The handle the client gave the monitored item.</param>
/// <param name="value">The value.</param>
public readonly struct MonitoredItemValue(uint clientHandle, UaValue value)
{
    /// <summary>The handle the client gave the monitored item.</summary>
    public readonly uint ClientHandle = clientHandle;

    /// <summary>The value, decoded without allocating for scalar numbers (fields, so it can be passed on by reference).</summary>
    public readonly UaValue Value = value;
}

/// <summary>
/// DataChangeNotification (OPC 10000-4 §7.25.2; binary encoding i=811). Written by hand rather than generated:
/// decoding reads the MonitoredItems straight into <see cref="Values"/>, an array of structs rented from a pool,
/// without an object per item, per DataValue or per boxed number. <see cref="MonitoredItems"/> still gives the
/// usual classes (built on first use). The client returns the pooled array once the values are delivered
/// (<see cref="ReleaseValues"/>); after that the notification is empty.
/// </summary>
public sealed partial class DataChangeNotification : IUaEncodeable
{
    /// <summary>The binary encoding id of DataChangeNotification.</summary>
    public static readonly NodeId EncodingId = new(0, 811u);

    private MonitoredItemNotification[]? _items;
    private MonitoredItemValue[]? _values;
    private int _count = -1; // entries of _values in use; -1 = the array is null on the wire (or nothing decoded)
    private bool _pooled;

    /// <inheritdoc />
    public NodeId BinaryEncodingId => EncodingId;

    /// <summary>MonitoredItems, as classes (built from <see cref="Values"/> on first use after decoding).</summary>
    public MonitoredItemNotification[]? MonitoredItems
    {
        get
        {
            if (_items is null && _count >= 0)
            {
                var items = new MonitoredItemNotification[_count];
                for (var i = 0; i < items.Length; i++)
                    items[i] = new MonitoredItemNotification { ClientHandle = _values![i].ClientHandle, Value = _values[i].Value.ToDataValue() };
                _items = items;
            }

            return _items;
        }
        set
        {
            ReleaseValues();
            _items = value;
        }
    }

    /// <summary>MonitoredItems as structs, in wire order (empty for a null array).</summary>
    public ReadOnlySpan<MonitoredItemValue> Values
    {
        get
        {
            if (_count < 0 && _items is not null)
            {
                var values = new MonitoredItemValue[_items.Length];
                for (var i = 0; i < values.Length; i++)
                    values[i] = new MonitoredItemValue(_items[i].ClientHandle, UaValue.From(_items[i].Value));
                _values = values;
                _count = values.Length;
            }

            return _count <= 0 ? default : _values.AsSpan(0, _count);
        }
    }

    /// <summary>DiagnosticInfos.</summary>
    public DiagnosticInfo?[]? DiagnosticInfos { get; set; }

    /// <summary>Returns the pooled array behind <see cref="Values"/>; the notification is empty afterwards.</summary>
    public void ReleaseValues()
    {
        if (_pooled && _values is not null)
            ArrayPool<MonitoredItemValue>.Shared.Return(_values, clearArray: true);
        _pooled = false;
        _values = null;
        _count = -1;
    }

    /// <inheritdoc />
    public void Encode(UaBinaryWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteEncodeableArray(MonitoredItems);
        writer.WriteArray(DiagnosticInfos, static (w, v) => w.WriteDiagnosticInfo(v));
    }

    /// <inheritdoc />
    public void Decode(ref UaBinaryReader reader)
    {
        ReleaseValues();
        _items = null;
        var length = reader.ReadArrayLength("MonitoredItemNotification array");
        if (length >= 0)
        {
            // ReadArrayLength refused a count above MaxArrayLength or the bytes left, so this rent is bounded.
            var values = length == 0 ? [] : ArrayPool<MonitoredItemValue>.Shared.Rent(length);
            _pooled = length > 0;
            _values = values;
            for (var i = 0; i < length; i++)
            {
                var handle = reader.ReadUInt32();
                values[i] = new MonitoredItemValue(handle, reader.ReadUaValue());
            }

            _count = length;
        }

        DiagnosticInfos = reader.ReadArray(static (ref UaBinaryReader r) => r.ReadDiagnosticInfo());
    }
}
